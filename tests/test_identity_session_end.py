"""Issue 12, point 4: a reset ends every half-finished session of the account.

A thief who signed in with the old slip (activation pending), or who is part-way through a
reset by code, must not finish after the operator resets the account (or after the owner
finishes a reset by code): the pending session is dead, the account keeps the state and the
password the reset gave it, and the owner's new slip works."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from akun.accounts import crypto
from akun.identity import codes
from akun.portal.actions import do_create_admin, do_reset_password
from tests import builders
from tests.identity_support import sign_in


def operator_reset(account):
    """The reset an admin gives in the portal (a national admin may reset anyone)."""
    admin, _ = do_create_admin(nama="Admin Nasional", region="nasional", actor="test")
    return do_reset_password(account, by=admin)


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("send_codes_at_once")]

SLIP = builders.INITIAL_PASSWORD
PW = builders.PASSWORD
THIEF = "kunci rumah si pencuri"
OWNER = "sepeda biru ke pasar"


def new_password(client, password):
    return client.post(
        reverse("identity:new_password"), {"new_password": password, "new_password2": password}
    )


def assert_reset_holds(account, slip):
    """The account is as the operator's reset left it: issued, the new slip its password."""
    account.refresh_from_db()
    assert account.state == "issued"
    assert crypto.check_initial_password(account.initial_password_enc, slip)
    assert not account.has_usable_password()


def owner_activates(client_class, account, slip):
    owner = client_class()
    r = sign_in(owner, account.user_id, slip)
    assert r["Location"] == reverse("identity:terms")
    owner.post(reverse("identity:terms"), {"accept": "on"})
    r = new_password(owner, OWNER)
    assert r["Location"] == reverse("identity:akun_saya")
    account.refresh_from_db()
    assert account.state == "active" and account.check_password(OWNER)


def test_activation_past_the_terms_cannot_finish_after_the_operator_reset(client, school):
    s = builders.student(school)
    assert sign_in(client, s.user_id, SLIP)["Location"] == reverse("identity:terms")
    assert client.post(reverse("identity:terms"), {"accept": "on"})["Location"] == reverse(
        "identity:new_password"
    )
    slip = operator_reset(s)
    r = new_password(client, THIEF)
    assert r.status_code == 302 and r["Location"] == reverse("identity:signin")
    assert_reset_holds(s, slip)
    assert "_auth_user_id" not in client.session
    # The session stays dead: no step of the flow answers it any more.
    assert client.get(reverse("identity:terms"))["Location"] == reverse("identity:signin")
    assert new_password(client, THIEF)["Location"] == reverse("identity:signin")
    assert_reset_holds(s, slip)
    owner_activates(type(client), s, slip)


def test_activation_at_the_terms_cannot_go_on_after_the_operator_reset(client, school):
    s = builders.student(school)
    sign_in(client, s.user_id, SLIP)
    slip = operator_reset(s)
    r = client.post(reverse("identity:terms"), {"accept": "on"})
    assert r["Location"] == reverse("identity:signin")
    s.refresh_from_db()
    assert s.terms_accepted_at is None
    assert_reset_holds(s, slip)


def start_reset_with_code(client, account, tgl="2012-03-09"):
    r = client.post(reverse("identity:reset"), {"user_id": account.user_id, "tanggal_lahir": tgl})
    assert r["Location"] == reverse("identity:reset_contact")
    r = client.post(reverse("identity:reset_contact"), {"contact": "e0"})
    assert r["Location"] == reverse("identity:reset_code")
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def test_reset_by_code_with_a_code_sent_before_the_operator_reset_cannot_go_on(client, school):
    s = builders.student(school, state="active", password=PW, recovery_email="siti.n@gmail.com")
    code = start_reset_with_code(client, s)
    slip = operator_reset(s)
    r = client.post(reverse("identity:reset_code"), {"code": code})
    assert r["Location"] == reverse("identity:reset")
    assert new_password(client, THIEF)["Location"] == reverse("identity:signin")
    assert_reset_holds(s, slip)
    owner_activates(type(client), s, slip)


def test_reset_by_code_at_the_new_password_cannot_finish_after_operator_reset(client, school):
    s = builders.student(school, state="active", password=PW, recovery_email="siti.n@gmail.com")
    code = start_reset_with_code(client, s)
    r = client.post(reverse("identity:reset_code"), {"code": code})
    assert r["Location"] == reverse("identity:new_password")
    slip = operator_reset(s)
    r = new_password(client, THIEF)
    assert r.status_code == 302 and r["Location"] == reverse("identity:signin")
    assert_reset_holds(s, slip)


def test_a_finished_reset_by_code_ends_the_other_pending_resets(client, school):
    s = builders.student(school, state="active", password=PW, recovery_email="siti.n@gmail.com")
    thief = type(client)()
    thief_code = start_reset_with_code(thief, s)
    r = thief.post(reverse("identity:reset_code"), {"code": thief_code})
    assert r["Location"] == reverse("identity:new_password")
    code = start_reset_with_code(client, s)
    client.post(reverse("identity:reset_code"), {"code": code})
    assert new_password(client, OWNER)["Location"] == reverse("identity:akun_saya")
    r = new_password(thief, THIEF)
    assert r["Location"] == reverse("identity:signin")
    s.refresh_from_db()
    assert s.check_password(OWNER) and not s.check_password(THIEF)
    assert client.get(reverse("identity:akun_saya")).status_code == 200  # the owner stays in


def test_an_operator_reset_landing_during_the_last_step_still_wins(client, school, monkeypatch):
    """The reset commits after the page checked the pending session but before the new
    password is written: the activation checks the session again under the account's lock."""
    from akun.identity import actions

    s = builders.student(school)
    sign_in(client, s.user_id, SLIP)
    client.post(reverse("identity:terms"), {"accept": "on"})
    real, slips = actions.do_activate_account, []

    def reset_first(account, *args, **kwargs):
        slips.append(operator_reset(account))
        return real(account, *args, **kwargs)

    monkeypatch.setattr(actions, "do_activate_account", reset_first)
    r = new_password(client, THIEF)
    assert r.status_code == 302 and r["Location"] == reverse("identity:signin")
    assert_reset_holds(s, slips[0])


def test_an_operator_reset_landing_during_the_code_check_still_wins(client, school, monkeypatch):
    """The reset commits between the reset session's check and the start of the password
    step: the new pending session belongs to the generation the code was asked under."""
    s = builders.student(school, state="active", password=PW, recovery_email="siti.n@gmail.com")
    code = start_reset_with_code(client, s)
    real, slips = codes.check, []

    def reset_meanwhile(*args, **kwargs):
        result = real(*args, **kwargs)
        slips.append(operator_reset(s))
        return result

    monkeypatch.setattr(codes, "check", reset_meanwhile)
    client.post(reverse("identity:reset_code"), {"code": code})
    for step in ("identity:terms", "identity:new_password"):
        assert client.get(reverse(step))["Location"] == reverse("identity:signin")
    r = new_password(client, THIEF)
    assert r.status_code == 302 and r["Location"] == reverse("identity:signin")
    assert_reset_holds(s, slips[0])


def test_an_operator_reset_landing_during_a_reset_by_code_still_wins(client, school, monkeypatch):
    from akun.identity import actions

    s = builders.student(school, state="active", password=PW, recovery_email="siti.n@gmail.com")
    code = start_reset_with_code(client, s)
    client.post(reverse("identity:reset_code"), {"code": code})
    real, slips = actions.do_change_password, []

    def reset_first(account, *args, **kwargs):
        slips.append(operator_reset(account))
        return real(account, *args, **kwargs)

    monkeypatch.setattr(actions, "do_change_password", reset_first)
    r = new_password(client, THIEF)
    assert r.status_code == 302 and r["Location"] == reverse("identity:signin")
    assert_reset_holds(s, slips[0])
