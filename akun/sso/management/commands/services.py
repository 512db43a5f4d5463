"""`akun services add|list|show|update|disable|enable`: the learning services that sign in
with Akun (OpenID Connect clients and SAML service providers)."""

import datetime as dt
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from akun.core import clock
from akun.sso import actions
from akun.sso.extensions import service_options
from akun.sso.models import Service
from akun.sso.saml import SamlError


class Command(BaseCommand):
    help = "Register and manage learning services (OpenID Connect and SAML)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="register a service")
        add.add_argument("name")
        add.add_argument("--protocol", choices=["oidc", "saml"], default="oidc")
        add.add_argument(
            "--kind",
            choices=list(actions.KINDS),
            default="web",
            help="web (confidential), public (PKCE), machine (client credentials)",
        )
        add.add_argument("--slug", default="")
        add.add_argument("--redirect-uri", action="append", default=[], dest="redirect_uris")
        add.add_argument("--post-logout-uri", action="append", default=[], dest="logout_uris")
        add.add_argument("--scopes", default="openid profile email")
        add.add_argument("--personal", default="", help="comma-separated: nisn,nuptk,birthdate")
        # Unset: OpenID Connect services default to third-party, SAML ones to first-party.
        party = add.add_mutually_exclusive_group()
        party.add_argument(
            "--first-party",
            action="store_const",
            const=True,
            dest="first_party",
            help="no consent screen (the default for SAML)",
        )
        party.add_argument(
            "--third-party",
            action="store_const",
            const=False,
            dest="first_party",
            help="consent screen, remembered and revocable (the default for OpenID Connect)",
        )
        add.add_argument("--require-pkce", action="store_true")
        add.add_argument(
            "--introspect",
            action="store_true",
            help="a resource server: may ask the introspection endpoint about any token",
        )
        add.add_argument("--saml-metadata", help="file with the service provider's metadata")
        add.add_argument("--attributes", help='JSON {"SAML attribute": "claim"}')
        self._saml_options(add)
        for option in service_options():  # other apps' options (akun.sso.extensions)
            option.add_arguments(add)
        add.add_argument("--actor", default="cli")
        add.add_argument("--json", action="store_true", help="print the result as JSON")

        sub.add_parser("list", help="list services")
        show = sub.add_parser("show")
        show.add_argument("slug")

        upd = sub.add_parser("update", help="change a service")
        upd.add_argument("slug")
        upd.add_argument("--name")
        upd.add_argument("--redirect-uri", action="append", dest="redirect_uris")
        upd.add_argument("--scopes")
        upd.add_argument("--personal")
        upd.add_argument("--first-party", choices=["yes", "no"])
        upd.add_argument("--attributes")
        upd.add_argument("--saml-metadata", help="new metadata of the same service provider")
        self._saml_options(upd)
        upd.add_argument("--introspect", choices=["yes", "no"])
        upd.add_argument("--actor", default="cli")
        for verb in ("disable", "enable"):
            p = sub.add_parser(verb)
            p.add_argument("slug")
            p.add_argument("--actor", default="cli")

    @staticmethod
    def _saml_options(parser):
        parser.add_argument(
            "--signed-requests",
            choices=["required", "optional"],
            help="SAML: must its AuthnRequests be signed (default: what its metadata says)",
        )
        parser.add_argument(
            "--legacy-sha1",
            choices=["yes", "no"],
            nargs="?",
            const="yes",
            help="SAML: accept its requests signed with SHA-1 (refused otherwise)",
        )
        parser.add_argument(
            "--attribute-format",
            choices=["basic", "uri", "unspecified"],
            help="SAML: NameFormat of attributes its metadata requests none for "
            "(default: basic, uri for URNs and URLs)",
        )

    @staticmethod
    def _signed(o):
        return None if o["signed_requests"] is None else o["signed_requests"] == "required"

    def _warn_expiry(self, svc):
        until = svc.saml_metadata_valid_until
        if until is not None:
            self.stderr.write(
                f"WARNING: the SAML metadata of {svc.slug} expires at {_stamp(until)} (its "
                "validUntil). After that nobody can sign in to it with Akun until new metadata "
                f"is registered: akun services update {svc.slug} --saml-metadata FILE"
            )

    def handle(self, *args, **o):
        try:
            getattr(self, f"do_{o['action']}")(o)
        except (actions.ServiceError, SamlError, Service.DoesNotExist, OSError, ValueError) as e:
            raise CommandError(str(e)) from e

    @staticmethod
    def _personal(text):
        return [p.strip() for p in (text or "").split(",") if p.strip()]

    def do_add(self, o):
        # The service and what other apps grant it (akun.sso.extensions): both or neither.
        with transaction.atomic():
            svc, secret = self._add(o)
            extra = {}
            for option in service_options():
                extra.update(option.after_add(svc, o, o["actor"]) or {})
        out = {"slug": svc.slug, "protocol": svc.protocol, "id": svc.service_id, **extra}
        if secret:
            out["client_secret"] = secret
        if o["json"]:
            self.stdout.write(json.dumps(out))
            return
        self.stdout.write(self.style.SUCCESS(f"Registered {svc.name} ({svc.slug})"))
        label = "entity ID" if svc.protocol == "saml" else "client ID"
        self.stdout.write(f"  {label}: {svc.service_id}")
        if secret:
            self.stdout.write(f"  client secret (shown once): {secret}")
        for key, value in extra.items():
            self.stdout.write(f"  {key}: {value}")

    def _add(self, o):
        if o["protocol"] == "saml":
            if not o["saml_metadata"]:
                raise CommandError("--saml-metadata FILE is needed for a SAML service")
            svc = actions.do_add_saml_service(
                o["name"],
                metadata_xml=Path(o["saml_metadata"]).read_text(),
                attributes=json.loads(o["attributes"]) if o["attributes"] else None,
                first_party=o["first_party"] is not False,
                personal_claims=self._personal(o["personal"]),
                slug=o["slug"],
                requests_signed=self._signed(o),
                legacy_sha1=o["legacy_sha1"] == "yes",
                attribute_format=o["attribute_format"] or "",
                actor=o["actor"],
            )
            self._warn_expiry(svc)
            secret = ""
        else:
            svc, secret = actions.do_add_oidc_service(
                o["name"],
                kind=o["kind"],
                redirect_uris=o["redirect_uris"],
                post_logout_redirect_uris=o["logout_uris"],
                scopes=o["scopes"],
                first_party=bool(o["first_party"]),
                personal_claims=self._personal(o["personal"]),
                require_pkce=o["require_pkce"],
                may_introspect=o["introspect"],
                slug=o["slug"],
                actor=o["actor"],
            )
        return svc, secret

    def do_list(self, o):
        now = clock.now()
        for s in Service.objects.select_related("application").order_by("slug"):
            state = "active" if s.active else "disabled"
            if s.active and s.saml_metadata_expired(now):
                state = "expired"  # nobody can sign in to it until new metadata is registered
            party = "first-party" if s.first_party else "third-party"
            personal = " +" + ",".join(s.personal_claims) if s.personal_claims else ""
            until = s.saml_metadata_valid_until
            expiry = ""
            if until is not None:
                expiry = f"  {'expired' if until <= now else 'expires'} {_stamp(until)}"
            personal += " introspect" if s.may_introspect else ""
            self.stdout.write(
                f"{s.slug:<24} {s.protocol:<5} {state:<8} {party:<11} {s.service_id}  "
                f"[{s.allowed_scopes}{personal}]{expiry}"
            )

    def do_show(self, o):
        s = Service.objects.select_related("application").get(slug=o["slug"])
        data = actions._snapshot(s)
        data["id"] = s.service_id
        self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))

    def do_update(self, o):
        s = Service.objects.get(slug=o["slug"])
        actions.do_update_service(
            s,
            actor=o["actor"],
            name=o["name"],
            redirect_uris=o["redirect_uris"],
            scopes=o["scopes"],
            personal_claims=self._personal(o["personal"]) if o["personal"] is not None else None,
            first_party=None if o["first_party"] is None else o["first_party"] == "yes",
            saml_attributes=json.loads(o["attributes"]) if o["attributes"] else None,
            saml_metadata=(Path(o["saml_metadata"]).read_text() if o["saml_metadata"] else None),
            saml_requests_signed=self._signed(o),
            saml_legacy_sha1=None if o["legacy_sha1"] is None else o["legacy_sha1"] == "yes",
            saml_attribute_format=o["attribute_format"],
            may_introspect=None if o["introspect"] is None else o["introspect"] == "yes",
        )
        s.refresh_from_db()
        if o["saml_metadata"]:
            self._warn_expiry(s)
        self.stdout.write(self.style.SUCCESS(f"Updated {s.slug}"))

    def do_disable(self, o):
        s = Service.objects.get(slug=o["slug"])
        actions.do_update_service(s, active=False, actor=o["actor"])
        self.stdout.write(self.style.SUCCESS(f"Disabled {s.slug}; its tokens are revoked"))

    def do_enable(self, o):
        s = Service.objects.get(slug=o["slug"])
        actions.do_update_service(s, active=True, actor=o["actor"])
        self.stdout.write(self.style.SUCCESS(f"Enabled {s.slug}"))


def _stamp(when) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")
