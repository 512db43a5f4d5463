"""Identity and the other apps: one activation state change (accounts'), and last_login on
every kind of sign-in (lifecycle's inactivity rule reads it)."""

import datetime as dt

import pytest
from django.urls import reverse

from akun.accounts import api as accounts_api
from akun.audit.models import AuditEvent
from akun.core import clock
from akun.identity import actions, terms
from akun.lifecycle import api as lifecycle_api
from akun.lifecycle.models import DeletionSchedule
from tests import builders
from tests.identity_support import sign_in
from tests.lifecycle_support import at

pytestmark = pytest.mark.django_db

SLIP = builders.INITIAL_PASSWORD
NEW = "kopi pagi di teras"
PW = builders.PASSWORD


def activate_through_the_pages(client, account):
    assert sign_in(client, account.user_id, SLIP)["Location"] == reverse("identity:terms")
    client.post(reverse("identity:terms"), {"accept": "on"})
    r = client.post(reverse("identity:new_password"), {"new_password": NEW, "new_password2": NEW})
    assert r["Location"] == reverse("identity:akun_saya")


# --- One activation -------------------------------------------------------------------


def test_identity_activation_goes_through_accounts_state_change(monkeypatch):
    student = builders.student(builders.school())
    calls = []
    real = accounts_api.do_activate_account

    def spy(account, **kwargs):
        calls.append(kwargs)
        return real(account, **kwargs)

    monkeypatch.setattr(accounts_api, "do_activate_account", spy)
    actions.do_accept_terms(student, terms.current().version, actor="t")
    actions.do_activate_account(student, NEW, actor=student.user_id)
    assert len(calls) == 1 and calls[0]["raw_password"] == NEW
    assert calls[0]["actor"] == student.user_id
    student.refresh_from_db()
    assert student.state == "active" and student.initial_password_enc is None
    assert student.check_password(NEW)
    # The state change is audited by accounts; identity adds the terms it was activated under.
    state_ev = AuditEvent.objects.get(action="accounts.activate", object_id=student.user_id)
    assert state_ev.before["state"] == "issued" and state_ev.after["state"] == "active"
    assert state_ev.after["has_initial_password"] is False
    id_ev = AuditEvent.objects.get(action="identity.activate_account", object_id=student.user_id)
    assert id_ev.after["terms_version"] == terms.current().version


def test_identity_rules_still_come_before_the_state_change(monkeypatch):
    student = builders.student(builders.school())
    monkeypatch.setattr(
        accounts_api,
        "do_activate_account",
        lambda *a, **k: pytest.fail("state change reached before identity's rules"),
    )
    with pytest.raises(actions.ActivationOrderError):
        actions.do_activate_account(student, NEW, actor="t")  # terms not accepted
    actions.do_accept_terms(student, terms.current().version, actor="t")
    with pytest.raises(actions.ValidationError):
        actions.do_activate_account(student, SLIP, actor="t")  # the initial password
    with pytest.raises(actions.ValidationError):
        actions.do_activate_account(student, "short", actor="t")
    student.refresh_from_db()
    assert student.state == "issued" and student.initial_password_enc is not None


def test_activation_through_the_pages_is_one_accounts_activate(client):
    student = builders.student(builders.school())
    activate_through_the_pages(client, student)
    assert (
        AuditEvent.objects.filter(action="accounts.activate", object_id=student.user_id).count()
        == 1
    )
    student.refresh_from_db()
    assert student.state == "active" and student.initial_password_enc is None


# --- last_login -----------------------------------------------------------------------


def test_activation_sign_in_sets_last_login_on_the_platform_clock(client):
    clock.freeze(at("2024-02-01", 9))
    student = builders.student(builders.school())
    assert student.last_login is None
    activate_through_the_pages(client, student)
    student.refresh_from_db()
    assert student.last_login == at("2024-02-01", 9)


def test_password_sign_in_sets_last_login(client):
    clock.freeze(at("2024-02-01", 9))
    teacher = builders.staff(builders.school())
    assert sign_in(client, teacher.user_id, PW)["Location"] == reverse("identity:akun_saya")
    teacher.refresh_from_db()
    assert teacher.last_login == at("2024-02-01", 9)
    client.logout()
    clock.freeze(at("2024-03-05", 10))
    sign_in(client, teacher.user_id, PW)
    teacher.refresh_from_db()
    assert teacher.last_login == at("2024-03-05", 10)


def test_failed_and_refused_sign_ins_leave_last_login_alone(client):
    clock.freeze(at("2024-02-01", 9))
    teacher = builders.staff(builders.school())
    sign_in(client, teacher.user_id, "wrong password here")
    accounts_api.do_suspend_account(teacher, actor="a", reason="test")
    sign_in(client, teacher.user_id, PW)
    teacher.refresh_from_db()
    assert teacher.last_login is None


def test_signing_in_keeps_an_account_off_the_inactivity_path(client, lifecycle_settings):
    clock.freeze(at("2023-01-10"))
    school = builders.school()
    stays = builders.staff(school)
    idle = builders.staff(school, nama="Budi Santoso", local_part="budisantoso", email="b@x.id")
    clock.freeze(at("2023-06-01"))
    sign_in(client, stays.user_id, PW)
    client.logout()
    clock.freeze(at("2024-02-01"))  # 12 months after the accounts were made; 8 after sign-in
    lifecycle_api.inactivity_sweep(actor="test")
    scheduled = set(
        DeletionSchedule.objects.filter(reason="inactive").values_list("account_id", flat=True)
    )
    assert scheduled == {idle.pk}

    # The idle one signs in again: the next sweep cancels its deletion.
    clock.freeze(at("2024-02-02"))
    sign_in(client, idle.user_id, PW)
    clock.freeze(at("2024-02-03"))
    lifecycle_api.inactivity_sweep(actor="test")
    ds = DeletionSchedule.objects.get(account_id=idle.pk)
    assert ds.status == "cancelled"
    assert clock.now() - dt.timedelta(days=2) < ds.closed_at
