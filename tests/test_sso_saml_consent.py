"""A third-party SAML service gets the consent screen before any assertion, as OpenID Connect
services do: over real HTTP, with the pysaml2 service provider of test_sso_saml completing the
flow and checking Akun's signatures. Allow is remembered until revoked in Akun Saya; deny
sends the service a signed RequestDenied with no assertion; the answer is bound to the
sign-in, the person and the service it was asked for."""

import base64
import json
import re
from urllib.parse import urljoin

import pytest
import requests
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.metadata import create_metadata_string
from saml2.response import StatusRequestDenied
from saml2.samlp import STATUS_REQUEST_DENIED, STATUS_RESPONDER

from akun.audit.api import AuditEvent
from akun.identity.models import ServiceSignIn
from akun.sso import actions
from akun.sso.models import Consent, Service
from tests import builders
from tests.sso_support import Browser, form_fields, signed_in
from tests.test_sso_saml import SP, post_form, sp_config

pytestmark = pytest.mark.django_db(transaction=True)

ATTRIBUTES = {"mail": "email", "displayName": "name", "peran": "role", "npsn": "school_npsn"}


class Sp:
    """One pysaml2 service provider registered with Akun, and its client."""

    def __init__(self, live_server, name, entity=f"{SP}/sp/metadata", first_party=False):
        conf = sp_config(None)
        conf.entityid = entity
        md = create_metadata_string(None, config=conf, valid=None).decode()
        self.svc = actions.do_add_saml_service(
            name, metadata_xml=md, attributes=ATTRIBUTES, first_party=first_party, actor="test"
        )
        idp_md = requests.get(f"{live_server.url}/saml/metadata", timeout=30).text
        conf = sp_config(idp_md)
        conf.entityid = entity
        self.client = Saml2Client(config=conf)
        self.idp = f"{live_server.url}/saml/metadata"

    def login_url(self, relay_state="/kursus/7"):
        self.req_id, info = self.client.prepare_for_authenticate(
            entityid=self.idp, relay_state=relay_state, binding=BINDING_HTTP_REDIRECT
        )
        return dict(info["headers"])["Location"]

    def receive(self, fields, solicited=True):
        outstanding = {self.req_id: "/kursus/7"} if solicited else None
        return self.client.parse_authn_request_response(
            fields["SAMLResponse"], BINDING_HTTP_POST, outstanding=outstanding
        )


@pytest.fixture
def world(live_server):
    school = builders.school()
    student = builders.student(school, state="active", password="teh manis di sore hari")
    return student, live_server


def is_consent(page) -> bool:
    return 'id="consent"' in page.text and "SAMLResponse" not in page.text


def answer(browser, page, allow=True, fields=None):
    """Post the consent form to its action, as a browser would."""
    tag = re.search(r'<form[^>]*id="consent"[^>]*>', page.text).group(0)
    action = re.search(r'action="([^"]+)"', tag)
    url = urljoin(page.url, action.group(1)) if action else page.url
    data = fields if fields is not None else form_fields(page.text, "consent")
    if allow:
        data = {**data, "allow": "1"}
    return browser.go(url, method="POST", data=data)


def test_sp_initiated_third_party_asks_then_sends_a_verified_assertion(world):
    student, live_server = world
    sp = Sp(live_server, "Ruang Kolaborasi")
    browser = Browser(live_server.url)
    kind, page = browser.go(sp.login_url())
    kind, page = browser.sign_in(page, student.user_id)
    assert kind == "page" and page.status_code == 200 and is_consent(page)
    # The service by name and what its attributes carry, in Indonesian (the default).
    assert "Ruang Kolaborasi" in page.text and student.user_id in page.text
    for text in ("ID pengguna Anda", "Alamat e-mail akun belajar Anda", "Nama Anda"):
        assert text in page.text
    assert "NPSN sekolah Anda" in page.text and "Peran Anda" in page.text
    assert "Tanggal lahir" not in page.text  # not mapped, not allowed: not mentioned
    assert not Consent.objects.exists() and not ServiceSignIn.objects.exists()

    kind, page = answer(browser, page, allow=True)
    action, fields = post_form(page)
    assert action == f"{SP}/acs" and fields["RelayState"] == "/kursus/7"
    response = sp.receive(fields)
    assert response.name_id.text == student.user_id
    assert response.ava["mail"] == [student.user_id] and response.ava["npsn"] == ["20104321"]
    consent = Consent.objects.get(account=student, service=sp.svc)
    assert consent.revoked_at is None
    assert set(consent.scopes.split()) == {"sub", "email", "name", "role", "school_npsn"}
    audit = AuditEvent.objects.get(action="sso.grant_consent", object_id=student.user_id)
    assert audit.after["service"] == sp.svc.slug and audit.actor == student.user_id
    assert ServiceSignIn.objects.filter(account=student, service_id=sp.svc.service_id).exists()


def test_remembered_consent_skips_the_screen_until_revoked_in_akun_saya(world):
    student, live_server = world
    sp = Sp(live_server, "Ruang Kolaborasi")
    browser = signed_in(live_server, student)
    kind, page = browser.go(sp.login_url())
    assert is_consent(page)
    kind, page = answer(browser, page, allow=True)
    assert sp.receive(post_form(page)[1]).name_id.text == student.user_id

    # Second sign-in: straight to the service.
    kind, page = browser.go(sp.login_url())
    assert not is_consent(page)
    assert sp.receive(post_form(page)[1]).name_id.text == student.user_id

    # Revoked from Akun Saya's list of services: asked again.
    kind, page = browser.go(f"{live_server.url}/akun-saya/layanan")
    assert "Ruang Kolaborasi" in page.text
    revoke = f"/akun-saya/layanan/{sp.svc.slug}/cabut"
    assert revoke in page.text
    csrf = form_fields(page.text)["csrfmiddlewaretoken"]
    kind, page = browser.go(
        f"{live_server.url}{revoke}", method="POST", data={"csrfmiddlewaretoken": csrf}
    )
    assert Consent.objects.get(account=student, service=sp.svc).revoked_at is not None
    kind, page = browser.go(sp.login_url())
    assert is_consent(page)
    kind, page = answer(browser, page, allow=True)
    assert sp.receive(post_form(page)[1]).name_id.text == student.user_id
    assert Consent.objects.get(account=student, service=sp.svc).revoked_at is None


def test_a_service_asking_for_more_than_was_allowed_asks_again(world):
    student, live_server = world
    sp = Sp(live_server, "Ruang Kolaborasi")
    browser = signed_in(live_server, student)
    kind, page = browser.go(sp.login_url())
    answer(browser, page, allow=True)
    actions.do_update_service(
        sp.svc, saml_attributes={**ATTRIBUTES, "kelas": "class"}, actor="test"
    )
    kind, page = browser.go(sp.login_url())
    assert is_consent(page) and "Rombel (rombongan belajar) Anda" in page.text


def test_denied_consent_sends_a_refusal_and_no_assertion(world):
    student, live_server = world
    sp = Sp(live_server, "Ruang Kolaborasi")
    browser = signed_in(live_server, student)
    kind, asked = browser.go(sp.login_url())
    assert is_consent(asked)
    kind, page = answer(browser, asked, allow=False)
    action, fields = post_form(page)
    assert action == f"{SP}/acs" and fields["RelayState"] == "/kursus/7"
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    assert STATUS_RESPONDER in xml and STATUS_REQUEST_DENIED in xml
    assert not re.search(r"<(?:\w+:)?Assertion[ >]", xml) and student.user_id not in xml
    with pytest.raises(StatusRequestDenied):
        sp.receive(fields)
    assert not Consent.objects.exists() and not ServiceSignIn.objects.exists()
    assert (
        AuditEvent.objects.filter(action="sso.deny_consent", object_id=student.user_id).count() == 1
    )
    # The request is used up: the same form, now saying allow, continues nothing.
    kind, page = answer(browser, asked, allow=True)
    assert page.status_code == 400 and "SAMLResponse" not in page.text
    assert not Consent.objects.exists()


def test_idp_initiated_third_party_asks_first(world):
    student, live_server = world
    sp = Sp(live_server, "Ruang Kolaborasi")
    browser = signed_in(live_server, student)
    url = f"{live_server.url}/saml/masuk/{sp.svc.slug}?RelayState=/beranda"

    kind, page = browser.go(url)
    assert page.status_code == 200 and is_consent(page) and "Ruang Kolaborasi" in page.text
    kind, page = answer(browser, page, allow=False)
    assert page.status_code == 403 and "SAMLResponse" not in page.text
    assert "tidak mengizinkan Ruang Kolaborasi" in page.text
    assert not Consent.objects.exists() and not ServiceSignIn.objects.exists()
    assert (
        AuditEvent.objects.filter(action="sso.deny_consent", object_id=student.user_id).count() == 1
    )

    kind, page = browser.go(url)
    assert is_consent(page)
    kind, page = answer(browser, page, allow=True)
    action, fields = post_form(page)
    assert action == f"{SP}/acs" and fields["RelayState"] == "/beranda"
    assert sp.receive(fields, solicited=False).name_id.text == student.user_id
    assert Consent.objects.get(account=student, service=sp.svc).revoked_at is None

    kind, page = browser.go(url)  # remembered
    assert not is_consent(page)
    assert sp.receive(post_form(page)[1], solicited=False).name_id.text == student.user_id


def test_first_party_services_still_get_no_consent_screen(world):
    student, live_server = world
    sp = Sp(live_server, "Rapor SAML", first_party=True)
    browser = Browser(live_server.url)
    kind, page = browser.go(sp.login_url())
    kind, page = browser.sign_in(page, student.user_id)
    assert not is_consent(page)
    assert sp.receive(post_form(page)[1]).name_id.text == student.user_id
    kind, page = browser.go(f"{live_server.url}/saml/masuk/{sp.svc.slug}")
    assert not is_consent(page)
    assert sp.receive(post_form(page)[1], solicited=False).name_id.text == student.user_id
    assert not Consent.objects.exists()
    # A posted "answer" for a first-party service is no way around anything either.
    kind, page = browser.go(
        f"{live_server.url}/saml/masuk/{sp.svc.slug}",
        method="POST",
        data={"csrfmiddlewaretoken": browser.s.cookies["csrftoken"], "consent": "x"},
    )
    assert page.status_code == 400 and "SAMLResponse" not in page.text


def test_consent_answer_is_csrf_protected_and_bound_to_its_request_person_and_service(world):
    student, live_server = world
    a = Sp(live_server, "Ruang Kolaborasi")
    b = Sp(live_server, "Kuis Seru", entity=f"{SP}/sp-kuis/metadata")
    browser = signed_in(live_server, student)

    kind, page = browser.go(a.login_url())
    old = form_fields(page.text, "consent")
    # Without the CSRF token: refused by Django.
    kind, r = browser.go(
        f"{live_server.url}/saml/sso/lanjut",
        method="POST",
        data={"consent": old["consent"], "allow": "1"},
    )
    assert r.status_code == 403 and "SAMLResponse" not in r.text
    # A later request (service B) replaces the pending one: A's page cannot answer it.
    kind, page_b = browser.go(b.login_url())
    assert is_consent(page_b) and "Kuis Seru" in page_b.text
    kind, r = answer(browser, page, allow=True, fields=old)
    assert r.status_code == 400 and "SAMLResponse" not in r.text
    # Nor can B's IdP-initiated page answer for A.
    kind, idp_page = browser.go(f"{live_server.url}/saml/masuk/{b.svc.slug}")
    b_fields = form_fields(idp_page.text, "consent")
    kind, r = browser.go(
        f"{live_server.url}/saml/masuk/{a.svc.slug}",
        method="POST",
        data={**b_fields, "allow": "1"},
    )
    assert r.status_code == 400 and "SAMLResponse" not in r.text
    assert not Consent.objects.exists()

    # Another person cannot use this person's answer, even with their own CSRF token.
    other = builders.student(
        builders.school(npsn="20104322", nama="SD NEGERI 2 CIBODAS"),
        nama="Budi Santoso",
        local_part="budisantoso3",
        state="active",
        password="teh manis di sore hari",
    )
    kind, page = browser.go(a.login_url())
    mine = form_fields(page.text, "consent")
    intruder = signed_in(live_server, other)
    kind, their_page = intruder.go(a.login_url())  # a pending request of their own
    assert is_consent(their_page)
    theirs = form_fields(their_page.text, "consent")
    kind, r = intruder.go(
        f"{live_server.url}/saml/sso/lanjut",
        method="POST",
        data={"csrfmiddlewaretoken": theirs["csrfmiddlewaretoken"], "consent": mine["consent"]},
    )
    assert r.status_code == 400 and "SAMLResponse" not in r.text

    # The person's own answer goes through once; posted again it continues nothing.
    kind, r = answer(browser, page, allow=True, fields=mine)
    assert a.receive(post_form(r)[1]).name_id.text == student.user_id
    kind, r = answer(browser, page, allow=True, fields=mine)
    assert r.status_code == 400 and "SAMLResponse" not in r.text
    assert list(Consent.objects.values_list("account__user_id", "service__slug")) == [
        (student.user_id, a.svc.slug)
    ]


def test_admins_choose_first_or_third_party_for_saml(run_akun, tmp_path, client):
    from tests.test_sso_admin import admin
    from tests.test_sso_admin import signed_in as admin_signed_in

    md = tmp_path / "sp.xml"
    md.write_text(create_metadata_string(None, config=sp_config(None), valid=None).decode())
    r = run_akun(
        "services", "add", "Wiki", "--protocol", "saml", "--saml-metadata", str(md), "--json"
    )
    assert r.returncode == 0, r.stderr
    assert Service.objects.get(slug=json.loads(r.stdout)["slug"]).first_party  # the default

    conf = sp_config(None)
    conf.entityid = f"{SP}/sp-forum/metadata"
    md.write_text(create_metadata_string(None, config=conf, valid=None).decode())
    r = run_akun(
        "services", "add", "Forum", "--protocol", "saml", "--saml-metadata", str(md),
        "--third-party", "--json",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert not Service.objects.get(slug=json.loads(r.stdout)["slug"]).first_party
    r = run_akun("services", "add", "X", "--first-party", "--third-party")
    assert r.returncode != 0

    c = admin_signed_in(client, admin("pusdatin", "national"))
    for name, entity, first in (("Galeri", "galeri", "1"), ("Perpus", "perpus", "")):
        conf = sp_config(None)
        conf.entityid = f"{SP}/{entity}/metadata"
        md_xml = create_metadata_string(None, config=conf, valid=None).decode()
        data = {"name": name, "protocol": "saml", "saml_metadata": md_xml}
        if first:
            data["first_party"] = first
        r = c.post("/admin/layanan/baru", data)
        assert r.status_code == 200 and 'id="registered"' in r.content.decode()
    assert Service.objects.get(name="Galeri").first_party
    assert not Service.objects.get(name="Perpus").first_party
