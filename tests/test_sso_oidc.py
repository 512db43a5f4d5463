"""OpenID Connect end to end, over real HTTP against a running Akun (live_server): an Authlib
relying party, and requests as the browser walking the real sign-in and consent pages."""

import time

import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError

from akun.accounts.api import do_suspend_account
from akun.audit.api import AuditEvent
from akun.identity.models import ServiceSignIn
from akun.sso import actions, keys
from akun.sso.models import Consent
from tests import builders
from tests.sso_support import CALLBACK, Browser, RelyingParty, query

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def web_service():
    svc, secret = actions.do_add_oidc_service(
        "Kelas Maya",
        kind="web",
        redirect_uris=[CALLBACK],
        post_logout_redirect_uris=["http://127.0.0.1:18799/bye"],
        scopes="openid profile email akun",
        actor="test",
    )
    return svc, secret


def sign_in_flow(base, rp, user_id, consent=True, pkce=True):
    browser = Browser(base)
    kind, page = browser.go(rp.authorization_url(pkce=pkce))
    assert kind == "page" and "/masuk" in page.url, page.url
    kind, page = browser.sign_in(page, user_id)
    if kind == "page" and consent:
        assert 'id="consent"' in page.text, page.text[:500]
        kind, page = browser.consent(page)
    assert kind == "callback", getattr(page, "text", "")[:500]
    return browser, page


def test_code_pkce_id_token_userinfo_refresh_then_suspended(live_server, student, web_service):
    svc, secret = web_service
    base = live_server.url
    rp = RelyingParty(base, svc.application.client_id, secret)
    assert rp.meta["issuer"] == base
    assert "S256" in rp.meta["code_challenge_methods_supported"]

    browser, callback = sign_in_flow(base, rp, student.user_id)
    token = rp.finish(callback)
    claims = rp.verify_id_token(token)
    assert claims["sub"] == student.user_id
    assert claims["role"] == "peserta_didik"
    assert claims["school_npsn"] == "20104321"
    assert claims["province_code"] == "32" and claims["regency_code"] == "3204"
    assert claims["grade"] == 5 and claims["class"] == "5A"
    assert "nisn" not in claims and "birthdate" not in claims  # not allowed to this service

    info = rp.userinfo(token)
    assert info.status_code == 200
    assert info.json()["email"] == student.user_id
    assert info.json()["school_name"] == "SD NEGERI 1 CIBODAS"

    # Akun Saya lists the service; the consent is remembered (no screen the second time).
    assert ServiceSignIn.objects.filter(account=student, service_id=svc.service_id).exists()
    assert Consent.objects.get(account=student, service=svc).covers(["openid", "akun"])
    rp2 = RelyingParty(base, svc.application.client_id, secret)
    kind, url = browser.go(rp2.authorization_url())
    assert kind == "callback", "remembered consent should not ask again"
    assert "code" in query(url)

    refreshed = rp.refresh(token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"]  # rotated
    assert rp.userinfo(refreshed).status_code == 200

    do_suspend_account(student, actor="test", reason="test")
    with pytest.raises(OAuthError) as e:
        rp.refresh(refreshed["refresh_token"])
    assert e.value.error == "invalid_grant"
    assert rp.userinfo(refreshed).status_code == 401
    # ...and no new sign-in can start: the sign-in page refuses the account.
    rp3 = RelyingParty(base, svc.application.client_id, secret)
    kind, page = Browser(base).go(rp3.authorization_url())
    kind, page = Browser(base).sign_in(page, student.user_id) if kind == "page" else (kind, page)
    assert kind == "page" and "/masuk" in page.url


def test_refused_even_when_state_changes_without_the_signal(live_server, student, web_service):
    svc, secret = web_service
    rp = RelyingParty(live_server.url, svc.application.client_id, secret)
    _, callback = sign_in_flow(live_server.url, rp, student.user_id)
    token = rp.finish(callback)
    type(student).objects.filter(pk=student.pk).update(state="deactivated")  # no save()
    with pytest.raises(OAuthError):
        rp.refresh(token["refresh_token"])


def test_public_client_needs_pkce(live_server, student):
    svc, _ = actions.do_add_oidc_service(
        "Aplikasi Rapor", kind="public", redirect_uris=[CALLBACK], first_party=True, actor="t"
    )
    rp = RelyingParty(live_server.url, svc.application.client_id, None, scope="openid profile")
    browser = Browser(live_server.url)
    kind, page = browser.go(rp.authorization_url(pkce=False))
    kind, page = browser.sign_in(page, student.user_id)
    # Refused: back to the client with an error, never a code.
    assert kind == "callback"
    q = query(page)
    assert "code" not in q and q["error"] == "invalid_request"
    # With PKCE the same public client (first-party: no consent screen) gets through.
    rp = RelyingParty(live_server.url, svc.application.client_id, None, scope="openid profile")
    kind, url = browser.go(rp.authorization_url())
    assert kind == "callback"
    token = rp.finish(url)
    assert rp.verify_id_token(token)["preferred_username"] == student.user_id


def test_wrong_redirect_uri_is_refused_without_redirecting(live_server, student, web_service):
    svc, secret = web_service
    rp = RelyingParty(
        live_server.url, svc.application.client_id, secret, redirect_uri=CALLBACK + "/../evil"
    )
    browser = Browser(live_server.url)
    kind, page = browser.go(rp.authorization_url())
    kind, page = browser.sign_in(page, student.user_id)
    assert kind == "page" and page.status_code == 400
    assert "evil" not in page.headers.get("Location", "")
    rp = RelyingParty(
        live_server.url, svc.application.client_id, secret, redirect_uri=CALLBACK + "x"
    )
    kind, page = browser.go(rp.authorization_url())
    assert kind == "page" and page.status_code == 400


def test_replayed_code_is_refused(live_server, student, web_service):
    svc, secret = web_service
    rp = RelyingParty(live_server.url, svc.application.client_id, secret)
    _, callback = sign_in_flow(live_server.url, rp, student.user_id)
    rp.finish(callback)
    with pytest.raises(OAuthError) as e:
        rp.finish(callback)
    assert e.value.error == "invalid_grant"


def test_reused_refresh_token_revokes_the_family(live_server, student, web_service):
    svc, secret = web_service
    rp = RelyingParty(live_server.url, svc.application.client_id, secret)
    _, callback = sign_in_flow(live_server.url, rp, student.user_id)
    first = rp.finish(callback)
    second = rp.refresh(first["refresh_token"])
    with pytest.raises(OAuthError):
        rp.refresh(first["refresh_token"])  # stolen and replayed
    # The legitimate holder's newer token died with the family.
    with pytest.raises(OAuthError):
        rp.refresh(second["refresh_token"])
    assert rp.userinfo(second).status_code == 401


def test_expired_tokens_are_refused(live_server, student, web_service, settings):
    from oauth2_provider.models import AccessToken, RefreshToken
    from oauth2_provider.settings import oauth2_settings

    svc, secret = web_service
    rp = RelyingParty(live_server.url, svc.application.client_id, secret)
    _, callback = sign_in_flow(live_server.url, rp, student.user_id)
    token = rp.finish(callback)
    import datetime as dt

    from django.utils import timezone

    past = timezone.now() - dt.timedelta(seconds=oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS + 10)
    AccessToken.objects.filter(user=student).update(expires=past)
    assert rp.userinfo(token).status_code == 401
    assert RefreshToken.objects.filter(user=student, revoked__isnull=True).exists()
    with pytest.raises(OAuthError):
        rp.refresh(token["refresh_token"])
    # An expired ID token fails the relying party's own check.
    later = time.time() + oauth2_settings.ID_TOKEN_EXPIRE_SECONDS + 120
    with pytest.raises(Exception, match="expired"):
        rp.verify_id_token(token, now=later)


def test_client_credentials_introspection_and_revocation(live_server, student, web_service):
    svc, secret = web_service
    machine, msecret = actions.do_add_oidc_service(
        "Pusat Data", kind="machine", scopes="introspection", may_introspect=True, actor="t"
    )
    base = live_server.url
    meta = requests.get(f"{base}/.well-known/openid-configuration", timeout=30).json()
    from authlib.integrations.requests_client import OAuth2Session

    m = OAuth2Session(machine.application.client_id, msecret, scope="introspection")
    cc = m.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    assert cc["token_type"] == "Bearer" and "refresh_token" not in cc

    rp = RelyingParty(base, svc.application.client_id, secret)
    _, callback = sign_in_flow(base, rp, student.user_id)
    token = rp.finish(callback)
    r = requests.post(
        meta["introspection_endpoint"],
        data={"token": token["access_token"]},
        headers={"Authorization": f"Bearer {cc['access_token']}"},
        timeout=30,
    )
    assert r.json()["active"] is True and r.json()["username"] == student.user_id
    rp.client.revoke_token(meta["revocation_endpoint"], token["access_token"])
    r = requests.post(
        meta["introspection_endpoint"],
        data={"token": token["access_token"]},
        headers={"Authorization": f"Bearer {cc['access_token']}"},
        timeout=30,
    )
    assert r.json()["active"] is False
    # A token without the introspection scope may not introspect.
    r = requests.post(
        meta["introspection_endpoint"],
        data={"token": cc["access_token"]},
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=30,
    )
    assert r.status_code in (401, 403)


def test_personal_identifiers_only_to_allowed_services(live_server, school):
    teacher = builders.staff(school)
    from akun.roster.models import Ptk

    Ptk.objects.filter(ptk_id=teacher.person_id).update(nuptk="1234567890123456")
    svc, secret = actions.do_add_oidc_service(
        "SIM PKB",
        redirect_uris=[CALLBACK],
        scopes="openid akun",
        personal_claims=["nuptk", "birthdate"],
        first_party=True,
        actor="t",
    )
    rp = RelyingParty(live_server.url, svc.application.client_id, secret, scope="openid akun")
    _, callback = sign_in_flow(live_server.url, rp, teacher.user_id, consent=False)
    claims = rp.verify_id_token(rp.finish(callback))
    assert claims["role"] == "pendidik"
    assert claims["nuptk"] == "1234567890123456"
    assert claims["birthdate"] == "1985-07-21"
    assert "nik" not in claims and "grade" not in claims


def test_scope_outside_the_registration_is_refused(live_server, student):
    svc, secret = actions.do_add_oidc_service(
        "Perpustakaan", redirect_uris=[CALLBACK], scopes="openid profile", actor="t"
    )
    rp = RelyingParty(live_server.url, svc.application.client_id, secret, scope="openid akun")
    browser = Browser(live_server.url)
    kind, page = browser.go(rp.authorization_url())
    kind, page = browser.sign_in(page, student.user_id)
    assert kind == "callback" and query(page)["error"] == "invalid_scope"


def test_key_rotation_keeps_old_tokens_verifiable(live_server, student, web_service):
    svc, secret = web_service
    rp = RelyingParty(live_server.url, svc.application.client_id, secret)
    browser, callback = sign_in_flow(live_server.url, rp, student.user_id)
    old = rp.finish(callback)
    old_kid = rp.verify_id_token(old).header["kid"] if hasattr(old, "header") else None
    new_key, retired = actions.do_rotate_key(actor="test")
    keys.reset()
    jwks = requests.get(rp.meta["jwks_uri"], timeout=30).json()
    kids = [k["kid"] for k in jwks["keys"]]
    assert new_key.kid in kids and retired[0].kid in kids
    assert rp.verify_id_token(old)  # still verifies: the old key is published
    rp2 = RelyingParty(live_server.url, svc.application.client_id, secret)
    kind, url = browser.go(rp2.authorization_url())
    new = rp2.finish(url)
    import json

    from authlib.common.encoding import urlsafe_b64decode

    header = json.loads(urlsafe_b64decode(new["id_token"].split(".")[0].encode()))
    assert header["kid"] == new_key.kid and header["alg"] == "RS256"
    assert rp2.verify_id_token(new)
    del old_kid


def test_rp_initiated_logout_ends_the_session(live_server, student, web_service):
    svc, secret = web_service
    rp = RelyingParty(live_server.url, svc.application.client_id, secret)
    browser, callback = sign_in_flow(live_server.url, rp, student.user_id)
    token = rp.finish(callback)
    url = (
        rp.meta["end_session_endpoint"]
        + f"?id_token_hint={token['id_token']}&client_id={svc.application.client_id}"
        + "&post_logout_redirect_uri=http://127.0.0.1:18799/bye&state=s1"
    )
    kind, dest = browser.go(url, stop_at="http://127.0.0.1:18799/bye")
    assert kind == "callback" and query(dest)["state"] == "s1"
    kind, page = browser.go(f"{live_server.url}/akun-saya")
    assert kind == "page" and "/masuk" in page.url  # signed out of Akun


def test_consent_screen_is_indonesian_and_can_be_declined(live_server, student, web_service):
    svc, secret = web_service
    rp = RelyingParty(live_server.url, svc.application.client_id, secret)
    browser = Browser(live_server.url)
    kind, page = browser.go(rp.authorization_url())
    kind, page = browser.sign_in(page, student.user_id)
    assert kind == "page" and "Kelas Maya" in page.text
    assert "Izinkan" in page.text  # Bahasa Indonesia first
    kind, url = browser.consent(page, allow=False)
    assert kind == "callback" and query(url)["error"] == "access_denied"
    assert not Consent.objects.filter(account=student).exists()
    denied = AuditEvent.objects.get(action="sso.deny_consent")
    assert (denied.actor, denied.object_id) == (student.user_id, student.user_id)
    assert denied.after["service"] == svc.slug and "openid" in denied.after["scopes"]


def test_revoking_from_akun_saya_ends_access_and_asks_again(live_server, student, web_service):
    from akun.sso.api import revoke_service

    svc, secret = web_service
    rp = RelyingParty(live_server.url, svc.application.client_id, secret)
    browser, callback = sign_in_flow(live_server.url, rp, student.user_id)
    token = rp.finish(callback)
    kind, page = browser.go(f"{live_server.url}/akun-saya")
    assert "Kelas Maya" in page.text and "/akun-saya/layanan" in page.text  # the link
    kind, page = browser.go(f"{live_server.url}/akun-saya/layanan")
    assert "Kelas Maya" in page.text and "Cabut akses" in page.text
    revoke_service(student, svc.service_id, actor=student.user_id)
    with pytest.raises(OAuthError):
        rp.refresh(token["refresh_token"])
    assert not ServiceSignIn.objects.filter(account=student).exists()
    rp2 = RelyingParty(live_server.url, svc.application.client_id, secret)
    kind, page = browser.go(rp2.authorization_url())
    assert kind == "page" and 'id="consent"' in page.text  # asked again
