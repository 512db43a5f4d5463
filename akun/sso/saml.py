"""SAML 2.0 identity provider on pysaml2: metadata, signed responses and assertions, NameID =
the user ID, attributes mapped per service.

One pysaml2 Server per worker, rebuilt only when the SAML services, the signing keys or the
issuer change (its metadata store parses every service provider's metadata)."""

import base64
import re
import threading
from xml.etree import ElementTree

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.authn_context import PASSWORD
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import (
    NAME_FORMAT_BASIC,
    NAMEID_FORMAT_EMAILADDRESS,
    NAMEID_FORMAT_UNSPECIFIED,
    NameID,
)
from saml2.samlp import STATUS_REQUEST_DENIED
from saml2.server import Server

from akun.sso import claims, keys
from akun.sso.models import PERSONAL_CLAIMS, Service

XMLSEC = "/usr/bin/xmlsec1"
MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"
# SAML attribute name -> Akun claim, when a service registers no mapping of its own.
DEFAULT_ATTRIBUTES = {
    "email": "email",
    "name": "name",
    "role": "role",
    "jenjang": "jenjang",
    "schoolNpsn": "school_npsn",
    "schoolName": "school_name",
}
NAMEID_FORMATS = (NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_UNSPECIFIED)
SAML_SCOPES = {"openid", "profile", "email", "akun"}


class SamlError(ValueError):
    pass


def entity_id_of(metadata_xml: str) -> str:
    try:
        root = ElementTree.fromstring(metadata_xml)
    except ElementTree.ParseError as e:
        raise SamlError(f"the SAML metadata is not XML: {e}") from e
    if root.tag != f"{{{MD_NS}}}EntityDescriptor" or not root.get("entityID"):
        raise SamlError("the SAML metadata must be one md:EntityDescriptor with an entityID")
    if root.find(f"{{{MD_NS}}}SPSSODescriptor") is None:
        raise SamlError("the SAML metadata describes no service provider (SPSSODescriptor)")
    return root.get("entityID")


def check_attributes(mapping: dict) -> None:
    known = set(claims.CLAIM_SCOPE)
    bad = {c for c in mapping.values() if c not in known}
    if bad:
        raise SamlError(f"unknown claims in the attribute mapping: {', '.join(sorted(bad))}")


_lock = threading.Lock()
_cache: dict = {"signature": None, "server": None}


def _config(base: str, key, services) -> dict:
    key_file, cert_file = keys.saml_key_files(key)
    return {
        "entityid": f"{base}/saml/metadata",
        "name": "Akun",
        "service": {
            "idp": {
                "name": "Akun",
                "endpoints": {
                    "single_sign_on_service": [
                        (f"{base}/saml/sso", BINDING_HTTP_REDIRECT),
                        (f"{base}/saml/sso", BINDING_HTTP_POST),
                    ],
                },
                "name_id_format": list(NAMEID_FORMATS),
                "sign_response": True,
                "sign_assertion": True,
                "want_authn_requests_signed": False,
                "policy": {
                    "default": {
                        "lifetime": {"minutes": 5},
                        "attribute_restrictions": None,
                        "name_form": NAME_FORMAT_BASIC,
                    }
                },
            }
        },
        "key_file": key_file,
        "cert_file": cert_file,
        "xmlsec_binary": XMLSEC,
        "metadata": {"inline": [s.saml_metadata for s in services]},
        "allow_unknown_attributes": True,
    }


def server(base: str) -> Server:
    """The IdP for this issuer, from memory while nothing it depends on changed."""
    ks = keys.keyset()
    services = list(Service.objects.filter(protocol=Service.Protocol.SAML, active=True))
    with _lock:
        # The key file is in a temporary directory: written again if something removed it.
        key_file, _ = keys.saml_key_files(ks.current)
        signature = (base, key_file, tuple((s.pk, s.updated_at) for s in services))
        if _cache["signature"] != signature:
            conf = IdPConfig()
            conf.load(_config(base, ks.current, services))
            _cache["server"] = Server(config=conf)
            _cache["signature"] = signature
        return _cache["server"]


def metadata_xml(base: str) -> str:
    """The IdP's metadata: the current certificate, and retired ones still published."""
    idp = server(base)
    xml = create_metadata_string(None, config=idp.config, valid=None, sign=False)
    xml = xml.decode() if isinstance(xml, bytes) else xml
    # pysaml2 knows one signing certificate; retired keys still published go in beside it,
    # so service providers that refresh metadata trust both across a rotation.
    ks = keys.keyset()
    current = re.search(r"<(\w+:)?KeyDescriptor use=\"signing\">.*?</\1?KeyDescriptor>", xml, re.S)
    if current is None:
        return xml
    extra = ""
    for k in ks.published:
        if k.kid != ks.current.kid:
            old_b64 = _cert_b64(ks.current.certificate_pem)
            extra += current.group(0).replace(old_b64, _cert_b64(k.certificate_pem))
    return xml[: current.end()] + extra + xml[current.end() :]


def _cert_b64(pem: str) -> str:
    return "".join(line for line in pem.strip().splitlines() if "-----" not in line)


def service_for(entity_id: str) -> Service | None:
    return Service.objects.filter(
        protocol=Service.Protocol.SAML, saml_entity_id=entity_id, active=True
    ).first()


def attributes_for(account, svc: Service) -> dict:
    values = claims.claims_for(account, SAML_SCOPES, personal=svc.personal_claims)
    out = {}
    for attr, claim in (svc.saml_attributes or DEFAULT_ATTRIBUTES).items():
        if claim in values and values[claim] not in (None, ""):
            out[attr] = [str(values[claim])]
    return out


def released_claims(svc: Service) -> list[str]:
    """The claims a service's assertions carry: "sub" (the NameID, the user ID) and those its
    attributes map to, less personal identifiers it may not have. What its consent covers."""
    out = ["sub"]
    for claim in (svc.saml_attributes or DEFAULT_ATTRIBUTES).values():
        if claim in PERSONAL_CLAIMS and claim not in svc.personal_claims:
            continue
        if claim not in out:
            out.append(claim)
    return out


def signed_response(
    idp: Server, account, svc: Service, *, destination: str, in_response_to=None, nameid_format=None
) -> str:
    """A signed Response with a signed Assertion, base64 for the HTTP-POST binding."""
    fmt = nameid_format if nameid_format in NAMEID_FORMATS else NAMEID_FORMAT_EMAILADDRESS
    response = idp.create_authn_response(
        identity=attributes_for(account, svc),
        in_response_to=in_response_to,
        destination=destination,
        sp_entity_id=svc.saml_entity_id,
        name_id=NameID(format=fmt, text=account.user_id),
        authn={"class_ref": PASSWORD, "authn_auth": idp.config.entityid},
        sign_response=True,
        sign_assertion=True,
    )
    return base64.b64encode(str(response).encode()).decode()


def refusal_response(idp: Server, *, destination: str, in_response_to: str) -> str:
    """A signed Response with no assertion, status Responder/RequestDenied: the person did not
    allow the service. Base64 for the HTTP-POST binding."""
    response = idp.create_error_response(
        in_response_to,
        destination,
        (STATUS_REQUEST_DENIED, "The person did not allow this service to use their account."),
        sign=True,
    )
    return base64.b64encode(str(response).encode()).decode()


def acs_url(idp: Server, entity_id: str) -> str:
    found = idp.metadata.assertion_consumer_service(entity_id, binding=BINDING_HTTP_POST)
    if not found:
        raise SamlError("the service provider has no HTTP-POST assertion consumer service")
    return found[0]["location"]
