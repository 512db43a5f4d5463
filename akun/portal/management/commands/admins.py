"""`akun admins`: regional and national admin accounts of the operator portal.

akun admins create --region 3204 --name "Dinas Pendidikan Kab. Bandung" [--by USER_ID]
akun admins list
akun admins reset-2fa USER_ID --reason "lost phone"
akun admins reset-password USER_ID --by ADMIN_USER_ID [--reason "..."]
                                (the portal's reset and its rules: who may reset whom)
akun admins totp USER_ID        (development/demo only: the current 6-digit code)
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, no_translations

from akun.accounts.api import Account, TransitionNotAllowed
from akun.portal import actions, reset_policy, totp
from akun.portal.models import AdminScope
from akun.portal.scope import is_admin


def _account(user_id: str) -> Account:
    account = Account.objects.filter(user_id=user_id.strip().lower()).first()
    if account is None:
        raise CommandError(f"no account {user_id}")
    return account


class Command(BaseCommand):
    help = "Regional and national admins of the operator portal."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        c = sub.add_parser("create", help="a dinas (regional) or national admin account")
        c.add_argument(
            "--region",
            required=True,
            help="nasional, 2-digit province or 4-digit regency/city code",
        )
        c.add_argument("--name", required=True, help="the admin's name (gives the user ID)")
        c.add_argument(
            "--by", default="", help="user ID of the admin delegating (must cover the region)"
        )
        c.add_argument("--actor", default="cli", help="who runs this, for the audit log")
        c.add_argument("--reason", default="")
        sub.add_parser("list", help="admin accounts and their regions")
        r = sub.add_parser("reset-2fa", help="remove an admin's authenticator and recovery codes")
        r.add_argument("user_id")
        r.add_argument("--reason", required=True)
        r.add_argument("--actor", default="cli")
        p = sub.add_parser(
            "reset-password",
            help="a new initial password, as the admin --by may in the portal (printed once)",
        )
        p.add_argument("user_id")
        p.add_argument("--by", required=True, help="user ID of the admin who resets")
        p.add_argument(
            "--reason", default="", help="why (required for a head of school or an operator)"
        )
        t = sub.add_parser("totp", help="the current TOTP code of an admin (demo only)")
        t.add_argument("user_id")

    @no_translations  # operator output in English, like the rest of the CLI
    def handle(self, *args, **opts):
        getattr(self, "do_" + opts["action"].replace("-", "_"))(opts)

    def do_create(self, opts):
        granted_by = _account(opts["by"]) if opts["by"] else None
        actor = granted_by.user_id if granted_by else opts["actor"]
        try:
            account, password = actions.do_create_admin(
                nama=opts["name"],
                region=opts["region"],
                actor=actor,
                granted_by=granted_by,
                reason=opts["reason"],
            )
        except actions.AdminError as e:
            raise CommandError(str(e)) from e
        scope = AdminScope.objects.get(account=account)
        self.stdout.write(f"user ID           {account.user_id}")
        self.stdout.write(f"initial password  {password}")
        self.stdout.write(f"region            {scope.kode_wilayah or 'nasional'} ({scope.level})")
        self.stdout.write(
            "Hand these over privately. At the first sign-in the admin accepts the terms, "
            "chooses a password and sets up an authenticator app."
        )

    def do_list(self, opts):
        rows = AdminScope.objects.select_related("account").order_by("level", "kode_wilayah")
        for s in rows:
            region = s.kode_wilayah or s.npsn or "nasional"
            self.stdout.write(f"{s.account.user_id}\t{s.level}\t{region}\t{s.account.state}")

    def do_reset_2fa(self, opts):
        account = _account(opts["user_id"])
        password = totp.do_reset_totp(account, actor=opts["actor"], reason=opts["reason"])
        self.stdout.write(
            f"{account.user_id}: new initial password (shown once, give it to the person "
            f"yourself): {password}\nAt the first sign-in with it they choose a password and "
            "set up a new authenticator."
        )

    def do_reset_password(self, opts):
        by = _account(opts["by"])
        if not is_admin(by):
            raise CommandError(f"{by.user_id} is not an admin of the operator portal")
        account = _account(opts["user_id"])
        try:
            password = actions.do_reset_password(account, by=by, reason=opts["reason"], via="cli")
        except reset_policy.BadReason as e:
            raise CommandError(f"--reason: {e}") from e
        except reset_policy.ResetRefused as e:
            raise CommandError(f"{by.user_id} may not reset {account.user_id}: {e}") from e
        except TransitionNotAllowed as e:
            raise CommandError(f"{account.user_id}: {e}") from e
        self.stdout.write(f"user ID           {account.user_id}")
        self.stdout.write(f"initial password  {password}")
        self.stdout.write("Shown once (and in the school's next download until activation).")

    def do_totp(self, opts):
        if settings.PRODUCTION:
            raise CommandError("not available with AKUN_ENV=production")
        account = _account(opts["user_id"])
        device = totp.device_of(account)
        if device is None:
            raise CommandError(
                f"{account.user_id} has no authenticator yet: sign in first (the setup page "
                "makes one), then run this again"
            )
        self.stdout.write(totp.current_code(account))
