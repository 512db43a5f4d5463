"""`akun provision ...`: the outside directories Akun keeps in step.

h4 brings `google sso-settings` only; h3's engine brings targets|status|run|retry|reconcile
into this command (at the merge: keep h3's file and add the `google` sub-command and
do_google from here)."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from akun.provisioning.models import Target
from akun.provisioning.sso_profiles import sso_profile


class Command(BaseCommand):
    help = "Provisioning of outside directories (Google Workspace): google sso-settings."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        google = sub.add_parser("google", help="Google Workspace")
        gsub = google.add_subparsers(dest="google_action", required=True)
        sso = gsub.add_parser(
            "sso-settings",
            help="register Google as a SAML service and print what goes in the Admin console",
        )
        sso.add_argument("--domain", help="the Workspace domain (default: the google target's)")
        sso.add_argument(
            "--base-url", help="Akun's public URL (default: the AKUN_SSO_ISSUER setting)"
        )
        sso.add_argument(
            "--no-domain-specific-issuer",
            action="store_true",
            help="Google's issuer is plain google.com (one domain and one Akun only)",
        )
        sso.add_argument(
            "--google-url",
            default="https://www.google.com",
            help="where Google's ACS lives (a stand-in of Google in tests)",
        )
        sso.add_argument("--json", action="store_true", help="the values as JSON")
        sso.add_argument("--actor", default="cli")

    def handle(self, *args, **o):
        if o["action"] == "google" and o["google_action"] == "sso-settings":
            return self.do_google_sso_settings(o)
        raise CommandError("unknown action")  # pragma: no cover - argparse refuses first

    def do_google_sso_settings(self, o):
        domain = o["domain"]
        if not domain:
            targets = Target.objects.filter(kind=Target.Kind.GOOGLE, enabled=True)
            domains = sorted({(t.config or {}).get("domain", "") for t in targets} - {""})
            if len(domains) != 1:
                raise CommandError(
                    "give --domain (the enabled google targets name "
                    f"{len(domains)} domains: {', '.join(domains) or 'none'})"
                )
            domain = domains[0]
        base = o["base_url"] or settings.OAUTH2_PROVIDER.get("OIDC_ISS_ENDPOINT", "")
        if not base:
            raise CommandError("give --base-url (Akun's public URL) or set AKUN_SSO_ISSUER")
        profile = sso_profile("google")
        if profile is None:
            raise CommandError("single sign-on (akun.sso) is not installed")
        try:
            values, text = profile(
                base,
                domain,
                domain_specific=not o["no_domain_specific_issuer"],
                actor=o["actor"],
                google=o["google_url"],
            )
        except ValueError as e:
            raise CommandError(str(e)) from e
        if o["json"]:
            self.stdout.write(json.dumps(values, ensure_ascii=False))
        else:
            self.stdout.write(text, ending="")
