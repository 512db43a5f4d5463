"""Account states: every change through do_<verb>_account, audited with before and after."""

import pytest

from akun.accounts import api
from akun.accounts.models import Account
from akun.audit.models import AuditEvent
from tests import builders as roster

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    sd = roster.sekolah("SD", npsn="20104321")
    roster.peserta_didik(sd, 5, nama="Kartini")
    api.issue_accounts(actor="test")
    return Account.objects.get()


def last_event():
    return AuditEvent.objects.exclude(action="accounts.issue").order_by("-id").first()


def test_activation_destroys_the_initial_password_and_sets_argon2(account):
    initial = api.get_initial_password(account)
    api.do_activate_account(account, raw_password="kata-sandi-baru-123", actor="self")
    account.refresh_from_db()
    assert account.state == "active" and account.activated_at
    assert account.initial_password_enc is None
    assert api.get_initial_password(account) is None
    assert not api.check_initial_password(account, initial)
    assert account.password.startswith("argon2")
    assert account.check_password("kata-sandi-baru-123")
    e = last_event()
    assert (e.action, e.actor, e.object_id, e.npsn) == (
        "accounts.activate", "self", account.user_id, "20104321"
    )  # fmt: skip
    assert e.before == {"state": "issued", "has_initial_password": True}
    assert e.after == {"state": "active", "has_initial_password": False}


def test_suspend_unsuspend_deactivate_reactivate_delete(account):
    api.do_activate_account(account, raw_password="x-123456789", actor="self")
    steps = [
        (api.do_suspend_account, "suspended"),
        (api.do_unsuspend_account, "active"),  # back to active: it had been activated
        (api.do_deactivate_account, "deactivated"),
        (api.do_reactivate_account, "active"),
        (api.do_delete_account, "deleted"),
    ]
    for fn, state in steps:
        before = account.state
        fn(account, actor="dinas:1", reason=f"why {state}")
        assert account.state == state
        e = last_event()
        assert (e.before["state"], e.after["state"], e.reason) == (before, state, f"why {state}")
    assert account.nama == "" and account.person_id is None
    assert Account.objects.filter(user_id=account.user_id).exists()  # ID stays reserved


def test_unsuspend_of_a_never_activated_account_goes_back_to_issued(account):
    api.do_suspend_account(account, actor="op", reason="x")
    assert not api.check_initial_password(account, api.get_initial_password(account) or "")
    api.do_unsuspend_account(account, actor="op", reason="y")
    assert account.state == "issued"
    assert api.check_initial_password(account, api.get_initial_password(account))


@pytest.mark.parametrize(
    "fn",
    [api.do_unsuspend_account, api.do_reactivate_account],
)
def test_transitions_not_in_the_table_are_refused(account, fn):
    with pytest.raises(api.TransitionNotAllowed):
        fn(account, actor="op", reason="x")
    assert Account.objects.get().state == "issued"
    assert last_event() is None  # nothing audited for a refused change


def test_deleted_is_final(account):
    api.do_delete_account(account, actor="op", reason="x")
    for fn in (api.do_suspend_account, api.do_deactivate_account, api.do_reissue_account):
        with pytest.raises(api.TransitionNotAllowed):
            fn(account, actor="op", reason="x")


def test_reissue_gives_a_new_initial_password_and_keeps_the_user_id(account):
    old = api.get_initial_password(account)
    user_id = account.user_id
    api.do_activate_account(account, raw_password="x-123456789", actor="self")
    new = api.do_reissue_account(account, actor="op", reason="forgot")
    account.refresh_from_db()
    assert new != old and account.state == "issued" and account.user_id == user_id
    assert api.get_initial_password(account) == new
    assert not account.has_usable_password()
    assert last_event().action == "accounts.reissue"
