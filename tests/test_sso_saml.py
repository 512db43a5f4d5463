"""SAML 2.0 end to end over real HTTP: a pysaml2 service provider (its own metadata
registered with Akun, Akun's metadata fetched from the running server) signs a person in and
checks the signatures; a tampered response is refused."""

import base64
import re

import pytest
import requests
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS

from akun.identity.models import ServiceSignIn
from akun.sso import actions
from tests import builders
from tests.sso_support import Browser, form_fields

pytestmark = pytest.mark.django_db(transaction=True)

SP = "http://127.0.0.1:18798"


def sp_config(idp_metadata: str | None) -> SPConfig:
    conf = {
        "entityid": f"{SP}/sp/metadata",
        "service": {
            "sp": {
                "endpoints": {"assertion_consumer_service": [(f"{SP}/acs", BINDING_HTTP_POST)]},
                "want_response_signed": True,
                "want_assertions_signed": True,
                "allow_unsolicited": True,
                "authn_requests_signed": False,
                "name_id_format": NAMEID_FORMAT_EMAILADDRESS,
            }
        },
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "allow_unknown_attributes": True,
    }
    if idp_metadata:
        conf["metadata"] = {"inline": [idp_metadata]}
    c = SPConfig()
    c.load(conf)
    return c


@pytest.fixture
def setup(live_server):
    school = builders.school()
    student = builders.student(school, state="active", password="teh manis di sore hari")
    sp_metadata = create_metadata_string(None, config=sp_config(None), valid=None).decode()
    svc = actions.do_add_saml_service(
        "Ruang Kolaborasi",
        metadata_xml=sp_metadata,
        attributes={"mail": "email", "displayName": "name", "peran": "role", "npsn": "school_npsn"},
        actor="test",
    )
    idp_md = requests.get(f"{live_server.url}/saml/metadata", timeout=30)
    assert idp_md.status_code == 200 and "X509Certificate" in idp_md.text
    client = Saml2Client(config=sp_config(idp_md.text))
    return student, svc, client, f"{live_server.url}/saml/metadata"


def post_form(page) -> tuple[str, dict]:
    tag = re.search(r'<form[^>]*id="saml-post"[^>]*>', page.text)
    assert tag, page.text[:800]
    action = re.search(r'action="([^"]+)"', tag.group(0)).group(1)
    return action, form_fields(page.text, "saml-post")


def test_sp_initiated_login_with_verified_signatures(live_server, setup):
    student, svc, client, idp_entity = setup
    req_id, info = client.prepare_for_authenticate(
        entityid=idp_entity, relay_state="/kursus/7", binding=BINDING_HTTP_REDIRECT
    )
    location = dict(info["headers"])["Location"]
    browser = Browser(live_server.url)
    kind, page = browser.go(location)
    assert kind == "page" and "/masuk" in page.url
    kind, page = browser.sign_in(page, student.user_id)
    assert kind == "page" and page.status_code == 200
    action, fields = post_form(page)
    assert action == f"{SP}/acs" and fields["RelayState"] == "/kursus/7"

    response = client.parse_authn_request_response(
        fields["SAMLResponse"], BINDING_HTTP_POST, outstanding={req_id: "/kursus/7"}
    )
    assert response is not None
    assert response.name_id.text == student.user_id
    assert response.ava["mail"] == [student.user_id]
    assert response.ava["peran"] == ["peserta_didik"]
    assert response.ava["npsn"] == ["20104321"]
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    assert len(re.findall(r"<(?:\w+:)?Signature[ >]", xml)) >= 2  # response and assertion signed
    assert ServiceSignIn.objects.filter(account=student, service_id=svc.saml_entity_id).exists()


def test_tampered_response_is_refused(live_server, setup):
    student, svc, client, idp_entity = setup
    browser = Browser(live_server.url)
    kind, page = browser.go(f"{live_server.url}/masuk")
    browser.sign_in(page, student.user_id)
    kind, page = browser.go(f"{live_server.url}/saml/masuk/{svc.slug}")
    _, fields = post_form(page)
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    # The untouched unsolicited (IdP-initiated) response is accepted...
    ok = client.parse_authn_request_response(fields["SAMLResponse"], BINDING_HTTP_POST)
    assert ok.name_id.text == student.user_id
    # ...one naming someone else is not.
    forged = xml.replace(student.user_id, "kepalasekolah@sd.belajar.test")
    assert forged != xml
    with pytest.raises(Exception, match="(?i)signature"):
        client.parse_authn_request_response(
            base64.b64encode(forged.encode()).decode(), BINDING_HTTP_POST
        )


def test_unregistered_service_provider_is_refused(live_server, setup):
    student, svc, client, idp_entity = setup
    actions.do_update_service(svc, active=False, actor="test")
    req_id, info = client.prepare_for_authenticate(
        entityid=idp_entity, binding=BINDING_HTTP_REDIRECT
    )
    browser = Browser(live_server.url)
    kind, page = browser.go(dict(info["headers"])["Location"])
    kind, page = browser.sign_in(page, student.user_id)
    assert kind == "page" and page.status_code in (400, 403)
    assert "SAMLResponse" not in page.text


def test_suspended_account_gets_no_assertion(live_server, setup):
    from akun.accounts.api import do_suspend_account

    student, svc, client, idp_entity = setup
    browser = Browser(live_server.url)
    kind, page = browser.go(f"{live_server.url}/masuk")
    browser.sign_in(page, student.user_id)
    do_suspend_account(student, actor="test", reason="test")
    kind, page = browser.go(f"{live_server.url}/saml/masuk/{svc.slug}")
    assert kind == "page" and "SAMLResponse" not in page.text and "/masuk" in page.url
