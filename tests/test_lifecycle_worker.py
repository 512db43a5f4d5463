"""Schedules declared in code: due slots enqueued once, a late worker catches up once;
`akun worker` runs them (and the roster pass enqueued by an import)."""

import datetime as dt

import pytest
from django_tasks_db.models import DBTaskResult

from akun.accounts.api import Account
from akun.core import clock
from akun.lifecycle import api, schedule
from akun.lifecycle.models import ScheduleState
from akun.roster.api import ImportRun, roster_imported
from tests import builders as roster
from tests.lifecycle_support import at, freeze, issue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lifecycle_settings")]


def queued():
    return sorted(t.task_path.rsplit(".", 1)[1] for t in DBTaskResult.objects.all())


def test_slots():
    daily = schedule.Schedule("x", None, schedule.DAY, dt.timedelta(minutes=30))
    assert daily.last_slot(at("2021-07-01", 0)) == at("2021-06-30", 0) + dt.timedelta(minutes=30)
    assert daily.last_slot(at("2021-07-01", 1)) == at("2021-07-01", 0) + dt.timedelta(minutes=30)
    hourly = schedule.Schedule("y", None, schedule.HOUR, dt.timedelta(minutes=10))
    assert hourly.last_slot(at("2021-07-01", 5)) == at("2021-07-01", 4) + dt.timedelta(minutes=10)


def test_tick_enqueues_each_due_job_once_and_catches_up_once():
    freeze("2021-07-01", 12)
    assert sorted(schedule.tick()) == [
        "events.prune",
        "lifecycle.deadlines",
        "lifecycle.deletions",
        "lifecycle.inactivity",
        "lifecycle.notices",
    ]
    assert schedule.tick() == []  # same slots: nothing
    clock.freeze(at("2021-07-01", 12) + dt.timedelta(minutes=5))
    assert schedule.tick() == []  # 12:05, before the 12:10 slot
    clock.freeze(at("2021-07-01", 12) + dt.timedelta(minutes=10))
    assert schedule.tick() == ["lifecycle.notices"]
    freeze("2021-07-05", 12)  # the worker was down for four days
    assert len(schedule.tick()) == 5
    assert queued().count("deadline_sweep") == 2  # once for the 1st, once for the catch-up
    assert ScheduleState.objects.get(name="lifecycle.deadlines").last_slot == at(
        "2021-07-05", 0
    ) + dt.timedelta(minutes=30)


@pytest.mark.django_db(transaction=True)
def test_worker_runs_schedules_and_the_roster_pass(run_akun):
    freeze("2021-03-01")
    sd, smp = roster.sekolah("SD"), roster.sekolah("SMP")
    waiting = roster.peserta_didik(sd, 5, nama="Joko")
    mover = roster.peserta_didik(sd, 6, nama="Kartika")
    issue()
    api.do_set_deadline(dt.date(2021, 6, 30), actor="admin")
    clock.freeze(None)
    mover.sekolah_id, mover.tingkat_pendidikan = smp.sekolah_id, 7
    mover.save()
    run = ImportRun.objects.create(started_at=clock.now(), source="x", actor="t")
    roster_imported.send(sender=None, run=run)  # as the importer does on commit
    env = {"AKUN_LIFECYCLE_MAX_SHARE": "1.0"}
    out = run_akun("worker", "--batch", "--no-startup-delay", env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    results = {t.task_path.rsplit(".", 1)[1]: t.status for t in DBTaskResult.objects.all()}
    assert results == {
        "roster_pass": "SUCCESSFUL",
        "deadline_sweep": "SUCCESSFUL",
        "inactivity_sweep": "SUCCESSFUL",
        "send_notices": "SUCCESSFUL",
        "run_deletions": "SUCCESSFUL",
        "prune_events": "SUCCESSFUL",
        "refresh_after_import": "SUCCESSFUL",  # akun.oneroster, on the same signal
    }
    assert Account.objects.get(person_id=waiting.peserta_didik_id).state == "deactivated"
    assert Account.objects.filter(person_id=mover.peserta_didik_id, jenjang="SMP").exists()
    out = run_akun("worker", "--batch", "--no-startup-delay", env=env)
    assert out.returncode == 0
    assert DBTaskResult.objects.count() == 7  # nothing due again within the same slots
