"""Google Workspace's third-party SSO profile: Akun is the SAML identity provider, Google the
service provider. Google publishes no SP metadata; what it does, as its documentation says:

- its entity ID is `google.com`, or `google.com/a/<domain>` when the admin ticks "use a
  domain-specific issuer" (needed for more than one domain or Akun instance);
- its assertion consumer service is `https://www.google.com/a/<domain>/acs` (HTTP-POST);
- its AuthnRequests are unsigned (HTTP-Redirect); it accepts a signed response;
- the NameID is the user's primary e-mail (Akun's user ID), format unspecified or
  emailAddress.

So Akun registers Google as a SAML service from metadata it writes here, first-party (no
consent screen), releasing only the e-mail. Everything else -- the signature, who may sign
in (a suspended or deactivated account may not), the consent rules -- is the SAML
identity provider's as for any service (akun.sso.saml)."""

import re
from xml.etree import ElementTree

from django.db import transaction
from saml2 import BINDING_HTTP_POST
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_UNSPECIFIED

from akun.sso import actions, keys
from akun.sso.models import Service
from akun.sso.saml import MD_NS, SAMLP_NS

GOOGLE = "https://www.google.com"
# A DNS name, as Google Workspace domains are: labels of letters, digits and hyphens.
DOMAIN = re.compile(r"^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
ATTRIBUTES = {"email": "email"}  # Google reads only the NameID; the e-mail is harmless


class GoogleProfileError(ValueError):
    pass


def clean_domain(domain: str) -> str:
    d = (domain or "").strip().lower().rstrip(".")
    if not DOMAIN.match(d):
        raise GoogleProfileError(f"not a Google Workspace domain name: {domain!r}")
    return d


def entity_id(domain: str, *, domain_specific: bool = True) -> str:
    return f"google.com/a/{clean_domain(domain)}" if domain_specific else "google.com"


def acs_url(domain: str, *, google: str = GOOGLE) -> str:
    return f"{google.rstrip('/')}/a/{clean_domain(domain)}/acs"


def sp_metadata(domain: str, *, domain_specific: bool = True, google: str = GOOGLE) -> str:
    """Google as a SAML service provider, in the metadata form Akun registers services by."""
    md = f"{{{MD_NS}}}"
    root = ElementTree.Element(
        f"{md}EntityDescriptor", entityID=entity_id(domain, domain_specific=domain_specific)
    )
    sp = ElementTree.SubElement(
        root,
        f"{md}SPSSODescriptor",
        AuthnRequestsSigned="false",
        WantAssertionsSigned="true",
        protocolSupportEnumeration=SAMLP_NS,
    )
    for fmt in (NAMEID_FORMAT_UNSPECIFIED, NAMEID_FORMAT_EMAILADDRESS):
        ElementTree.SubElement(sp, f"{md}NameIDFormat").text = fmt
    ElementTree.SubElement(
        sp,
        f"{md}AssertionConsumerService",
        Binding=BINDING_HTTP_POST,
        Location=acs_url(domain, google=google),
        index="0",
        isDefault="true",
    )
    return ElementTree.tostring(root, encoding="unicode")


@transaction.atomic
def do_register_google_profile(
    domain: str, *, actor: str, domain_specific: bool = True, google: str = GOOGLE
) -> tuple[Service, bool]:
    """Google for this domain as a SAML service (created, or its metadata brought up to
    date and enabled). Returns (service, created)."""
    domain = clean_domain(domain)
    metadata = sp_metadata(domain, domain_specific=domain_specific, google=google)
    eid = entity_id(domain, domain_specific=domain_specific)
    svc = Service.objects.filter(saml_entity_id=eid).first()
    if svc is None:
        svc = actions.do_add_saml_service(
            f"Google Workspace ({domain})",
            metadata_xml=metadata,
            attributes=dict(ATTRIBUTES),
            first_party=True,
            slug=f"google-{domain}",
            requests_signed=False,
            actor=actor,
        )
        return svc, True
    if svc.saml_metadata != metadata or not svc.active or svc.saml_attributes != ATTRIBUTES:
        svc = actions.do_update_service(
            svc, actor=actor, saml_metadata=metadata, saml_attributes=dict(ATTRIBUTES), active=True
        )
    return svc, False


def settings_for(
    base: str,
    domain: str,
    *,
    domain_specific: bool = True,
    actor: str = "cli",
    google: str = GOOGLE,
) -> dict:
    """Register Google for the domain, and what the admin enters in the Google Admin
    console's SSO profile (Security > Authentication > SSO with third-party IdP)."""
    base = base.rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise GoogleProfileError("the base URL must be Akun's public URL, https://...")
    svc, created = do_register_google_profile(
        domain, actor=actor, domain_specific=domain_specific, google=google
    )
    return {
        "domain": clean_domain(domain),
        "service": svc.slug,
        "created": created,
        "idp_entity_id": f"{base}/saml/metadata",
        "sign_in_url": f"{base}/saml/sso",
        "sign_out_url": f"{base}/saml/google/keluar",
        "change_password_url": f"{base}/akun-saya/kata-sandi",
        "domain_specific_issuer": domain_specific,
        "google_entity_id": svc.saml_entity_id,
        "acs_url": acs_url(domain, google=google),
        "certificate_pem": keys.keyset().current.certificate_pem.strip() + "\n",
    }


def settings_text(values: dict) -> str:
    """The console's fields, in its own words and order, ready to copy."""
    yes_no = "ON (ticked)" if values["domain_specific_issuer"] else "OFF (not ticked)"
    now = "registered now" if values["created"] else "already registered"
    lines = [
        f"Google Workspace SSO profile for {values['domain']} "
        f"(Akun service '{values['service']}', {now})",
        "",
        "Google Admin console > Security > Authentication > SSO with third-party IdP:",
        f"  IDP entity ID:                 {values['idp_entity_id']}",
        f"  Sign-in page URL:              {values['sign_in_url']}",
        f"  Sign-out page URL:             {values['sign_out_url']}",
        f"  Change password URL:           {values['change_password_url']}",
        f"  Use a domain-specific issuer:  {yes_no}",
        "  Verification certificate:      upload this PEM (save it as akun-saml.pem):",
        "",
        values["certificate_pem"].rstrip("\n"),
        "",
        f"Google signs in as SAML service {values['google_entity_id']}, answered at "
        f"{values['acs_url']}, NameID = the user ID (primary e-mail).",
        "After `akun sso rotate-key`, upload the new certificate at once: Google trusts one.",
    ]
    return "\n".join(lines) + "\n"


def google_profile(base: str, domain: str, **options) -> tuple[dict, str]:
    """What provisioning's `sso-settings` command calls (registered in SsoConfig.ready)."""
    values = settings_for(base, domain, **options)
    return values, settings_text(values)
