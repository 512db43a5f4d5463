"""Activation deadlines: the day before, the day itself, the day after; activated accounts
untouched; reactivation with a new initial password; cohorts; count-down; safety stop."""

import datetime as dt

import pytest

from akun.accounts.api import (
    Account,
    check_initial_password,
    do_activate_account,
    get_initial_password,
)
from akun.audit.api import AuditEvent
from akun.lifecycle import api
from akun.lifecycle.deadlines import CohortError
from akun.lifecycle.models import Hold
from akun.lifecycle.plan import plan, province_totals, would_hold
from tests import builders as roster
from tests.lifecycle_support import account_of, freeze, issue

pytestmark = [
    pytest.mark.django_db(transaction=False),
    pytest.mark.usefixtures("lifecycle_settings"),
]


@pytest.fixture
def cohort():
    """Two students of an SD, issued on 1 March 2021; one activates."""
    freeze("2021-03-01")
    sd = roster.sekolah("SD")
    a, b = roster.peserta_didik(sd, 5, nama="Ani Lestari"), roster.peserta_didik(sd, 6, nama="Budi")
    run = issue()
    active = account_of(a)
    do_activate_account(active, raw_password="kuda-lari-cepat-9", actor="test")
    api.do_set_deadline(dt.date(2021, 6, 30), actor="admin")
    return run, active, account_of(b), sd


def _states(*accounts):
    return [Account.objects.get(pk=a.pk).state for a in accounts]


def test_deadline_day_before_and_day_of_change_nothing(cohort):
    _, active, waiting, _ = cohort
    for day in ("2021-06-29", "2021-06-30"):
        freeze(day, 23)
        result = api.deadline_sweep(actor="test")
        assert result.total("deactivate") == 0
        assert _states(active, waiting) == ["active", "issued"]


def test_day_after_deadline_deactivates_only_issued(cohort):
    _, active, waiting, sd = cohort
    freeze("2021-07-01", 0)
    result = api.deadline_sweep(actor="test")
    assert result.total("deactivate") == 1
    assert _states(active, waiting) == ["active", "deactivated"]
    # One audit row for the run, a stamp for the account; history() joins them.
    ev = AuditEvent.objects.get(action="lifecycle.run.deadline")
    assert ev.after["counts"] == {"deactivate/32": 1}
    assert "2021-06-30" in ev.reason
    [h] = api.history(waiting)
    assert (h["rule"], h["run"], h["reason"]) == ("deadline", result.run_id, ev.reason)
    assert api.history(active) == []
    assert sd.kode_wilayah.startswith("32")


def test_sweep_twice_or_late_does_it_once(cohort):
    _, _, waiting, _ = cohort
    freeze("2021-07-09")  # the worker was down for a week
    assert api.deadline_sweep(actor="test").total("deactivate") == 1
    assert api.deadline_sweep(actor="test").total("deactivate") == 0
    assert AuditEvent.objects.filter(action="lifecycle.run.deadline").count() == 1
    assert len(api.history(waiting)) == 1


def test_reactivation_gives_a_new_initial_password_and_is_not_swept_again(cohort):
    _, _, waiting, _ = cohort
    old = get_initial_password(waiting)
    freeze("2021-07-01")
    api.deadline_sweep(actor="test")
    freeze("2021-07-05")
    new = api.do_reactivate_with_new_password(
        Account.objects.get(pk=waiting.pk), actor="operator", reason="asked at school"
    )
    acct = Account.objects.get(pk=waiting.pk)
    assert acct.state == "issued" and new != old
    assert check_initial_password(acct, new) and not check_initial_password(acct, old)
    freeze("2021-07-06")
    assert api.deadline_sweep(actor="test").total("deactivate") == 0
    assert Account.objects.get(pk=waiting.pk).state == "issued"


def test_later_cohort_has_its_own_deadline(cohort):
    first_run, _, waiting, sd = cohort
    freeze("2021-08-01")
    late = roster.peserta_didik(sd, 5, nama="Citra Dewi")
    second_run = issue()
    late_acct = account_of(late)
    freeze("2021-08-02")
    api.deadline_sweep(actor="test")
    assert _states(waiting, late_acct) == ["deactivated", "issued"]  # no deadline for run 2
    d = api.do_set_deadline(dt.date(2021, 9, 30), actor="admin")
    assert (d.first_run, d.last_run) == (second_run, second_run)
    with pytest.raises(CohortError):
        api.do_set_deadline(dt.date(2021, 9, 30), actor="admin")  # every run has one now
    with pytest.raises(CohortError, match="overlaps"):
        api.do_set_deadline(dt.date(2021, 9, 30), cohort=f"{first_run}-{second_run}", actor="a")
    freeze("2021-10-01")
    api.deadline_sweep(actor="test")
    assert _states(late_acct) == ["deactivated"]


def test_countdown_for_operators(cohort):
    _, _, _, sd = cohort
    freeze("2021-06-20")
    [row] = api.countdown(sekolah_id=sd.sekolah_id)
    assert row["deadline"] == dt.date(2021, 6, 30)
    assert row["days_left"] == 10 and not row["passed"]
    assert row["not_activated"] == 1
    assert api.countdown(kode_wilayah="99")[0]["not_activated"] == 0
    freeze("2021-07-02")
    api.deadline_sweep(actor="test")
    [row] = api.countdown(sekolah_id=sd.sekolah_id)
    assert row["passed"] and row["days_left"] == -2 and row["not_activated"] == 0


def test_safety_stop_holds_the_province_until_confirmed(cohort, settings):
    _, active, waiting, _ = cohort
    settings.AKUN_LIFECYCLE_MAX_SHARE = 0.4  # 1 of 2 accounts of the province is 50%
    freeze("2021-07-01")
    [rule] = [r for r in plan() if r.rule == "deadline"]
    assert rule.total("deactivate") == 1
    assert would_hold(rule, province_totals()) == ["32"]
    result = api.deadline_sweep(actor="test")
    assert result.held == ["32"] and result.total("deactivate") == 0
    assert _states(waiting) == ["issued"]
    hold = Hold.objects.get()
    assert (hold.rule, hold.kode_provinsi, hold.count, hold.total) == ("deadline", "32", 1, 2)
    api.deadline_sweep(actor="test")  # still held; no second hold
    assert Hold.objects.count() == 1 and _states(waiting) == ["issued"]
    api.do_confirm_hold(hold.pk, actor="admin")
    result = api.deadline_sweep(actor="test")
    assert result.held == [] and result.total("deactivate") == 1
    assert _states(active, waiting) == ["active", "deactivated"]
    hold.refresh_from_db()
    assert hold.status == "used"
    assert AuditEvent.objects.filter(action="lifecycle.confirm", actor="admin").exists()


@pytest.mark.django_db(transaction=True)
def test_cli_deadline_set_list_plan_run_confirm(run_akun):
    freeze("2021-03-01")
    sd = roster.sekolah("SD")
    roster.peserta_didik(sd, 5)
    roster.peserta_didik(sd, 6)
    issue()
    env = {"AKUN_LIFECYCLE_MAX_SHARE": "0.5"}
    out = run_akun("lifecycle", "deadline", "set", "--date", "2021-06-30", env=env)
    assert out.returncode == 0, out.stderr
    assert "2021-06-30" in out.stdout
    out = run_akun("lifecycle", "deadline", "list", env=env)
    assert "2 not activated" in out.stdout
    bad = run_akun("lifecycle", "deadline", "set", "--date", "30/06/2021", env=env)
    assert bad.returncode != 0 and "YYYY-MM-DD" in bad.stderr
    # The CLI runs on the real clock (years after 2021): the deadline has passed.
    out = run_akun("lifecycle", "plan", env=env)
    assert out.returncode == 0, out.stderr
    assert "deactivate" in out.stdout and "would HOLD 32" in out.stdout
    out = run_akun("lifecycle", "run", "deadlines", env=env)
    assert out.returncode == 3 and "HELD" in out.stdout
    assert Account.objects.filter(state="issued").count() == 2
    hold = Hold.objects.get()
    out = run_akun("lifecycle", "confirm", str(hold.pk), env=env)
    assert out.returncode == 0, out.stderr
    out = run_akun("lifecycle", "run", "deadlines", env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert Account.objects.filter(state="deactivated").count() == 2
