"""`akun sso rotate-key`, `akun sso keys` and `akun sso keys reencrypt`: the keys that sign ID
tokens and assertions."""

from django.core.management.base import BaseCommand

from akun.core import clock
from akun.sso import actions, keys
from akun.sso.models import SigningKey


class Command(BaseCommand):
    help = "Single sign-on keys: rotate-key, keys, keys reencrypt."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        rot = sub.add_parser("rotate-key", help="a new signing key; old ones stay published")
        rot.add_argument(
            "--publish-seconds",
            type=int,
            default=None,
            help="how long the old key stays published (default: the ID-token lifetime)",
        )
        rot.add_argument("--actor", default="cli")
        lst = sub.add_parser("keys", help="list signing keys")
        keys_sub = lst.add_subparsers(dest="keys_action")
        enc = keys_sub.add_parser(
            "reencrypt",
            help="encrypt the stored private keys under the first of AKUN_ENCRYPTION_KEYS",
        )
        enc.add_argument("--actor", default="cli")

    def handle(self, *args, **o):
        if o["action"] == "rotate-key":
            new, retired = actions.do_rotate_key(
                actor=o["actor"], publish_seconds=o["publish_seconds"]
            )
            self.stdout.write(self.style.SUCCESS(f"New signing key {new.kid}"))
            for k in retired:
                self.stdout.write(
                    f"  retired {k.kid}, published until {k.publish_until:%Y-%m-%d %H:%M:%S%z}"
                )
            return
        if o.get("keys_action") == "reencrypt":
            done = keys.do_reencrypt_signing_keys(actor=o["actor"])
            self.stdout.write(self.style.SUCCESS(f"{len(done)} signing keys re-encrypted"))
            for kid in done:
                self.stdout.write(f"  {kid}")
            return
        keys.ensure_key()
        now = clock.now()
        for k in SigningKey.objects.order_by("-created_at"):
            if k.retired_at is None:
                state = "signing"
            elif k.publish_until and k.publish_until > now:
                state = f"published until {k.publish_until:%Y-%m-%d %H:%M}"
            else:
                state = "unpublished"
            self.stdout.write(f"{k.kid}  created {k.created_at:%Y-%m-%d %H:%M}  {state}")
