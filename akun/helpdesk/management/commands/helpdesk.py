"""akun helpdesk grant USER_ID --region 3204 [--by USER_ID] | mail-relay --port 2525 --url URL"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from akun.accounts.api import Account
from akun.helpdesk import actions


class Command(BaseCommand):
    help = "Butuh Bantuan: give the helpdesk role; run the inbound mail relay."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        g = sub.add_parser("grant", help="the helpdesk role in a region, for a dinas account")
        g.add_argument("user_id")
        g.add_argument("--region", required=True, help="nasional, 2 digits or 4 digits")
        g.add_argument("--by", default="", help="the granting agent (delegates within theirs)")
        r = sub.add_parser("mail-relay", help="SMTP in, posted to the inbound webhook")
        r.add_argument("--host", default="127.0.0.1")
        r.add_argument("--port", type=int, default=2525)
        r.add_argument(
            "--url", required=True, help="e.g. http://127.0.0.1:8000/bantuan/surel-masuk"
        )

    def handle(self, *args, **o):
        if o["what"] == "grant":
            account = Account.objects.filter(user_id=o["user_id"].strip().lower()).first()
            if account is None:
                raise CommandError(f"no account {o['user_id']}")
            by = None
            if o["by"]:
                by = Account.objects.filter(user_id=o["by"].strip().lower()).first()
                if by is None:
                    raise CommandError(f"no account {o['by']}")
            try:
                actions.do_grant_agent(
                    account, region=o["region"], actor=by.user_id if by else "cli", granted_by=by
                )
            except actions.HelpdeskError as e:
                raise CommandError(str(e)) from None
            self.stdout.write(f"{account.user_id}: helpdesk agent for {o['region']}")
            return
        secret = settings.AKUN_HELPDESK_INBOUND_SECRET
        if not secret:
            raise CommandError("set AKUN_HELPDESK_INBOUND_SECRET (the webhook's shared secret)")
        from akun.helpdesk.relay import controller

        c = controller(o["host"], o["port"], o["url"], secret)
        c.start()
        self.stdout.write(f"relaying SMTP {o['host']}:{o['port']} to {o['url']}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            c.stop()
