"""`akun demo`: a working Akun on SQLite in one command.

Migrates, generates a small synthetic roster, imports it, issues accounts, prints sign-ins to
try, and serves the site.
"""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Set up a demo platform (small synthetic roster) and serve it."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=0.0005)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="set up only")

    def handle(self, *args, **opts):
        call_command("migrate", verbosity=0)
        snapshot = settings.VAR_DIR / "demo-snapshot"
        if not (snapshot / "ptk.csv").exists():
            call_command(
                "roster",
                "generate",
                "--out",
                str(snapshot),
                "--scale",
                str(opts["scale"]),
                "--seed",
                str(opts["seed"]),
            )
        call_command("roster", "import", str(snapshot), "--actor", "demo")
        call_command("accounts", "issue")
        self.print_sign_ins()
        from akun.portal.api import demo_operator_sign_in

        self.stdout.write(demo_operator_sign_in())
        url = f"http://{opts['host']}:{opts['port']}/"
        if opts["no_serve"]:
            self.stdout.write(f"Ready. Start the site with: akun serve (then open {url})")
            return
        self.stdout.write(self.style.SUCCESS(f"Akun demo: open {url}"))
        call_command("serve", "--host", opts["host"], "--port", str(opts["port"]))

    def print_sign_ins(self):
        from akun.accounts.api import Account, get_initial_password

        self.stdout.write("Sign-ins to try (user ID / initial password):")
        for role, label in (
            (Account.Role.PESERTA_DIDIK, "student"),
            (Account.Role.PENDIDIK, "teacher"),
            (Account.Role.TENAGA_KEPENDIDIKAN, "school operator or head"),
        ):
            account = (
                Account.objects.filter(role=role, state=Account.State.ISSUED).order_by("id").first()
            )
            if account:
                school = account.sekolah.nama if account.sekolah_id else ""
                self.stdout.write(
                    f"  {label:<24} {account.user_id}  {get_initial_password(account)}  ({school})"
                )
