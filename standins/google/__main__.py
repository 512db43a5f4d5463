"""python -m standins.google --port P [--quota-per-minute N] [--faults SPEC] --public-key FILE"""

import argparse
import signal
import sys
import threading

from standins.google.server import DEFAULT_SCOPES, Faults, GoogleStandin


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m standins.google", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument(
        "--public-key",
        nargs="+",
        action="extend",
        required=True,
        metavar="FILE",
        help="PEM public key or certificate of a service account (repeatable)",
    )
    ap.add_argument(
        "--client-email",
        action="append",
        default=[],
        help="service-account e-mail allowed as `iss` (default: any)",
    )
    ap.add_argument(
        "--domain",
        default="belajar.test",
        help="the Workspace primary domain; its subdomains are secondary domains",
    )
    ap.add_argument("--customer-id", default="C03az79cb")
    ap.add_argument(
        "--admin",
        action="append",
        default=[],
        help="a delegated admin that `sub` may name (default: admin@DOMAIN)",
    )
    ap.add_argument(
        "--scope",
        action="append",
        default=[],
        help="a scope granted by domain-wide delegation (default: user, orgunit "
        "and userschema, read-write and read-only)",
    )
    ap.add_argument("--quota-per-minute", type=int, default=None)
    ap.add_argument(
        "--faults",
        default=None,
        help="e.g. backend=0.05,timeout=next:2,timeout_seconds=5 (kinds: "
        "backend quota timeout drop_before drop_after drop_mid)",
    )
    ap.add_argument("--token-lifetime", type=int, default=3599)
    args = ap.parse_args(argv)
    try:
        Faults.parse(args.faults)
    except ValueError as e:
        ap.error(str(e))
    keys = []
    for path in args.public_key:
        with open(path, "rb") as f:
            keys.append(f.read())
    standin = GoogleStandin(
        keys,
        domain=args.domain,
        customer_id=args.customer_id,
        admins=args.admin or None,
        client_emails=args.client_email or None,
        authorized_scopes=frozenset(args.scope) or DEFAULT_SCOPES,
        quota_per_minute=args.quota_per_minute,
        faults=args.faults,
        token_lifetime=args.token_lifetime,
    )
    standin.start(args.host, args.port)
    print(f"google stand-in listening on {standin.url}", flush=True)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
