"""`akun secrets generate`: a fresh AKUN_SECRET_KEY and encryption key.

`akun secrets reencrypt`: after a new key was put first in AKUN_ENCRYPTION_KEYS, move
every secret at rest under it -- initial passwords, TOTP secrets, SSO signing keys -- so
that the older keys can be removed from the list."""

from django.core.management.base import BaseCommand

from akun.core import crypto, keys


def generated_lines() -> str:
    """Also printed by akun.cli before Django starts: settings refusing weak keys would
    otherwise stop the very command that makes good ones."""
    return (
        "# Fresh secrets (to rotate the encryption key, put the new one first in the list,\n"
        "# keep the old ones after it and run `akun secrets reencrypt`).\n"
        f"AKUN_SECRET_KEY={keys.generate_secret_key()}\n"
        f"AKUN_ENCRYPTION_KEYS={keys.generate_encryption_key()}\n"
    )


class Command(BaseCommand):
    help = "Secrets: generate (fresh keys), reencrypt (under the first of AKUN_ENCRYPTION_KEYS)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("generate", help="print a fresh secret key and encryption key")
        enc = sub.add_parser("reencrypt", help="move every secret under the first key")
        enc.add_argument("--actor", default="cli")
        enc.add_argument("--batch", type=int, default=20_000, help="accounts per transaction")

    def handle(self, *args, **o):
        if o["action"] == "generate":
            self.stdout.write(generated_lines(), ending="")
            return
        from akun.accounts.api import do_reencrypt_initial_passwords
        from akun.portal.api import do_reencrypt_totp_secrets
        from akun.provisioning.api import do_reencrypt_pending_passwords
        from akun.sso.api import do_reencrypt_signing_keys

        actor = o["actor"]
        kid = crypto.keys()[0][0].hex()
        self.stdout.write(f"Re-encrypting under key {kid} (the first of AKUN_ENCRYPTION_KEYS):")
        n = do_reencrypt_initial_passwords(actor=actor, batch_rows=o["batch"])
        self.stdout.write(f"  initial passwords  {n:,}")
        n = do_reencrypt_totp_secrets(actor=actor)
        self.stdout.write(f"  TOTP secrets       {n:,}")
        n = len(do_reencrypt_signing_keys(actor=actor))
        self.stdout.write(f"  SSO signing keys   {n:,}")
        n = do_reencrypt_pending_passwords(actor=actor)
        self.stdout.write(f"  unsent passwords   {n:,}")
        self.stdout.write(
            self.style.SUCCESS("Done: keys after the first may be removed from the list.")
        )
