"""State changes of OneRoster: a platform's grant. Atomic and audited."""

import re

from django.db import transaction

from akun.audit.api import Action, record
from akun.core import clock
from akun.oneroster.models import OrClient
from akun.roster.api import Sekolah
from akun.sso.api import ONEROSTER_SCOPES, Service, ServiceError, do_update_service

CORE = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly"
ROSTER = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly"
DEMOGRAPHICS = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-demographics.readonly"
assert {CORE, ROSTER, DEMOGRAPHICS} == set(ONEROSTER_SCOPES)

_NPSN = re.compile(r"[0-9A-Za-z]{8}")
_REGION = re.compile(r"[0-9]{2}|[0-9]{4}")


NATIONAL = "nasional"  # the whole country (a ministry platform)


def check_org(org: str) -> str:
    """An org a platform may be granted: an NPSN (8 characters) of a school in the roster,
    a province (2 digits) or regency/city (4 digits) that has schools, or `nasional`."""
    org = org.strip()
    if org == NATIONAL:
        return org
    if _REGION.fullmatch(org):
        if not Sekolah.objects.filter(kode_wilayah__startswith=org).exists():
            raise ServiceError(f"no school in the roster has region code {org}")
        return org
    if _NPSN.fullmatch(org):
        if not Sekolah.objects.filter(npsn=org).exists():
            raise ServiceError(f"no school in the roster has NPSN {org}")
        return org
    raise ServiceError(f"not an NPSN (8 characters) or a region code (2 or 4 digits): {org!r}")


@transaction.atomic
def do_grant_oneroster_access(
    svc: Service, orgs: list[str], *, demographics: bool = False, actor: str
) -> OrClient:
    """Let this service (an OAuth client with client credentials) read OneRoster for these
    orgs: its scopes get roster-core and roster (and demographics only when asked)."""
    app = svc.application
    if app is None or app.authorization_grant_type != "client-credentials":
        raise ServiceError("OneRoster needs a machine service: --kind machine")
    orgs = sorted({check_org(o) for o in orgs})
    if not orgs:
        raise ServiceError("at least one --oneroster-org NPSN|KODE_WILAYAH")
    wanted = {CORE, ROSTER} | ({DEMOGRAPHICS} if demographics else set())
    keep = svc.scopes - set(ONEROSTER_SCOPES) - {"openid", "profile", "email"}
    do_update_service(svc, scopes=" ".join(sorted(keep | wanted)), actor=actor)
    client, _ = OrClient.objects.update_or_create(
        client_id=app.client_id,
        defaults={
            "orgs": orgs,
            "demographics": demographics,
            "created_at": clock.now(),
            "created_by": actor,
        },
    )
    record(
        Action.ONEROSTER_GRANT_ACCESS,
        actor=actor,
        object_type="oneroster_access",  # of the service `object_id`
        object_id=svc.slug,
        after={"client_id": app.client_id, "orgs": orgs, "demographics": demographics},
    )
    return client
