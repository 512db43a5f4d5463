"""Activation: terms first, then a new password; the initial password dies; half-activated
sessions reach nothing else; a new terms version asks again."""

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.urls import reverse

from akun.audit.models import AuditEvent
from akun.core import clock
from akun.identity import actions, signin, terms
from akun.identity.terms import Terms
from tests import builders
from tests.identity_support import sign_in

pytestmark = pytest.mark.django_db

SLIP = builders.INITIAL_PASSWORD
NEW = "kopi pagi di teras"


@pytest.fixture
def student():
    return builders.student(builders.school())


def test_slip_sign_in_leads_to_terms_then_password_then_active(client, student):
    r = sign_in(client, student.user_id.upper() + " ", SLIP)  # case and spaces forgiven
    assert r.status_code == 302 and r["Location"] == reverse("identity:terms")
    # The password step refuses to come first.
    r = client.get(reverse("identity:new_password"))
    assert r["Location"] == reverse("identity:terms")
    r = client.post(reverse("identity:new_password"), {"new_password": NEW, "new_password2": NEW})
    student.refresh_from_db()
    assert student.state == "issued" and student.initial_password_enc is not None

    r = client.post(reverse("identity:terms"), {})  # not ticked
    assert r.status_code == 200
    student.refresh_from_db()
    assert student.terms_accepted_at is None

    r = client.post(reverse("identity:terms"), {"accept": "on"})
    assert r["Location"] == reverse("identity:new_password")
    student.refresh_from_db()
    assert student.terms_version == terms.current().version
    assert student.terms_accepted_at is not None

    r = client.post(reverse("identity:new_password"), {"new_password": NEW, "new_password2": NEW})
    assert r["Location"] == reverse("identity:akun_saya")
    student.refresh_from_db()
    assert student.state == "active"
    assert student.initial_password_enc is None
    assert student.activated_at is not None
    assert identify_hasher(student.password).algorithm == "argon2"
    assert client.get(reverse("identity:akun_saya")).status_code == 200

    actions_logged = list(
        AuditEvent.objects.filter(object_id=student.user_id).values_list("action", flat=True)
    )
    assert "identity.accept_terms" in actions_logged
    assert "identity.activate_account" in actions_logged
    ev = AuditEvent.objects.get(action="identity.activate_account", object_id=student.user_id)
    assert ev.before["state"] == "issued" and ev.after["state"] == "active"
    assert ev.npsn == "20104321"

    # The slip's password is dead; the new one works.
    client.logout()
    assert signin.attempt(_req(), student.user_id, SLIP).outcome is signin.Outcome.INVALID
    assert signin.attempt(_req(), student.user_id, NEW).outcome is signin.Outcome.OK


def _req(addr="10.0.0.1"):
    from django.test import RequestFactory

    return RequestFactory().post("/masuk", REMOTE_ADDR=addr)


def test_half_activated_session_reaches_nothing_else(client, student):
    sign_in(client, student.user_id, SLIP)
    for name in ("identity:akun_saya", "identity:change_password"):
        r = client.get(reverse(name))
        assert r.status_code == 302 and r["Location"].startswith(reverse("identity:signin"))
    r = client.post(reverse("identity:sign_out_everywhere"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("identity:signin"))
    assert "_auth_user_id" not in client.session


def test_pending_session_expires(client, student):
    import datetime as dt

    t0 = clock.now()
    clock.freeze(t0)
    sign_in(client, student.user_id, SLIP)
    clock.freeze(t0 + dt.timedelta(minutes=31))
    r = client.get(reverse("identity:terms"))
    assert r["Location"] == reverse("identity:signin")


def test_actions_enforce_the_order(student):
    with pytest.raises(actions.ActivationOrderError):
        actions.do_activate_account(student, NEW, actor="t")
    actions.do_accept_terms(student, terms.current().version, actor="t")
    with pytest.raises(actions.ValidationError):
        actions.do_activate_account(student, SLIP, actor="t")  # the slip's own password
    actions.do_activate_account(student, NEW, actor="t")
    student.refresh_from_db()
    assert student.state == "active" and student.initial_password_enc is None
    with pytest.raises(actions.ActivationOrderError):
        actions.do_activate_account(student, "another new phrase", actor="t")
    with pytest.raises(ValueError):
        actions.do_accept_terms(student, "1999.9", actor="t")


def test_new_terms_version_asks_again_at_next_sign_in(client, student, monkeypatch):
    actions.do_accept_terms(student, terms.current().version, actor="t")
    actions.do_activate_account(student, NEW, actor="t")
    assert sign_in(client, student.user_id, NEW)["Location"] == reverse("identity:akun_saya")
    client.logout()

    newer = Terms("2099.1", "2099-01-01", terms.current().items)
    monkeypatch.setattr(terms, "TERMS", (*terms.TERMS, newer))
    r = sign_in(client, student.user_id, NEW)
    assert r["Location"] == reverse("identity:terms")
    assert client.get(reverse("identity:akun_saya")).status_code == 302  # not yet signed in
    r = client.get(reverse("identity:terms"))
    assert b"2099.1" in r.content
    r = client.post(reverse("identity:terms"), {"accept": "on"})
    assert r["Location"] == reverse("identity:akun_saya")
    student.refresh_from_db()
    assert student.terms_version == "2099.1"
    assert client.get(reverse("identity:akun_saya")).status_code == 200


def test_next_url_survives_activation_but_not_to_other_hosts(client, student):
    r = client.post(
        reverse("identity:signin"),
        {"user_id": student.user_id, "password": SLIP, "next": "https://evil.example/x"},
    )
    client.post(reverse("identity:terms"), {"accept": "on"})
    r = client.post(reverse("identity:new_password"), {"new_password": NEW, "new_password2": NEW})
    assert r["Location"] == reverse("identity:akun_saya")
