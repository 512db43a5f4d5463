"""Google's third-party SSO profile in Debian's chromium: a stand-in of Google's sign-in
(pysaml2, Google's entity ID and ACS path, on a local port) sends the person to Akun, who
signs in and lands back at "Google" signed in; a suspended account is refused."""

import pytest

from akun.accounts import api as accounts_api
from akun.sso import google
from tests import builders
from tests.google_sp import DOMAIN, GoogleStandIn

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "teh manis di sore hari"


@pytest.fixture
def standin(live_server):
    g = GoogleStandIn(live_server.url).start()
    # Registered as the CLI does, with the stand-in's address for Google's.
    google.do_register_google_profile(DOMAIN, actor="test", google=g.url)
    yield g
    g.stop()


def _sign_in_at_google(page, standin, user_id):
    page.goto(f"{standin.url}/a/{DOMAIN}/ServiceLogin?continue=https://mail.google.com/mail/")
    page.wait_for_url("**/masuk**")
    page.fill("#id_user_id", user_id)
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")


def test_sign_in_at_google_lands_back_signed_in(standin, phone):
    student = builders.student(builders.school(), state="active", password=PASSWORD)
    _sign_in_at_google(phone, standin, student.user_id)
    phone.wait_for_url(f"{standin.acs}")
    assert phone.inner_text("#google-user") == f"Signed in to Google as {student.user_id}"
    assert standin.signed_in == [student.user_id]
    # Signed in to Akun now: the next Google sign-in needs no password.
    phone.goto(f"{standin.url}/a/{DOMAIN}/ServiceLogin")
    phone.wait_for_url(f"{standin.acs}")
    assert standin.signed_in == [student.user_id, student.user_id]


def test_a_suspended_account_is_refused(live_server, standin, phone):
    student = builders.student(builders.school(), state="active", password=PASSWORD)
    accounts_api.do_suspend_account(student, actor="test", reason="misuse")
    _sign_in_at_google(phone, standin, student.user_id)
    phone.wait_for_load_state()
    assert phone.url.startswith(live_server.url)  # still at Akun, told why
    assert "google-user" not in phone.content() and "SAMLResponse" not in phone.content()
    assert standin.signed_in == []


def test_suspended_while_signed_in_is_refused_at_the_next_google_sign_in(standin, phone):
    student = builders.student(builders.school(), state="active", password=PASSWORD)
    _sign_in_at_google(phone, standin, student.user_id)
    phone.wait_for_url(f"{standin.acs}")
    accounts_api.do_suspend_account(student, actor="test", reason="misuse")
    phone.goto(f"{standin.url}/a/{DOMAIN}/ServiceLogin")
    phone.wait_for_url("**/masuk**")
    assert standin.signed_in == [student.user_id]
