"""SAML strictness over real HTTP against a running Akun, with a second, strict service provider
library (OneLogin's python3-saml, which refuses SHA-1) beside pysaml2: RSA-SHA256 signatures,
attribute names and NameFormats exactly as registered, request signatures verified on both
bindings (and required where the service says it signs), SHA-1 only for services marked legacy,
request sizes capped with no session kept for anonymous requests, SP metadata expiry handled,
and IdP metadata that says what is enforced."""

import base64
import datetime as dt
import json
import re
import zlib
from urllib.parse import parse_qsl, quote_plus, urlencode, urlparse

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.contrib.sessions.models import Session
from django.utils.timezone import localtime
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.metadata import create_metadata_string

from akun.audit.api import AuditEvent
from akun.core import clock
from akun.identity.models import ServiceSignIn
from akun.sso import actions
from akun.sso.models import Service
from tests import builders
from tests.sso_support import Browser, signed_in
from tests.test_sso_saml import post_form, sp_config

pytestmark = pytest.mark.django_db(transaction=True)

OL = "http://127.0.0.1:18797"  # the python3-saml service provider (never contacted)
WEAK = ("md5", "sha1", "rsa-md5", "dsa-sha1", "ripemd160")


def keypair(cn="Kelas Maya SP") -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


SP_KEY, SP_CERT = keypair()


class OneLoginSp:
    """A service provider on python3-saml in strict mode: it wants the response and the
    assertion signed and refuses deprecated algorithms (SHA-1)."""

    def __init__(
        self,
        *,
        sign_requests=True,
        sha1=False,
        requested=(("email", C.ATTRNAME_FORMAT_URI), ("name", C.ATTRNAME_FORMAT_BASIC)),
        key=(SP_KEY, SP_CERT),
        idp_metadata=None,
    ):
        self.settings = {
            "strict": True,
            "debug": False,
            "sp": {
                "entityId": f"{OL}/metadata",
                "assertionConsumerService": {"url": f"{OL}/acs", "binding": C.BINDING_HTTP_POST},
                "NameIDFormat": C.NAMEID_EMAIL_ADDRESS,
                "x509cert": key[1],
                "privateKey": key[0],
            },
            "idp": {
                "entityId": "http://placeholder/saml/metadata",
                "singleSignOnService": {
                    "url": "http://placeholder/saml/sso",
                    "binding": C.BINDING_HTTP_REDIRECT,
                },
                "x509cert": SP_CERT,
            },
            "security": {
                "authnRequestsSigned": sign_requests,
                "wantMessagesSigned": True,
                "wantAssertionsSigned": True,
                "rejectDeprecatedAlgorithm": True,
                "signatureAlgorithm": C.RSA_SHA1 if sha1 else C.RSA_SHA256,
                "digestAlgorithm": C.SHA1 if sha1 else C.SHA256,
                "requestedAuthnContext": False,
            },
        }
        if requested:
            self.settings["sp"]["attributeConsumingService"] = {
                "serviceName": "Kelas Maya",
                "requestedAttributes": [
                    {"name": n, "nameFormat": f, "isRequired": True} for n, f in requested
                ],
            }
        if idp_metadata:
            self.use_idp(idp_metadata)

    def metadata(self) -> str:
        """What python3-saml publishes: validUntil 48 hours ahead, as it does by default."""
        md = OneLogin_Saml2_Settings(self.settings, sp_validation_only=True).get_sp_metadata()
        return md.decode() if isinstance(md, bytes) else md

    def use_idp(self, idp_metadata: str):
        idp = OneLogin_Saml2_IdPMetadataParser.parse(idp_metadata)
        security = dict(self.settings["security"])  # ours, not the IdP's WantAuthnRequestsSigned
        self.settings = OneLogin_Saml2_IdPMetadataParser.merge_settings(self.settings, idp)
        self.settings["security"] = security

    def _auth(self, post=None):
        data = {
            "https": "off",
            "http_host": "127.0.0.1",
            "server_port": "18797",
            "script_name": "/acs",
            "get_data": {},
            "post_data": post or {},
        }
        return OneLogin_Saml2_Auth(data, old_settings=self.settings)

    def login_url(self, relay_state="/kelas/3") -> str:
        auth = self._auth()
        url = auth.login(return_to=relay_state)
        self.request_id = auth.get_last_request_id()
        return url

    def receive(self, fields):
        auth = self._auth({"SAMLResponse": fields["SAMLResponse"]})
        auth.process_response(request_id=self.request_id)
        return auth


def register(live_server, sp: OneLoginSp, **kwargs) -> Service:
    svc = actions.do_add_saml_service(
        "Kelas Maya",
        metadata_xml=sp.metadata(),
        attributes=kwargs.pop("attributes", {"email": "email", "name": "name"}),
        actor="test",
        **kwargs,
    )
    sp.use_idp(idp_metadata(live_server))
    return svc


def idp_metadata(live_server) -> str:
    r = requests.get(f"{live_server.url}/saml/metadata", timeout=30)
    assert r.status_code == 200
    return r.text


@pytest.fixture
def student(live_server):
    return builders.student(builders.school(), state="active", password="teh manis di sore hari")


def response_xml(fields) -> str:
    return base64.b64decode(fields["SAMLResponse"]).decode()


def refused(page) -> bool:
    return page.status_code in (400, 403, 413) and "SAMLResponse" not in page.text


# --- issue 19.7: RSA-SHA256, SHA-1 only for legacy services -----------------------------------


def test_strict_sp_library_accepts_rsa_sha256_signed_response(live_server, student):
    sp = OneLoginSp()
    svc = register(live_server, sp)
    browser = Browser(live_server.url)
    kind, page = browser.go(sp.login_url())
    kind, page = browser.sign_in(page, student.user_id)
    action, fields = post_form(page)
    assert action == f"{OL}/acs" and fields["RelayState"] == "/kelas/3"
    auth = sp.receive(fields)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.is_authenticated() and auth.get_nameid() == student.user_id
    xml = response_xml(fields)
    assert xml.count("xmldsig-more#rsa-sha256") == 2 and xml.count("xmlenc#sha256") == 2
    assert "rsa-sha1" not in xml and "xmldsig#sha1" not in xml
    assert ServiceSignIn.objects.filter(account=student, service_id=svc.saml_entity_id).exists()


def test_sha1_signed_request_is_refused_unless_the_service_is_marked_legacy(live_server, student):
    sp = OneLoginSp(sha1=True)
    svc = register(live_server, sp)
    browser = signed_in(live_server, student)
    kind, page = browser.go(sp.login_url())
    assert refused(page) and "SHA-1" in page.text

    actions.do_update_service(svc, saml_legacy_sha1=True, actor="test")
    kind, page = browser.go(sp.login_url())
    auth = sp.receive(post_form(page)[1])
    # The answer to a legacy service is still RSA-SHA256 (python3-saml refuses SHA-1).
    assert auth.get_errors() == [] and auth.get_nameid() == student.user_id


# --- issue 19.8: attribute names and NameFormats as registered --------------------------------


def test_attributes_carry_exactly_the_registered_names_and_requested_formats(live_server, student):
    sp = OneLoginSp()
    register(live_server, sp)
    browser = signed_in(live_server, student)
    kind, page = browser.go(sp.login_url())
    fields = post_form(page)[1]
    auth = sp.receive(fields)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.get_attributes() == {"email": [student.user_id], "name": [student.nama]}
    formats = dict(re.findall(r'<(?:\w+:)?Attribute[^>]*Name="([^"]+)"[^>]*NameFormat="([^"]+)"',
                              response_xml(fields)))  # fmt: skip
    assert formats == {"email": C.ATTRNAME_FORMAT_URI, "name": C.ATTRNAME_FORMAT_BASIC}
    assert "urn:mace" not in response_xml(fields)


def test_attribute_format_chosen_at_registration_when_the_sp_requests_none(live_server, student):
    conf = sp_config(None)
    md = create_metadata_string(None, config=conf, valid=None).decode()
    svc = actions.do_add_saml_service(
        "Ruang Kolaborasi",
        metadata_xml=md,
        attributes={"email": "email", "urn:oid:2.5.4.3": "name"},
        actor="test",
    )
    browser = signed_in(live_server, student)
    kind, page = browser.go(f"{live_server.url}/saml/masuk/{svc.slug}")
    xml = response_xml(post_form(page)[1])
    formats = dict(re.findall(r'<(?:\w+:)?Attribute[^>]*Name="([^"]+)"[^>]*NameFormat="([^"]+)"',
                              xml))  # fmt: skip
    # A plain name goes out as basic, a URN as uri, unless the registration says otherwise.
    assert formats == {"email": C.ATTRNAME_FORMAT_BASIC, "urn:oid:2.5.4.3": C.ATTRNAME_FORMAT_URI}
    actions.do_update_service(svc, saml_attribute_format="unspecified", actor="test")
    kind, page = browser.go(f"{live_server.url}/saml/masuk/{svc.slug}")
    xml = response_xml(post_form(page)[1])
    assert set(re.findall(r'NameFormat="([^"]+)"', xml)) == {C.ATTRNAME_FORMAT_UNSPECIFIED}


# --- issue 19.11 and 12.7: request signatures ---------------------------------------------------


def _with_param(url: str, name: str, change) -> str:
    """The URL with one raw query parameter changed (its encoded form kept for the rest)."""
    parts = urlparse(url)
    out = []
    for item in parts.query.split("&"):
        key, _, value = item.partition("=")
        out.append(f"{key}={change(value)}" if key == name else item)
    return parts._replace(query="&".join(out)).geturl()


def _corrupt(value: str) -> str:
    raw = bytearray(base64.b64decode(value.replace("%2B", "+").replace("%2F", "/")
                                     .replace("%3D", "=")))  # fmt: skip
    raw[10] ^= 0x01
    return quote_plus(base64.b64encode(bytes(raw)).decode())


def test_redirect_binding_signature_is_verified(live_server, student):
    sp = OneLoginSp()
    register(live_server, sp)
    browser = signed_in(live_server, student)
    good = sp.login_url()
    assert "Signature=" in good and "SigAlg=" in good

    # A corrupted signature, a signature by another key, a changed SigAlg, a changed
    # RelayState, a second SAMLRequest: all refused.
    other = OneLoginSp(key=keypair("Penyusup"))
    other.use_idp(idp_metadata(live_server))
    bad_urls = [
        _with_param(good, "Signature", _corrupt),
        other.login_url(),
        _with_param(good, "SigAlg", lambda v: quote_plus(C.RSA_SHA512)),
        _with_param(good, "RelayState", lambda v: quote_plus("/kelas/4")),
        good + "&SAMLRequest=" + dict(parse_qsl(urlparse(good).query, True))["SAMLRequest"][:-4],
    ]
    for url in bad_urls:
        kind, page = browser.go(url)
        assert refused(page), url

    kind, page = browser.go(good)
    assert sp.receive(post_form(page)[1]).get_nameid() == student.user_id


def test_unsigned_request_is_refused_when_the_service_signs_its_requests(live_server, student):
    sp = OneLoginSp()
    svc = register(live_server, sp)
    assert 'AuthnRequestsSigned="true"' in svc.saml_metadata and svc.saml_requests_signed
    browser = signed_in(live_server, student)
    url = sp.login_url()
    parts = urlparse(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, True) if k not in ("Signature", "SigAlg")]
    kind, page = browser.go(parts._replace(query=urlencode(query)).geturl())
    assert refused(page) and "tidak ditandatangani" in page.text

    # The pysaml2 service provider does not sign (its metadata says so): it still signs in.
    conf = sp_config(None)
    md = create_metadata_string(None, config=conf, valid=None).decode()
    unsigned = actions.do_add_saml_service("Ruang Kolaborasi", metadata_xml=md, actor="test")
    assert not unsigned.saml_requests_signed
    client = Saml2Client(config=sp_config(idp_metadata(live_server)))
    req_id, info = client.prepare_for_authenticate(
        entityid=f"{live_server.url}/saml/metadata", binding=BINDING_HTTP_REDIRECT
    )
    kind, page = browser.go(dict(info["headers"])["Location"])
    fields = post_form(page)[1]
    response = client.parse_authn_request_response(
        fields["SAMLResponse"], BINDING_HTTP_POST, outstanding={req_id: ""}
    )
    assert response.name_id.text == student.user_id


def _signed_post_request(live_server, *, corrupt="", sha1=False) -> dict:
    """An AuthnRequest signed inside the XML (HTTP-POST binding), by the python3-saml SP's key."""
    from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
    from onelogin.saml2.utils import OneLogin_Saml2_Utils

    sp = OneLoginSp(idp_metadata=idp_metadata(live_server))
    settings = OneLogin_Saml2_Settings(sp.settings)
    xml = OneLogin_Saml2_Authn_Request(settings).get_xml()
    signed = OneLogin_Saml2_Utils.add_sign(
        xml,
        SP_KEY,
        SP_CERT,
        sign_algorithm=C.RSA_SHA1 if sha1 else C.RSA_SHA256,
        digest_algorithm=C.SHA1 if sha1 else C.SHA256,
    )
    signed = signed.decode() if isinstance(signed, bytes) else signed
    original = signed
    if corrupt == "content":  # a second earlier: still timely, but not what was signed
        signed = re.sub(
            r'IssueInstant="([^"]+)(\d)Z"',
            lambda m: f'IssueInstant="{m.group(1)}{(int(m.group(2)) + 9) % 10}Z"',
            signed,
            count=1,
        )
    elif corrupt == "signature":
        value = re.search(r"<ds:SignatureValue>([^<]+)<", signed).group(1)
        flipped = ("B" if value[5] == "A" else "A").join((value[:5], value[6:]))
        signed = signed.replace(value, flipped)
    assert (signed != original) == bool(corrupt)
    return {"SAMLRequest": base64.b64encode(signed.encode()).decode(), "RelayState": "/x"}


def test_post_binding_signature_is_verified(live_server, student):
    register(live_server, OneLoginSp())
    browser = signed_in(live_server, student)
    kind, page = browser.go(
        f"{live_server.url}/saml/sso", method="POST", data=_signed_post_request(live_server)
    )
    assert page.status_code == 200 and post_form(page)[0] == f"{OL}/acs"
    for corrupt in ("content", "signature"):
        data = _signed_post_request(live_server, corrupt=corrupt)
        kind, page = browser.go(f"{live_server.url}/saml/sso", method="POST", data=data)
        assert refused(page), corrupt
    # Signed in the XML with SHA-1, by a service not marked legacy.
    data = _signed_post_request(live_server, sha1=True)
    kind, page = browser.go(f"{live_server.url}/saml/sso", method="POST", data=data)
    assert refused(page) and "SHA-1" in page.text
    # A signature beside the message (the SimpleSign binding) is not checked by Akun: refused.
    data = {**_signed_post_request(live_server), "Signature": "AAAA", "SigAlg": C.RSA_SHA256}
    kind, page = browser.go(f"{live_server.url}/saml/sso", method="POST", data=data)
    assert refused(page)


# --- issue 12.6: sizes, and no session before sign-in -----------------------------------------


def test_anonymous_requests_keep_no_session_and_are_size_capped(live_server, student):
    sp = OneLoginSp()
    register(live_server, sp)
    browser = Browser(live_server.url)
    kind, page = browser.go(sp.login_url())
    assert "/masuk" in page.url
    data = _signed_post_request(live_server)
    r = requests.post(f"{live_server.url}/saml/sso", data=data, allow_redirects=False, timeout=30)
    assert r.status_code == 302 and "sessionid" not in r.cookies
    assert Session.objects.count() == 0

    # Megabytes of request, and a small deflated request that inflates to megabytes: refused
    # before anything is stored.
    big = {"SAMLRequest": "A" * 2_000_000}
    r = requests.post(f"{live_server.url}/saml/sso", data=big, timeout=30)
    assert r.status_code == 413 and "SAMLResponse" not in r.text
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    blob = bomb.compress(b"<" + b"a" * 5_000_000) + bomb.flush()
    assert len(blob) < 8000
    r = requests.get(
        f"{live_server.url}/saml/sso",
        params={"SAMLRequest": base64.b64encode(blob).decode()},
        timeout=30,
    )
    assert r.status_code == 413
    assert Session.objects.count() == 0

    # The person signs in and the request goes on, from the signed cookie.
    kind, page = browser.sign_in(page, student.user_id)
    assert sp.receive(post_form(page)[1]).get_nameid() == student.user_id


# --- issue 19.12: SP metadata that expires ------------------------------------------------------


def test_expiring_metadata_warned_expired_refused_and_listed(run_akun, tmp_path):
    sp = OneLoginSp()
    md = tmp_path / "sp.xml"
    md.write_text(sp.metadata())  # validUntil: 48 hours ahead
    r = run_akun("services", "add", "Kelas Maya", "--protocol", "saml", "--saml-metadata", str(md))
    assert r.returncode == 0, r.stderr
    assert "expires" in (r.stdout + r.stderr) and "WARNING" in (r.stdout + r.stderr)
    svc = Service.objects.get(saml_entity_id=f"{OL}/metadata")
    assert svc.saml_metadata_valid_until is not None
    r = run_akun("services", "list")
    assert re.search(r"kelas-maya .*expires \d{4}-\d\d-\d\dT\d\d:\d\dZ", r.stdout), r.stdout

    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    expired = re.sub(r'validUntil="[^"]+"', f'validUntil="{past}"', sp.metadata())
    other = expired.replace(f"{OL}/metadata", f"{OL}/lain/metadata")
    md.write_text(other)
    r = run_akun("services", "add", "Lain", "--protocol", "saml", "--saml-metadata", str(md))
    assert r.returncode != 0 and "expired" in r.stderr
    assert not Service.objects.filter(saml_entity_id=f"{OL}/lain/metadata").exists()

    # Past its validUntil, the list says so (the service cannot sign anyone in).
    Service.objects.filter(pk=svc.pk).update(
        saml_metadata_valid_until=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    )
    r = run_akun("services", "list")
    assert re.search(r"kelas-maya +saml +expired .*expired \d{4}-", r.stdout), r.stdout

    # New metadata for the service replaces the expiring one.
    md.write_text(OneLoginSp().metadata().replace(re.search(r'validUntil="[^"]+"',
                  sp.metadata()).group(0), ""))  # fmt: skip
    r = run_akun("services", "update", svc.slug, "--saml-metadata", str(md))
    assert r.returncode == 0, r.stderr
    svc.refresh_from_db()
    assert svc.saml_metadata_valid_until is None


def test_admin_pages_warn_of_and_list_metadata_expiry(client):
    from tests.test_sso_admin import admin
    from tests.test_sso_admin import signed_in as admin_signed_in

    c = admin_signed_in(client, admin("pusdatin", "national"))
    data = {"name": "Kelas Maya", "protocol": "saml", "saml_metadata": OneLoginSp().metadata()}
    page = c.post("/admin/layanan/baru", data).content.decode()
    assert 'id="registered"' in page and 'id="expires"' in page
    until = localtime(Service.objects.get(name="Kelas Maya").saml_metadata_valid_until)
    assert until.strftime("%Y-%m-%d %H:%M") in page
    assert until.strftime("%Y-%m-%d %H:%M") in c.get("/admin/layanan").content.decode()


def test_expired_service_gets_an_error_page_and_an_audit_row(live_server, student):
    sp = OneLoginSp()
    svc = register(live_server, sp)
    browser = signed_in(live_server, student)
    clock.freeze(dt.datetime.now(dt.UTC) + dt.timedelta(hours=49))
    r = requests.get(f"{live_server.url}/saml/metadata", timeout=30)
    assert r.status_code == 200
    kind, page = browser.go(sp.login_url())
    assert page.status_code == 403 and "SAMLResponse" not in page.text
    assert "kedaluwarsa" in page.text  # Indonesian first: "expired"
    kind, page = browser.go(f"{live_server.url}/saml/masuk/{svc.slug}")
    assert page.status_code == 403 and "SAMLResponse" not in page.text
    event = AuditEvent.objects.filter(action="sso.saml_metadata_expired").first()
    assert event is not None and event.object_id == svc.slug
    assert not ServiceSignIn.objects.exists()


# --- issue 19.13 and 12.7: IdP metadata that tells the truth ----------------------------------


def test_idp_metadata_says_what_is_enforced(live_server):
    sp = OneLoginSp()
    register(live_server, sp)
    xml = idp_metadata(live_server)
    algorithms = re.findall(r'Algorithm="([^"]+)"', xml)
    assert algorithms and not [a for a in algorithms if a.rsplit("#", 1)[1] in WEAK]
    assert "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" in algorithms
    assert "http://www.w3.org/2001/04/xmlenc#sha256" in algorithms
    assert "SingleLogoutService" not in xml  # Single Logout is not supported (README)
    # Every registered service must sign its requests: the metadata says so...
    assert 'WantAuthnRequestsSigned="true"' in xml
    # ...until one that does not sign is registered.
    md = create_metadata_string(None, config=sp_config(None), valid=None).decode()
    actions.do_add_saml_service("Ruang Kolaborasi", metadata_xml=md, actor="test")
    assert 'WantAuthnRequestsSigned="false"' in idp_metadata(live_server)
    # Both SP libraries read it.
    assert OneLogin_Saml2_IdPMetadataParser.parse(xml)["idp"]["entityId"].endswith("/saml/metadata")
    Saml2Client(config=sp_config(xml))


def test_services_show_lists_the_strictness_settings(run_akun, tmp_path):
    md = tmp_path / "sp.xml"
    md.write_text(OneLoginSp().metadata())
    r = run_akun(
        "services", "add", "Kelas Maya", "--protocol", "saml", "--saml-metadata", str(md),
        "--legacy-sha1", "--attribute-format", "uri", "--json",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    slug = json.loads(r.stdout)["slug"]
    shown = json.loads(run_akun("services", "show", slug).stdout)
    assert shown["saml_requests_signed"] is True and shown["saml_legacy_sha1"] is True
    assert shown["saml_attribute_format"] == "uri" and shown["saml_metadata_valid_until"]


@pytest.mark.parametrize(("length", "status"), [("abc", 400), ("-1", 400), ("99999999", 413)])
def test_a_bad_or_huge_content_length_is_refused_before_the_body_is_read(client, length, status):
    r = client.generic(
        "POST",
        "/saml/sso",
        b"SAMLRequest=x",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH=length,
    )
    assert r.status_code == status and Session.objects.count() == 0
