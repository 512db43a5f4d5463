"""Google Workspace's third-party SSO profile: Google registered as a SAML service with its
documented entity ID and ACS, `akun provision google sso-settings` printing the Admin
console's fields, and over real HTTP: Google's request answered with a signed response whose
NameID is the user ID; a suspended or deactivated account gets none."""

import base64
import json
import re

import pytest
import requests
from django.core.management import CommandError, call_command
from saml2 import BINDING_HTTP_POST
from saml2.saml import NAMEID_FORMAT_UNSPECIFIED

from akun.accounts import api as accounts_api
from akun.sso import google, keys
from akun.sso.models import Service
from tests import builders
from tests.google_sp import DOMAIN, authn_request, redirect_url, sp_client
from tests.provisioning_support import target
from tests.sso_support import Browser, form_fields

BASE = "https://akun.example.test"


@pytest.fixture(autouse=True)
def _fresh_keys():
    keys.reset()
    yield
    keys.reset()


def test_googles_entity_id_and_acs_as_documented():
    assert google.entity_id("Belajar.ID") == "google.com/a/belajar.id"
    assert google.entity_id("belajar.id", domain_specific=False) == "google.com"
    assert google.acs_url("belajar.id") == "https://www.google.com/a/belajar.id/acs"
    md = google.sp_metadata("belajar.id")
    assert 'entityID="google.com/a/belajar.id"' in md
    assert 'Location="https://www.google.com/a/belajar.id/acs"' in md
    assert 'AuthnRequestsSigned="false"' in md


@pytest.mark.parametrize(
    "bad",
    ["", "belajar", "evil.com/a/x", "x" * 300 + ".id", "bel\x00ajar.id", "bel ajar.id",
     "-belajar.id", "belajar.id/acs?x=", "bélajar.id", "a..id"],
)  # fmt: skip
def test_a_domain_that_is_not_a_dns_name_is_refused(bad):
    with pytest.raises(google.GoogleProfileError):
        google.entity_id(bad)


@pytest.mark.django_db
def test_sso_settings_prints_the_console_fields_and_registers_google_once(capsys):
    call_command("provision", "google", "sso-settings", "--domain", DOMAIN, "--base-url", BASE)
    out = capsys.readouterr().out
    assert f"Sign-in page URL:              {BASE}/saml/sso\n" in out
    assert f"Sign-out page URL:             {BASE}/saml/google/keluar\n" in out
    assert f"Change password URL:           {BASE}/akun-saya/kata-sandi\n" in out
    assert f"IDP entity ID:                 {BASE}/saml/metadata\n" in out
    assert "Use a domain-specific issuer:  ON (ticked)" in out
    pem = keys.keyset().current.certificate_pem.strip()
    assert pem in out and pem.startswith("-----BEGIN CERTIFICATE-----")
    assert "registered now" in out
    svc = Service.objects.get(saml_entity_id=f"google.com/a/{DOMAIN}")
    assert svc.first_party and svc.active and not svc.saml_requests_signed
    assert svc.saml_attributes == {"email": "email"}
    call_command(
        "provision", "google", "sso-settings", "--domain", DOMAIN, "--base-url", BASE, "--json"
    )
    values = json.loads(capsys.readouterr().out)
    assert values["created"] is False and values["sign_in_url"] == f"{BASE}/saml/sso"
    assert values["certificate_pem"].strip() == pem
    assert Service.objects.filter(protocol="saml").count() == 1


@pytest.mark.django_db
def test_sso_settings_takes_the_domain_of_the_google_target(capsys, settings):
    with pytest.raises(CommandError, match="give --domain"):
        call_command("provision", "google", "sso-settings", "--base-url", BASE)
    target("google", domain="guru.belajar.test")
    call_command(
        "provision", "google", "sso-settings", "--base-url", BASE, "--no-domain-specific-issuer"
    )
    out = capsys.readouterr().out
    assert "profile for guru.belajar.test" in out and "OFF (not ticked)" in out
    assert Service.objects.filter(saml_entity_id="google.com").exists()
    with pytest.raises(CommandError, match="not a Google Workspace domain"):
        call_command("provision", "google", "sso-settings", "--domain", "x/y", "--base-url", BASE)
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": ""}
    with pytest.raises(CommandError, match="base-url"):
        call_command("provision", "google", "sso-settings")


# --- over real HTTP ----------------------------------------------------------------------


def _setup(live_server, state="active"):
    student = builders.student(builders.school(), state=state, password="teh manis di sore hari")
    google.do_register_google_profile(DOMAIN, actor="test")
    idp_md = requests.get(f"{live_server.url}/saml/metadata", timeout=30).text
    eid, acs = google.entity_id(DOMAIN), google.acs_url(DOMAIN)
    return student, sp_client(eid, acs, idp_md), eid, acs


def _google_sign_in(live_server, eid, acs, browser=None):
    rid, xml = authn_request(eid, acs)
    relay = f"https://www.google.com/a/{DOMAIN}/ServiceLogin?continue=https://mail.google.com/"
    browser = browser or Browser(live_server.url)
    kind, page = browser.go(redirect_url(f"{live_server.url}/saml/sso", xml, relay))
    return rid, relay, browser, page


@pytest.mark.django_db(transaction=True)
def test_google_signs_in_with_the_user_id_as_nameid(live_server):
    student, sp, eid, acs = _setup(live_server)
    rid, relay, browser, page = _google_sign_in(live_server, eid, acs)
    assert "/masuk" in page.url
    kind, page = browser.sign_in(page, student.user_id)
    assert kind == "page" and page.status_code == 200
    action = re.search(r'<form[^>]*id="saml-post"[^>]*action="([^"]+)"', page.text)
    action = action or re.search(r'<form[^>]*action="([^"]+)"[^>]*id="saml-post"', page.text)
    assert action.group(1) == acs
    fields = form_fields(page.text, "saml-post")
    assert fields["RelayState"] == relay
    response = sp.parse_authn_request_response(
        fields["SAMLResponse"], BINDING_HTTP_POST, outstanding={rid: relay}
    )
    assert response.name_id.text == student.user_id
    assert response.name_id.format == NAMEID_FORMAT_UNSPECIFIED
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    assert f"google.com/a/{DOMAIN}" in xml  # the audience is Google's entity
    assert "nisn" not in xml.lower() and "birthdate" not in xml.lower()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("verb", ["suspend", "deactivate"])
def test_a_suspended_or_deactivated_account_cannot_sign_in_to_google(live_server, verb):
    student, sp, eid, acs = _setup(live_server)
    # Signed in to Akun first, then suspended: the next Google sign-in gets no assertion.
    browser = Browser(live_server.url)
    kind, page = browser.go(f"{live_server.url}/masuk")
    browser.sign_in(page, student.user_id)
    getattr(accounts_api, f"do_{verb}_account")(student, actor="test", reason="test")
    rid, relay, browser, page = _google_sign_in(live_server, eid, acs, browser)
    assert "SAMLResponse" not in page.text and "/masuk" in page.url
    # Signing in again with the right password does not help either.
    kind, page = browser.sign_in(page, student.user_id)
    assert "SAMLResponse" not in page.text


@pytest.mark.django_db(transaction=True)
def test_only_the_registered_google_issuer_is_answered(live_server):
    student, sp, eid, acs = _setup(live_server)
    _rid, _relay, _browser, page = _google_sign_in(live_server, "google.com", acs)
    assert page.status_code == 403 and "SAMLResponse" not in page.text
    # An ACS that is not Google's documented one for the domain is refused too.
    other = f"https://www.google.com/a/{DOMAIN}.evil.test/acs"
    _rid, _relay, browser, page = _google_sign_in(live_server, eid, other)
    if "/masuk" in page.url:
        kind, page = browser.sign_in(page, student.user_id)
    assert "SAMLResponse" not in page.text


@pytest.mark.django_db
def test_googles_sign_out_page_never_signs_out_by_get(client):
    s = builders.student(builders.school(), state="active", password="teh manis di sore hari")
    client.post("/masuk", {"user_id": s.user_id, "password": "teh manis di sore hari"})
    page = client.get("/saml/google/keluar")
    assert page.status_code == 200 and "Anda sudah keluar dari Google" in page.content.decode()
    assert client.get("/akun-saya").status_code == 200  # still signed in to Akun
    assert 'action="/keluar"' in page.content.decode()
