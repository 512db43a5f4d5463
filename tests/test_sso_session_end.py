"""Issue 12, point 2: whatever should end an account's sessions ends its SSO access too.

Over real HTTP (live_server): a device signs in to an OpenID Connect service (Authlib) and is
signed in at Akun (its session is the SSO session for OIDC and SAML). After each event --
sign out everywhere, a password change, a reset by code, the operator's reset, suspension,
deactivation, deletion -- the old access token gets 401 at userinfo, the old refresh token
gets invalid_grant, and the device must sign in again before Akun answers an OIDC or SAML
sign-in; also after the account is active again."""

import re
from urllib.parse import urlparse

import pytest
from authlib.integrations.base_client.errors import OAuthError
from django.contrib.auth.hashers import make_password
from django.core import mail
from saml2.metadata import create_metadata_string

from akun.accounts.api import (
    Account,
    do_deactivate_account,
    do_delete_account,
    do_reactivate_account,
    do_suspend_account,
    do_unsuspend_account,
)
from akun.core import clock
from akun.identity import terms
from akun.portal.actions import do_create_admin, do_reset_password
from akun.sso import actions
from tests import builders
from tests.sso_support import PASSWORD, Browser, RelyingParty, form_fields
from tests.test_sso_oidc import sign_in_flow
from tests.test_sso_saml import sp_config


def operator_reset(account):
    """The reset an admin gives in the portal (a national admin may reset anyone)."""
    admin, _ = do_create_admin(nama="Admin Nasional", region="nasional", actor="test")
    return do_reset_password(account, by=admin)


pytestmark = pytest.mark.django_db(transaction=True)

NEW = "sepeda biru ke pasar"


class World:
    def __init__(self, base):
        self.base = base
        school = builders.school()
        self.student = builders.student(
            school, state="active", password=PASSWORD, recovery_email="siti.n@gmail.com"
        )
        self.oidc, self.secret = actions.do_add_oidc_service(
            "Kelas Maya",
            kind="web",
            redirect_uris=["http://127.0.0.1:18799/callback"],
            scopes="openid profile email akun",
            actor="test",
        )
        sp_metadata = create_metadata_string(None, config=sp_config(None), valid=None).decode()
        self.saml = actions.do_add_saml_service(
            "Ruang Kolaborasi", metadata_xml=sp_metadata, actor="test"
        )

    def rp(self):
        return RelyingParty(self.base, self.oidc.application.client_id, self.secret)

    def device(self):
        """A browser signed in at Akun and to the OIDC service: (browser, rp, tokens)."""
        rp = self.rp()
        browser, callback = sign_in_flow(self.base, rp, self.student.user_id)
        token = rp.finish(callback)
        assert rp.userinfo(token).status_code == 200
        self.assert_sso_session(browser)
        return browser, rp, token

    def assert_sso_session(self, browser):
        """Signed in at Akun: an OIDC authorization and a SAML sign-in are answered."""
        kind, _ = browser.go(self.rp().authorization_url())
        assert kind == "callback"
        kind, page = browser.go(f"{self.base}/saml/masuk/{self.saml.slug}")
        assert kind == "page" and 'id="saml-post"' in page.text, page.url

    def assert_no_sso_session(self, browser):
        kind, page = browser.go(self.rp().authorization_url())
        assert kind == "page", f"still signed in at Akun: answered {page}"
        assert urlparse(page.url).path == "/masuk", page.url
        kind, page = browser.go(f"{self.base}/saml/masuk/{self.saml.slug}")
        assert kind == "page" and urlparse(page.url).path == "/masuk", page.url
        assert 'id="saml-post"' not in page.text

    def signed_in_at_akun(self, password=PASSWORD):
        browser = Browser(self.base)
        kind, page = browser.go(f"{self.base}/masuk")
        kind, page = browser.sign_in(page, self.student.user_id, password)
        assert kind == "page" and urlparse(page.url).path == "/akun-saya", page.url
        return browser, page

    def activate_with_slip(self, slip):
        """The holder signs in with a new slip, accepts the terms, chooses a password."""
        browser = Browser(self.base)
        kind, page = browser.go(f"{self.base}/masuk")
        kind, page = browser.sign_in(page, self.student.user_id, slip)
        assert urlparse(page.url).path == "/aktivasi/ketentuan", page.url
        fields = form_fields(page.text)
        kind, page = browser.go(page.url, method="POST", data={**fields, "accept": "on"})
        assert urlparse(page.url).path == "/aktivasi/kata-sandi", page.url
        fields = {**form_fields(page.text), "new_password": NEW, "new_password2": NEW}
        kind, page = browser.go(page.url, method="POST", data=fields)
        assert urlparse(page.url).path == "/akun-saya", page.url
        self.student.refresh_from_db()
        assert self.student.state == Account.State.ACTIVE


def assert_tokens_dead(rp, token):
    assert rp.userinfo(token).status_code == 401
    with pytest.raises(OAuthError) as e:
        rp.refresh(token["refresh_token"])
    assert e.value.error == "invalid_grant"


@pytest.fixture
def world(live_server):
    return World(live_server.url)


def test_sign_out_everywhere_from_another_device(world):
    browser, rp, token = world.device()
    other, page = world.signed_in_at_akun()
    fields = form_fields(page.text)
    kind, page = other.go(f"{world.base}/akun-saya/keluar-semua", method="POST", data=fields)
    assert urlparse(page.url).path == "/masuk"
    assert_tokens_dead(rp, token)
    world.assert_no_sso_session(browser)
    world.device()  # signing in again works


def test_password_change_in_akun_saya(world):
    browser, rp, token = world.device()
    other, _ = world.signed_in_at_akun()
    kind, page = other.go(f"{world.base}/akun-saya/kata-sandi")
    fields = {
        **form_fields(page.text),
        "current_password": PASSWORD,
        "new_password": NEW,
        "new_password2": NEW,
    }
    kind, page = other.go(page.url, method="POST", data=fields)
    assert urlparse(page.url).path == "/akun-saya", page.url
    assert_tokens_dead(rp, token)
    world.assert_no_sso_session(browser)
    world.assert_sso_session(other)  # the session that changed it stays signed in


def test_reset_by_code(world):
    browser, rp, token = world.device()
    other = Browser(world.base)
    kind, page = other.go(f"{world.base}/reset-kata-sandi")
    fields = {
        **form_fields(page.text),
        "user_id": world.student.user_id,
        "tanggal_lahir": "2012-03-09",
    }
    kind, page = other.go(page.url, method="POST", data=fields)
    assert urlparse(page.url).path == "/reset-kata-sandi/kontak", page.url
    kind, page = other.go(page.url, method="POST", data={**form_fields(page.text), "contact": "e0"})
    assert urlparse(page.url).path == "/reset-kata-sandi/kode", page.url
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    kind, page = other.go(page.url, method="POST", data={**form_fields(page.text), "code": code})
    assert urlparse(page.url).path == "/aktivasi/kata-sandi", page.url
    fields = {**form_fields(page.text), "new_password": NEW, "new_password2": NEW}
    kind, page = other.go(page.url, method="POST", data=fields)
    assert urlparse(page.url).path == "/akun-saya", page.url
    assert_tokens_dead(rp, token)
    world.assert_no_sso_session(browser)


def test_operator_reset_then_activation_again(world):
    browser, rp, token = world.device()
    slip = operator_reset(world.student)
    assert_tokens_dead(rp, token)
    world.assert_no_sso_session(browser)
    world.activate_with_slip(slip)
    assert_tokens_dead(rp, token)  # still dead once the account is active again
    world.assert_no_sso_session(browser)


def test_suspension_then_unsuspension(world):
    browser, rp, token = world.device()
    do_suspend_account(world.student, actor="test", reason="misuse: test")
    assert_tokens_dead(rp, token)
    do_unsuspend_account(world.student, actor="test", reason="appeal upheld")
    assert_tokens_dead(rp, token)
    world.assert_no_sso_session(browser)
    world.device()


def test_deactivation_then_reactivation(world):
    browser, rp, token = world.device()
    do_deactivate_account(world.student, actor="test", reason="left school")
    assert_tokens_dead(rp, token)
    do_reactivate_account(world.student, actor="test", reason="came back")
    assert_tokens_dead(rp, token)
    world.assert_no_sso_session(browser)
    world.device()


def test_deletion(world):
    browser, rp, token = world.device()
    do_delete_account(world.student, actor="test", reason="test")
    assert_tokens_dead(rp, token)
    world.assert_no_sso_session(browser)


def test_state_changed_without_the_signal_then_reactivated(world):
    """A bulk UPDATE (no save, no receiver) makes the tokens useless while the account is
    deactivated; bringing it back through accounts must not revive them."""
    browser, rp, token = world.device()
    Account.objects.filter(pk=world.student.pk).update(state="deactivated")
    with pytest.raises(OAuthError):
        rp.refresh(token["refresh_token"])
    do_reactivate_account(world.student, actor="test", reason="came back")
    assert_tokens_dead(rp, token)
    world.assert_no_sso_session(browser)


@pytest.mark.usefixtures("lifecycle_settings")
def test_roster_departure_and_return(live_server):
    """The roster pass suspends a departed pupil and restores the account when the pupil is
    back, both in bulk (no accounts transition): the return revives nothing."""
    from akun.lifecycle.api import roster_pass
    from akun.roster.api import PesertaDidik
    from tests import builders as roster
    from tests.lifecycle_support import account_of, freeze, issue

    freeze("2021-07-01")
    base = World(live_server.url)
    pupil = roster.peserta_didik(roster.sekolah("SD"), 5)
    issue()
    acct = account_of(pupil)
    Account.objects.filter(pk=acct.pk).update(
        state="active",
        password=make_password(PASSWORD),
        initial_password_enc=None,
        activated_at=clock.now(),
        terms_version=terms.current().version,
        terms_accepted_at=clock.now(),
    )
    base.student = Account.objects.get(pk=acct.pk)
    browser, rp, token = base.device()
    PesertaDidik.objects.filter(pk=pupil.pk).update(departed_at=clock.now())
    assert roster_pass(actor="test").total("schedule_departed") == 1
    assert_tokens_dead(rp, token)
    freeze("2021-07-20")
    PesertaDidik.objects.filter(pk=pupil.pk).update(departed_at=None)
    assert roster_pass(actor="test").total("back") == 1
    assert Account.objects.get(pk=acct.pk).state == "active"
    assert_tokens_dead(rp, token)
    base.assert_no_sso_session(browser)
    base.device()
