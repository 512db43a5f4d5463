"""`akun services add ... --oneroster-org NPSN|KODE_WILAYAH [--oneroster-demographics]`:
registered with sso's command at start-up (akun.sso.extensions)."""

from akun.sso.api import register_service_option


def _add_arguments(parser) -> None:
    parser.add_argument(
        "--oneroster-org",
        action="append",
        default=[],
        dest="oneroster_orgs",
        metavar="NPSN|KODE_WILAYAH",
        help="OneRoster: the school (NPSN), region (2 or 4 digits) or `nasional` this "
        "platform may read; repeatable (needs --kind machine)",
    )
    parser.add_argument(
        "--oneroster-demographics",
        action="store_true",
        help="OneRoster: also the demographics scope (birth date and sex; off by default)",
    )


def _after_add(svc, o, actor) -> dict:
    if not o.get("oneroster_orgs"):
        if o.get("oneroster_demographics"):
            raise ValueError("--oneroster-demographics needs --oneroster-org")
        return {}
    from akun.oneroster.actions import do_grant_oneroster_access

    client = do_grant_oneroster_access(
        svc, o["oneroster_orgs"], demographics=o["oneroster_demographics"], actor=actor
    )
    return {"oneroster_orgs": ",".join(client.orgs), "scopes": svc.allowed_scopes}


def connect() -> None:
    register_service_option(_add_arguments, _after_add)
