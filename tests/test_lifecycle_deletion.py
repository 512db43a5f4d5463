"""The deletion path: notice, reminders exactly once (late runs, double runs), deletion on
the day, what deletion removes and keeps; inactivity."""

import datetime as dt

import pytest
from django.core import mail

from akun.accounts.api import Account, do_activate_account
from akun.audit.api import AuditEvent
from akun.core import clock
from akun.lifecycle import api
from akun.lifecycle.deletion import months_before
from akun.lifecycle.models import DeletionSchedule, Notice
from tests import builders as roster
from tests.lifecycle_support import account_of, at, freeze, issue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lifecycle_settings")]


@pytest.fixture
def departed():
    """An active student with a recovery e-mail who left school on 1 July 2021."""
    freeze("2021-06-01")
    sd = roster.sekolah("SD")
    pupil = roster.peserta_didik(sd, 6, nama="Gita Permata")
    issue()
    acct = account_of(pupil)
    do_activate_account(acct, raw_password="kuda-lari-cepat-9", actor="test")
    Account.objects.filter(pk=acct.pk).update(recovery_email="ibu.gita@example.com")
    freeze("2021-07-01")
    pupil.departed_at = clock.now()
    pupil.save()
    api.roster_pass(actor="test")
    return Account.objects.get(pk=acct.pk)


def sent_to(address):
    return [m for m in mail.outbox if address in m.to]


def test_notice_goes_to_account_and_recovery_once(departed):
    acct = departed
    api.send_notices(actor="test")
    sched = DeletionSchedule.objects.get(account_id=acct.pk)
    assert sched.delete_on == dt.date(2021, 7, 31)  # 30 days after the notice
    assert len(mail.outbox) == 2
    [own] = sent_to(acct.user_id)
    [rec] = sent_to("ibu.gita@example.com")
    assert "31 Juli 2021" in own.subject and "31 July 2021" in own.subject
    assert "DIHAPUS" in own.body and "DELETED" in own.body
    assert "Pindahkan data" in own.body and "Move the data" in own.body
    assert "kontak pemulihan" in rec.body and "kontak pemulihan" not in own.body
    api.send_notices(actor="test")  # the same hour again
    freeze("2021-07-02")
    api.send_notices(actor="test")  # the next day
    assert len(mail.outbox) == 2
    assert Notice.objects.filter(sent_at__isnull=False).count() == 2


def test_reminders_3_days_before_exactly_once_and_deletion_on_the_day(departed):
    acct = departed
    api.send_notices(actor="test")
    for day in ("2021-07-27", "2021-07-28"):  # day 4 before, then 3 before
        freeze(day)
        api.send_notices(actor="test")
        api.run_deletions(actor="test")
    reminders = [m for m in mail.outbox if "Pengingat" in m.subject]
    assert len(reminders) == 2  # account + recovery, on 28 July
    assert "3 hari" in reminders[0].subject
    for day in ("2021-07-29", "2021-07-30"):
        freeze(day, 23)
        api.send_notices(actor="test")
        assert api.run_deletions(actor="test").total("delete") == 0
    assert len(mail.outbox) == 4 and Account.objects.get(pk=acct.pk).state == "suspended"
    freeze("2021-07-31", 3)
    assert api.run_deletions(actor="test").total("delete") == 1
    assert api.run_deletions(actor="test").total("delete") == 0


def test_late_run_sends_the_missed_reminder_once(departed):
    api.send_notices(actor="test")
    freeze("2021-07-30")  # the worker was down from 2 to 30 July
    api.send_notices(actor="test")
    api.send_notices(actor="test")
    assert len([m for m in mail.outbox if "Pengingat" in m.subject]) == 2
    assert "1 hari" in mail.outbox[-1].subject or "1 hari" in mail.outbox[-2].subject


def test_late_notice_moves_the_deletion_date(departed):
    freeze("2021-08-15")  # nothing ran for six weeks: the notice goes out now
    api.send_notices(actor="test")
    assert api.run_deletions(actor="test").total("delete") == 0
    sched = DeletionSchedule.objects.get()
    assert sched.delete_on == dt.date(2021, 9, 14)


def test_deleted_state_removes_personal_data_keeps_user_id_and_audit(departed):
    acct = departed
    api.send_notices(actor="test")
    freeze("2021-08-05")  # late: still deleted, once
    api.run_deletions(actor="test")
    gone = Account.objects.get(pk=acct.pk)
    assert gone.state == "deleted"
    assert gone.user_id == acct.user_id and gone.local_part == acct.local_part
    assert (gone.nama, gone.recovery_email, gone.recovery_phone) == ("", "", "")
    assert gone.person_id is None and gone.initial_password_enc is None
    assert not gone.has_usable_password()
    assert set(Notice.objects.filter(recipient="recovery").values_list("address", flat=True)) == {
        ""
    }
    actions = set(
        AuditEvent.objects.filter(object_id=acct.user_id).values_list("action", flat=True)
    )
    assert {
        "accounts.activate",
        "lifecycle.roster_schedule_deletion",
        "lifecycle.delete",
    } <= actions
    # The user ID stays taken: issuing the same name again gives another one.
    sd = roster.sekolah("SD")
    newcomer = roster.peserta_didik(sd, 5, nama="Gita Permata")
    issue()
    assert account_of(newcomer).user_id != acct.user_id


def test_deletion_waits_for_the_notice_to_be_sent(departed):
    freeze("2021-07-01")
    api.send_notices(actor="test")
    Notice.objects.filter(recipient="account").update(sent_at=None, claimed_at=clock.now())
    freeze("2021-08-01")
    assert api.run_deletions(actor="test").total("delete") == 0
    api.send_notices(actor="test")  # the lost claim is older than an hour: sent now
    assert api.run_deletions(actor="test").total("delete") == 1


def test_inactivity_twelve_months(settings):
    freeze("2020-01-10")
    sd = roster.sekolah("SD")
    a, b = roster.peserta_didik(sd, 5), roster.peserta_didik(sd, 5, nama="Hadi")
    issue()
    for p in (a, b):
        do_activate_account(account_of(p), raw_password="kuda-lari-cepat-9", actor="test")
    Account.objects.filter(pk=account_of(a).pk).update(last_login=at("2020-02-01"))
    Account.objects.filter(pk=account_of(b).pk).update(last_login=at("2020-03-01"))
    freeze("2021-02-01", 1)  # a: exactly 12 months, not before
    assert api.inactivity_sweep(actor="test").total("schedule_inactive") == 0
    freeze("2021-02-02", 1)
    assert api.inactivity_sweep(actor="test").total("schedule_inactive") == 1
    assert api.inactivity_sweep(actor="test").total("schedule_inactive") == 0
    sched = DeletionSchedule.objects.get()
    assert (sched.account_id, sched.reason, sched.suspended) == (
        account_of(a).pk,
        "inactive",
        False,
    )
    assert account_of(a).state == "active"
    api.send_notices(actor="test")
    assert "login" in mail.outbox[0].body and "sign in once" in mail.outbox[0].body
    # Signs in again before the deletion: cancelled, not deleted.
    freeze("2021-02-20")
    Account.objects.filter(pk=account_of(a).pk).update(last_login=clock.now())
    api.inactivity_sweep(actor="test")
    assert DeletionSchedule.objects.get().status == "cancelled"
    freeze("2021-03-10")
    api.run_deletions(actor="test")
    assert account_of(a).state == "active"
    settings.AKUN_INACTIVITY_MONTHS = 6
    result = api.inactivity_sweep(actor="test")  # b: 12 months > 6 since March 2020
    assert result.total("schedule_inactive") == 1


def test_months_before_clamps_month_ends():
    assert months_before(dt.date(2021, 3, 31), 1) == dt.date(2021, 2, 28)
    assert months_before(dt.date(2021, 1, 15), 12) == dt.date(2020, 1, 15)
    assert months_before(dt.date(2020, 3, 30), 1) == dt.date(2020, 2, 29)


def test_admin_cancels_a_deletion(departed):
    acct = departed
    api.do_cancel_deletion(acct, actor="admin", reason="data error at the school")
    assert Account.objects.get(pk=acct.pk).state == "active"
    assert DeletionSchedule.objects.get().status == "cancelled"
    assert AuditEvent.objects.filter(action="lifecycle.cancel_deletion").exists()
