"""The roster pass: moves across levels, moves within a level (school, role), departures,
closed schools, people who come back; the signal that starts it."""

import pytest

from akun.accounts.api import Account
from akun.audit.api import AuditEvent
from akun.core import clock
from akun.lifecycle import api
from akun.lifecycle.models import DeletionSchedule
from akun.roster.api import ImportRun, roster_imported
from tests import builders as roster
from tests.lifecycle_support import account_of, freeze, issue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lifecycle_settings")]


def run_pass():
    return api.roster_pass(actor="test")


def schedule_of(account):
    return DeletionSchedule.objects.filter(account_id=account.pk).order_by("-pk").first()


def state(account):
    return Account.objects.get(pk=account.pk).state


@pytest.fixture
def start():
    freeze("2021-07-01")


def test_student_moves_to_another_level_and_back(start):
    sd, smp = roster.sekolah("SD"), roster.sekolah("SMP")
    pupil = roster.peserta_didik(sd, 6, nama="Dewi Sartika")
    issue()
    sd_account = account_of(pupil, "SD")
    # The new school year: grade 7 at an SMP.
    pupil.sekolah_id, pupil.tingkat_pendidikan = smp.sekolah_id, 7
    pupil.save()
    result = run_pass()
    assert result.total("issue") == 1 and result.total("schedule_moved_level") == 1
    smp_account = account_of(pupil, "SMP")
    assert smp_account.subdomain == "smp" and smp_account.user_id != sd_account.user_id
    sched = schedule_of(sd_account)
    assert (sched.reason, sched.status, sched.suspended) == ("moved_level", "pending", False)
    assert state(sd_account) == "issued"  # still usable, to move data
    assert (
        AuditEvent.objects.get(
            action="lifecycle.roster_schedule_deletion", object_id=sd_account.user_id
        ).reason
        == "moved_level"
    )
    assert run_pass().counts == {}  # a second pass finds nothing to do
    # A correction: the pupil is back in grade 6 at the SD before the deletion.
    freeze("2021-07-10")
    pupil.sekolah_id, pupil.tingkat_pendidikan = sd.sekolah_id, 6
    pupil.save()
    result = run_pass()
    assert result.total("back") == 1 and result.total("schedule_moved_level") == 1
    assert schedule_of(sd_account).status == "cancelled"
    assert account_of(pupil, "SD").user_id == sd_account.user_id
    assert schedule_of(smp_account).reason == "moved_level"


def test_ptk_moves_within_level_keeps_user_id_and_changes_role(start):
    sd1, sd2 = roster.sekolah("SD"), roster.sekolah("SD")
    guru = roster.ptk(sd1, "Guru Kelas", nama="Remo Bimantoro")
    issue()
    before = account_of(guru)
    assert (before.role, before.subdomain) == ("pendidik", "guru.sd")
    # Moves to another SD, and becomes its operator.
    guru.sekolah_id, guru.operator_sekolah = sd2.sekolah_id, True
    guru.save()
    result = run_pass()
    assert result.total("follow") == 1 and result.total("issue") == 0
    after = Account.objects.get(pk=before.pk)
    assert after.sekolah_id == sd2.sekolah_id and after.role == "tenaga_kependidikan"
    assert after.user_id == before.user_id and after.local_part == before.local_part
    assert after.state == before.state
    assert not DeletionSchedule.objects.exists()
    ev = AuditEvent.objects.get(action="lifecycle.roster_follow")
    assert ev.before == {"npsn": sd1.npsn, "role": "pendidik"}
    assert ev.after == {"npsn": sd2.npsn, "role": "tenaga_kependidikan"}
    assert ev.reason == "moved school, role changed"


def test_ptk_moves_across_levels_gets_new_account(start):
    sd, sma = roster.sekolah("SD"), roster.sekolah("SMA")
    guru = roster.ptk(sd, "Guru Mapel")
    issue()
    old = account_of(guru, "SD")
    guru.sekolah_id = sma.sekolah_id
    guru.save()
    result = run_pass()
    assert result.total("issue") == 1
    assert account_of(guru, "SMA").subdomain == "guru.sma"
    assert schedule_of(old).reason == "moved_level" and state(old) == "issued"


def test_departure_suspends_and_return_restores_the_same_account(start):
    sd = roster.sekolah("SD")
    pupil, other = roster.peserta_didik(sd, 5), roster.peserta_didik(sd, 5, nama="Eka")
    issue()
    acct = account_of(pupil)
    from akun.accounts.api import do_activate_account

    do_activate_account(acct, raw_password="kuda-lari-cepat-9", actor="test")
    pupil.departed_at = clock.now()
    pupil.save()
    result = run_pass()
    assert result.total("schedule_departed") == 1
    assert state(acct) == "suspended"
    sched = schedule_of(acct)
    assert (sched.reason, sched.suspended, sched.prior_state) == ("departed", True, "active")
    assert state(account_of(other)) == "issued"
    # Comes back (re-enrolled) before the deletion.
    freeze("2021-07-20")
    pupil.departed_at = None
    pupil.save()
    result = run_pass()
    assert result.total("back") == 1 and result.total("issue") == 0
    assert Account.objects.get(pk=acct.pk).state == "active"
    assert schedule_of(acct).status == "cancelled"
    assert Account.objects.filter(person_id=pupil.peserta_didik_id).count() == 1
    ev = AuditEvent.objects.filter(action="lifecycle.roster_back").get()
    assert (ev.before, ev.after) == (
        {"state": "suspended"},
        {"state": "active", "deletion": "cancelled"},
    )


def test_departed_then_found_at_next_level_is_remarked_as_moved(start):
    sd, smp = roster.sekolah("SD"), roster.sekolah("SMP")
    pupil = roster.peserta_didik(sd, 6)
    issue()
    sd_account = account_of(pupil, "SD")
    pupil.departed_at = clock.now()  # the SD dropped the pupil before the SMP enrolled them
    pupil.save()
    run_pass()
    assert state(sd_account) == "suspended"
    pupil.departed_at, pupil.sekolah_id, pupil.tingkat_pendidikan = None, smp.sekolah_id, 7
    pupil.save()
    result = run_pass()
    assert result.total("issue") == 1 and result.total("back") == 1
    sched = schedule_of(sd_account)
    assert (sched.status, sched.reason) == ("pending", "moved_level")
    assert state(sd_account) == "issued"


def test_closed_school_suspends_with_reason(start):
    sd = roster.sekolah("SD")
    roster.peserta_didik(sd, 5)
    guru = roster.ptk(sd, "Kepala Sekolah")
    issue()
    sd.departed_at = clock.now()
    sd.save()
    result = run_pass()
    assert result.total("schedule_school_closed") == 2
    assert state(account_of(guru)) == "suspended"


def test_deactivated_or_misuse_suspended_accounts_keep_their_state(start):
    sd = roster.sekolah("SD")
    a, b = roster.peserta_didik(sd, 5), roster.peserta_didik(sd, 6, nama="Fajar")
    issue()
    acct_a, acct_b = account_of(a), account_of(b)
    from akun.accounts.api import do_deactivate_account

    do_deactivate_account(acct_a, actor="test", reason="deadline")
    api.do_suspend_for_misuse(acct_b, category="commercial", evidence="sold", actor="admin")
    for p in (a, b):
        p.departed_at = clock.now()
        p.save()
    run_pass()
    assert (state(acct_a), state(acct_b)) == ("deactivated", "suspended")
    assert not schedule_of(acct_a).suspended and not schedule_of(acct_b).suspended
    for p in (a, b):
        p.departed_at = None
        p.save()
    run_pass()
    assert (state(acct_a), state(acct_b)) == ("deactivated", "suspended")  # nothing undone


def test_roster_safety_stop(start, settings):
    settings.AKUN_LIFECYCLE_MAX_SHARE = 0.3
    sd = roster.sekolah("SD")
    pupils = [roster.peserta_didik(sd, 5, nama=f"Murid {i}") for i in range(4)]
    issue()
    pupils[0].departed_at = clock.now()
    pupils[0].save()
    assert run_pass().held == []  # 1 of 4 = 25%
    for p in pupils[1:3]:
        p.departed_at = clock.now()
        p.save()
    result = run_pass()  # 2 more of 4 = 50%
    assert result.held == ["32"] and result.total("schedule_departed") == 0
    assert [state(account_of(p)) for p in pupils] == ["suspended", "issued", "issued", "issued"]
    api.do_confirm_hold(api.Hold.objects.get(status="held").pk, actor="admin")
    assert run_pass().total("schedule_departed") == 2


def test_plan_counts_without_changing(start):
    sd, smp = roster.sekolah("SD"), roster.sekolah("SMP")
    pupil = roster.peserta_didik(sd, 6)
    issue()
    pupil.sekolah_id, pupil.tingkat_pendidikan = smp.sekolah_id, 7
    pupil.save()
    result = api.roster_pass(actor="plan", dry_run=True)
    assert result.counts == {("issue", "32"): 1, ("schedule_moved_level", "32"): 1}
    assert Account.objects.count() == 1 and not DeletionSchedule.objects.exists()


def test_roster_import_signal_enqueues_the_pass(django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    run = ImportRun.objects.create(started_at=clock.now(), source="x", actor="t")
    roster_imported.send(sender=None, run=run)
    # (akun.oneroster enqueues its own refresh on the same signal.)
    task = DBTaskResult.objects.get(task_path="akun.lifecycle.tasks.roster_pass")
    assert task.args_kwargs["kwargs"] == {"import_run": run.pk}
