"""SAML 2.0 identity provider on pysaml2: metadata, signed responses and assertions, NameID =
the user ID, attributes mapped per service.

Strict by design: responses and assertions are signed RSA-SHA256 with SHA-256 digests;
AuthnRequests are read within size caps, and a signature they carry (in the XML, or the
HTTP-Redirect binding's query signature) is verified or the request is refused; services
marked so must sign, SHA-1 only from services marked legacy. Attributes go out under exactly
the names a service registered. No Single Logout.

One pysaml2 Server per worker, rebuilt only when the SAML services, the signing keys or the
issuer change (its metadata store parses every service provider's metadata)."""

import base64
import binascii
import datetime as dt
import threading
import zlib
from dataclasses import asdict, dataclass
from urllib.parse import quote_plus, unquote_plus
from xml.etree import ElementTree

import defusedxml.ElementTree as SafeET
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.authn_context import PASSWORD
from saml2.config import IdPConfig
from saml2.saml import (
    NAME_FORMAT_BASIC,
    NAME_FORMAT_UNSPECIFIED,
    NAME_FORMAT_URI,
    NAMEID_FORMAT_EMAILADDRESS,
    NAMEID_FORMAT_UNSPECIFIED,
    Attribute,
    AttributeStatement,
    AttributeValue,
    NameID,
)
from saml2.samlp import STATUS_REQUEST_DENIED
from saml2.server import Server

from akun.core import clock
from akun.sso import claims, keys
from akun.sso.models import PERSONAL_CLAIMS, Service

XMLSEC = "/usr/bin/xmlsec1"
MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
ALG_NS = "urn:oasis:names:tc:SAML:metadata:algsupport"
SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
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
ATTRIBUTE_FORMATS = {
    "basic": NAME_FORMAT_BASIC,
    "uri": NAME_FORMAT_URI,
    "unspecified": NAME_FORMAT_UNSPECIFIED,
}

# What Akun signs with, and what it accepts in requests (first = what it signs with).
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SIGNING_ALGORITHMS = {
    RSA_SHA256: hashes.SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": hashes.SHA384,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": hashes.SHA512,
}
DIGEST_ALGORITHMS = (
    SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
)
# Only from services marked legacy.
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"

# Size caps of an AuthnRequest: a signed request with its certificate is 3-6 KB.
MAX_MESSAGE = 16 * 1024  # the SAMLRequest parameter as sent (base64)
MAX_XML = 16 * 1024  # the request's XML, inflated
MAX_BODY = 24 * 1024  # the whole POST body or query string
# The bindings say 80 bytes; real services send a URL. Kept in a cookie until sign-in.
MAX_RELAY_STATE = 1024


class SamlError(ValueError):
    pass


class Refusal(Exception):
    """An AuthnRequest Akun does not answer: what is wrong (for logs), `kind` (the view says it
    to the person: size, signature, sha1, unsigned, unknown, expired, acs, unreadable) and the
    HTTP status."""

    def __init__(self, message: str, status=400, service=None, kind="unreadable"):
        super().__init__(message)
        self.status = status
        self.service = service
        self.kind = kind


class ExpiredMetadata(Refusal):
    """The service's metadata is past its validUntil."""


# --- a service provider's metadata -------------------------------------------------------------


@dataclass
class SpMetadata:
    entity_id: str
    authn_requests_signed: bool
    valid_until: dt.datetime | None
    signing_certs: list  # cryptography x509 certificates
    requested_formats: dict  # attribute Name -> the NameFormat the service asks for


def _parse_xml(text) -> ElementTree.Element:
    try:
        return SafeET.fromstring(text)
    except Exception as e:  # ParseError, or defusedxml's refusals (entities, DTDs)
        raise SamlError(f"not XML Akun reads: {e}") from e


def _datetime(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.strip())
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def read_sp_metadata(metadata_xml: str) -> SpMetadata:
    root = _parse_xml(metadata_xml)
    if root.tag != f"{{{MD_NS}}}EntityDescriptor" or not root.get("entityID"):
        raise SamlError("the SAML metadata must be one md:EntityDescriptor with an entityID")
    sp = root.find(f"{{{MD_NS}}}SPSSODescriptor")
    if sp is None:
        raise SamlError("the SAML metadata describes no service provider (SPSSODescriptor)")
    ends = []
    for element in (root, sp):
        if element.get("validUntil"):
            try:
                ends.append(_datetime(element.get("validUntil")))
            except ValueError as e:
                raise SamlError(f"the metadata's validUntil is not a date: {e}") from e
    certs = []
    for kd in sp.findall(f"{{{MD_NS}}}KeyDescriptor"):
        if kd.get("use", "signing") != "signing":
            continue
        for c in kd.iter(f"{{{DS_NS}}}X509Certificate"):
            try:
                der = base64.b64decode("".join((c.text or "").split()), validate=True)
                certs.append(x509.load_der_x509_certificate(der))
            except (binascii.Error, ValueError) as e:
                raise SamlError(f"a signing certificate in the metadata does not load: {e}") from e
    formats = {}
    for ra in sp.iter(f"{{{MD_NS}}}RequestedAttribute"):
        if ra.get("Name") and ra.get("NameFormat"):
            formats.setdefault(ra.get("Name"), ra.get("NameFormat"))
    return SpMetadata(
        entity_id=root.get("entityID"),
        authn_requests_signed=sp.get("AuthnRequestsSigned", "false").strip() in ("true", "1"),
        valid_until=min(ends) if ends else None,
        signing_certs=certs,
        requested_formats=formats,
    )


def entity_id_of(metadata_xml: str) -> str:
    return read_sp_metadata(metadata_xml).entity_id


def check_attributes(mapping: dict) -> None:
    known = set(claims.CLAIM_SCOPE)
    bad = {c for c in mapping.values() if c not in known}
    if bad:
        raise SamlError(f"unknown claims in the attribute mapping: {', '.join(sorted(bad))}")


def check_attribute_format(name: str) -> None:
    if name and name not in ATTRIBUTE_FORMATS:
        raise SamlError(f"the attribute format must be one of {', '.join(ATTRIBUTE_FORMATS)}")


# --- the pysaml2 server ------------------------------------------------------------------------


class _Idp(Server):
    """pysaml2's IdP, but the attributes go out as Akun builds them: pysaml2 would rename
    them through its attribute maps (email -> urn:mace:dir:attribute-def:email)."""

    def setup_assertion(self, authn, sp_entity_id, in_response_to, consumer_url, name_id,
                        policy, _issuer, authn_statement, identity, *args, **kwargs):  # fmt: skip
        statement = identity if isinstance(identity, AttributeStatement) else None
        assertion = super().setup_assertion(
            authn, sp_entity_id, in_response_to, consumer_url, name_id, policy, _issuer,
            authn_statement, {} if statement is not None else identity, *args, **kwargs,
        )  # fmt: skip
        if statement is not None and statement.attribute and not isinstance(assertion, list):
            assertion.attribute_statement = [statement]
        return assertion


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
                # Enforced per service by read_authn_request(), not by pysaml2.
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
        "signing_algorithm": RSA_SHA256,
        "digest_algorithm": SHA256,
        "key_file": key_file,
        "cert_file": cert_file,
        "xmlsec_binary": XMLSEC,
        # Expired metadata stays out: pysaml2 would drop it anyway, and Akun says why.
        "metadata": {"inline": [s.saml_metadata for s in services]},
        "allow_unknown_attributes": True,
    }


def _usable_services(now) -> list[Service]:
    services = Service.objects.filter(protocol=Service.Protocol.SAML, active=True)
    return [s for s in services if not s.saml_metadata_expired(now)]


def server(base: str) -> Server:
    """The IdP for this issuer, from memory while nothing it depends on changed."""
    ks = keys.keyset()
    services = _usable_services(clock.now())
    with _lock:
        # The key file is in a temporary directory: written again if something removed it.
        key_file, _ = keys.saml_key_files(ks.current)
        signature = (base, key_file, tuple((s.pk, s.updated_at) for s in services))
        if _cache["signature"] != signature:
            conf = IdPConfig()
            conf.load(_config(base, ks.current, services))
            _cache["server"] = _Idp(config=conf)
            _cache["signature"] = signature
        return _cache["server"]


def metadata_xml(base: str) -> str:
    """The IdP's metadata, saying what Akun does: the algorithms it signs with and accepts,
    whether every service must sign its requests, the current certificate and retired ones
    still published (so services that refresh metadata trust both across a rotation), the
    single sign-on endpoints. No SingleLogoutService: Single Logout is not supported."""
    ks = keys.keyset()
    services = _usable_services(clock.now())
    all_sign = bool(services) and all(s.saml_requests_signed for s in services)
    md, ds, alg = (f"{{{MD_NS}}}", f"{{{DS_NS}}}", f"{{{ALG_NS}}}")
    root = ElementTree.Element(f"{md}EntityDescriptor", entityID=f"{base}/saml/metadata")
    ext = ElementTree.SubElement(root, f"{md}Extensions")
    for uri in DIGEST_ALGORITHMS:
        ElementTree.SubElement(ext, f"{alg}DigestMethod", Algorithm=uri)
    for uri in SIGNING_ALGORITHMS:
        ElementTree.SubElement(ext, f"{alg}SigningMethod", Algorithm=uri)
    idp = ElementTree.SubElement(
        root,
        f"{md}IDPSSODescriptor",
        protocolSupportEnumeration=SAMLP_NS,
        WantAuthnRequestsSigned="true" if all_sign else "false",
    )
    published = sorted(ks.published, key=lambda k: k.kid != ks.current.kid)
    for k in published:
        kd = ElementTree.SubElement(idp, f"{md}KeyDescriptor", use="signing")
        data = ElementTree.SubElement(ElementTree.SubElement(kd, f"{ds}KeyInfo"), f"{ds}X509Data")
        ElementTree.SubElement(data, f"{ds}X509Certificate").text = _cert_b64(k.certificate_pem)
    for fmt in NAMEID_FORMATS:
        ElementTree.SubElement(idp, f"{md}NameIDFormat").text = fmt
    for binding in (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST):
        ElementTree.SubElement(
            idp, f"{md}SingleSignOnService", Binding=binding, Location=f"{base}/saml/sso"
        )
    return ElementTree.tostring(root, encoding="unicode")


for _prefix, _ns in (("md", MD_NS), ("ds", DS_NS), ("alg", ALG_NS)):
    ElementTree.register_namespace(_prefix, _ns)


def _cert_b64(pem: str) -> str:
    return "".join(line for line in pem.strip().splitlines() if "-----" not in line)


def service_for(entity_id: str) -> Service | None:
    return Service.objects.filter(
        protocol=Service.Protocol.SAML, saml_entity_id=entity_id, active=True
    ).first()


# --- reading an AuthnRequest -------------------------------------------------------------------


@dataclass
class PendingRequest:
    """A verified AuthnRequest, reduced to what the answer needs (kept in a signed cookie
    until the person has signed in, so no session is made for anonymous requests)."""

    service: int
    request_id: str
    acs: str
    name_id_format: str
    relay_state: str

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "PendingRequest":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


def _single(data, name: str) -> str | None:
    values = data.getlist(name)
    if len(values) > 1:
        raise Refusal(f"the request carries {name} twice")
    return values[0] if values else None


def _decoded(message: str, binding: str) -> bytes:
    if len(message) > MAX_MESSAGE:
        raise Refusal("too large", status=413, kind="size")
    try:
        raw = base64.b64decode("".join(message.split()), validate=True)
    except binascii.Error as e:
        raise Refusal("not base64") from e
    if binding == BINDING_HTTP_REDIRECT:
        inflater = zlib.decompressobj(-15)
        try:
            xml = inflater.decompress(raw, MAX_XML + 1)
        except zlib.error as e:
            raise Refusal("not DEFLATE") from e
        if len(xml) > MAX_XML or inflater.unconsumed_tail:
            raise Refusal("too large", status=413, kind="size")
        return xml
    if len(raw) > MAX_XML:
        raise Refusal("too large", status=413, kind="size")
    return raw


def _raw_params(query: str) -> dict:
    """The query's parameters as sent (still URL-encoded): the HTTP-Redirect binding signs
    those bytes, not a re-encoding of them."""
    out = {}
    for item in query.split("&"):
        key, _, value = item.partition("=")
        out.setdefault(unquote_plus(key), value)
    return out


def _verify_redirect_signature(svc: Service, md: SpMetadata, data, query: str) -> None:
    sig_alg, signature = _single(data, "SigAlg"), _single(data, "Signature")
    if not sig_alg or not signature:
        raise Refusal("a Signature without its SigAlg, or the reverse", kind="signature")
    algorithm = _request_algorithm(svc, sig_alg)
    try:
        sig = base64.b64decode("".join(signature.split()), validate=True)
    except binascii.Error as e:
        raise Refusal("the signature is not base64", kind="signature") from e
    raw = _raw_params(query)
    names = [n for n in ("SAMLRequest", "RelayState", "SigAlg") if n in raw]
    as_sent = "&".join(f"{n}={raw[n]}" for n in names)
    # Some libraries sign a canonical re-encoding: accepted too (it decodes to the same).
    canonical = "&".join(f"{n}={quote_plus(data.get(n))}" for n in names)
    for signed in dict.fromkeys((as_sent, canonical)):
        for cert in md.signing_certs:
            key = cert.public_key()
            if not isinstance(key, rsa.RSAPublicKey):
                continue
            try:
                key.verify(sig, signed.encode(), padding.PKCS1v15(), algorithm())
                return
            except InvalidSignature:
                continue
    raise Refusal("the signature does not verify", status=403, service=svc, kind="signature")


def _request_algorithm(svc: Service, uri: str):
    if uri == RSA_SHA1:
        if svc.saml_legacy_sha1:
            return hashes.SHA1
        raise Refusal("SHA-1", status=403, service=svc, kind="sha1")
    if uri not in SIGNING_ALGORITHMS:
        raise Refusal("unsupported signature algorithm", status=403, service=svc, kind="signature")
    return SIGNING_ALGORITHMS[uri]


def _bad_signature(svc: Service, why: str) -> Refusal:
    return Refusal(why, status=403, service=svc, kind="signature")


def _check_embedded_signature(svc: Service, root) -> bool:
    """Whether the XML carries its own signature (pysaml2 verifies it), after checking it signs
    the whole request with algorithms Akun accepts."""
    signatures = list(root.iter(f"{{{DS_NS}}}Signature"))
    if not signatures:
        return False
    own = root.find(f"{{{DS_NS}}}Signature")
    if len(signatures) > 1 or own is None:
        raise Refusal(
            "a signature that does not sign the request", status=403, service=svc, kind="signature"
        )
    refs = own.findall(f"{{{DS_NS}}}SignedInfo/{{{DS_NS}}}Reference")
    if len(refs) != 1 or refs[0].get("URI") != f"#{root.get('ID')}":
        raise Refusal(
            "a signature that does not sign the request", status=403, service=svc, kind="signature"
        )
    method = own.find(f"{{{DS_NS}}}SignedInfo/{{{DS_NS}}}SignatureMethod")
    _request_algorithm(svc, method.get("Algorithm") if method is not None else "")
    for digest in own.iter(f"{{{DS_NS}}}DigestMethod"):
        uri = digest.get("Algorithm")
        if uri == SHA1 and not svc.saml_legacy_sha1:
            raise Refusal("SHA-1", status=403, service=svc, kind="sha1")
        if uri != SHA1 and uri not in DIGEST_ALGORITHMS:
            raise Refusal("unsupported digest algorithm", status=403, service=svc, kind="signature")
    return True


def read_authn_request(base: str, binding: str, data, query: str = "") -> PendingRequest:
    """Check an AuthnRequest as received (`data`: the GET or POST parameters, `query`: the raw
    query string) and reduce it to what the answer needs. Raises Refusal."""
    message = _single(data, "SAMLRequest")
    if not message:
        raise Refusal("SAMLRequest missing")
    relay_state = _single(data, "RelayState") or ""
    if len(relay_state) > MAX_RELAY_STATE:
        raise Refusal("too large", status=413, kind="size")
    if binding == BINDING_HTTP_POST and ("Signature" in data or "SigAlg" in data):
        # The HTTP-POST-SimpleSign binding: not supported, so its signature is not checked.
        raise Refusal("a signature Akun does not check (SimpleSign)", status=403, kind="signature")
    xml = _decoded(message, binding)
    try:
        root = _parse_xml(xml)
    except SamlError as e:
        raise Refusal("not XML") from e
    if root.tag != f"{{{SAMLP_NS}}}AuthnRequest":
        raise Refusal("not an AuthnRequest")
    issuer = root.find(f"{{{SAML_NS}}}Issuer")
    svc = service_for((issuer.text or "").strip() if issuer is not None else "")
    if svc is None:
        raise Refusal("unknown service", status=403, kind="unknown")
    if svc.saml_metadata_expired(clock.now()):
        raise ExpiredMetadata("expired", status=403, service=svc, kind="signature")
    md = read_sp_metadata(svc.saml_metadata)
    signed = _check_embedded_signature(svc, root)
    if binding == BINDING_HTTP_REDIRECT and ("Signature" in data or "SigAlg" in data):
        _verify_redirect_signature(svc, md, data, query)
        signed = True
    if svc.saml_requests_signed and not signed:
        raise Refusal("unsigned", status=403, service=svc, kind="unsigned")
    idp = server(base)
    try:
        # Decoded and inflated here already: pysaml2 gets it as the HTTP-POST binding would
        # carry it, and verifies a signature in the XML against the service's metadata.
        req = idp.parse_authn_request(base64.b64encode(xml).decode(), BINDING_HTTP_POST)
    except Exception as e:  # pysaml2 raises many kinds for a bad message or signature
        raise Refusal(
            "unreadable or wrongly signed", status=403, service=svc, kind="signature"
        ) from e
    authn = req.message
    if authn.issuer is None or authn.issuer.text.strip() != svc.saml_entity_id:
        raise Refusal("unknown service", status=403, kind="unknown")
    try:
        args = idp.response_args(authn, [BINDING_HTTP_POST])
    except Exception as e:
        raise Refusal("unregistered address", service=svc, kind="acs") from e
    policy = authn.name_id_policy
    fmt = policy.format if policy is not None and policy.format in NAMEID_FORMATS else ""
    return PendingRequest(
        service=svc.pk,
        request_id=args["in_response_to"],
        acs=args["destination"],
        name_id_format=fmt,
        relay_state=relay_state,
    )


# --- answers -----------------------------------------------------------------------------------


def attribute_statement(account, svc: Service) -> AttributeStatement:
    """The service's attributes under exactly the names it registered, each with the NameFormat
    its metadata asks for, else the one registered, else basic (URNs and URLs: uri)."""
    values = claims.claims_for(account, SAML_SCOPES, personal=svc.personal_claims)
    requested = read_sp_metadata(svc.saml_metadata).requested_formats
    attributes = []
    for name, claim in (svc.saml_attributes or DEFAULT_ATTRIBUTES).items():
        if claim not in values or values[claim] in (None, ""):
            continue
        if name in requested:
            fmt = requested[name]
        elif svc.saml_attribute_format:
            fmt = ATTRIBUTE_FORMATS[svc.saml_attribute_format]
        elif name.startswith(("urn:", "http:", "https:")):
            fmt = NAME_FORMAT_URI
        else:
            fmt = NAME_FORMAT_BASIC
        value = AttributeValue()
        value.set_text(str(values[claim]))
        attributes.append(Attribute(name=name, name_format=fmt, attribute_value=[value]))
    return AttributeStatement(attribute=attributes)


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
        identity=attribute_statement(account, svc),
        in_response_to=in_response_to,
        destination=destination,
        sp_entity_id=svc.saml_entity_id,
        name_id=NameID(format=fmt, text=account.user_id),
        authn={"class_ref": PASSWORD, "authn_auth": idp.config.entityid},
        sign_response=True,
        sign_assertion=True,
        sign_alg=RSA_SHA256,
        digest_alg=SHA256,
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
        sign_alg=RSA_SHA256,
        digest_alg=SHA256,
    )
    return base64.b64encode(str(response).encode()).decode()


def acs_url(idp: Server, entity_id: str) -> str:
    found = idp.metadata.assertion_consumer_service(entity_id, binding=BINDING_HTTP_POST)
    if not found:
        raise SamlError("the service provider has no HTTP-POST assertion consumer service")
    return found[0]["location"]
