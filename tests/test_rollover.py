"""The school-year rollover: the window (open/close/status, audited), a generated rollover
snapshot end to end (import, roster pass, new accounts for new levels, notices for the old),
and the safety stops that still hold inside the window for anything but graduations and
level changes."""

import csv
import shutil

import pytest
from django.core import mail

from akun.accounts.api import Account, issue_accounts
from akun.audit.models import AuditEvent
from akun.core import clock
from akun.lifecycle import api as lifecycle
from akun.lifecycle.models import DeletionSchedule, Hold
from akun.portal.actions import do_create_admin
from akun.roster.api import RolloverError, do_close_rollover, do_open_rollover, open_window
from akun.roster.importing import RosterImport
from akun.roster.importing.result import SafetyStop
from akun.statistik import api as statistics
from akun.synthetic.generate import generate_snapshot
from akun.synthetic.rollover import generate_rollover
from tests.lifecycle_support import freeze
from tests.test_statistics import assert_exact

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def years(tmp_path_factory):
    """A small country (one seed) and its next school year."""
    base = tmp_path_factory.mktemp("rollover")
    freeze("2026-08-01")
    generate_snapshot(base / "y1", scale=0.0003, seed=7, messy=False)
    counts = generate_rollover(base / "y1", base / "y2", seed=7)
    clock.freeze(None)
    return base / "y1", base / "y2", counts


def _import(path, **kw):
    return RosterImport(path, actor="test", **kw).run()


def _rows(path, name):
    with open(path / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_the_generated_year_moves_everyone_one_grade_up(years):
    y1, y2, counts = years
    before = {r["peserta_didik_id"]: r for r in _rows(y1, "peserta_didik.csv")}
    after = {r["peserta_didik_id"]: r for r in _rows(y2, "peserta_didik.csv")}
    forms = {r["sekolah_id"]: r["bentuk_pendidikan"] for r in _rows(y1, "sekolah.csv")}
    kode = {r["sekolah_id"]: r["kode_wilayah"] for r in _rows(y1, "sekolah.csv")}
    for pid, old in before.items():
        new = after.get(pid)
        g = int(old["tingkat_pendidikan"])
        form = forms[old["sekolah_id"]]
        if old["program"] == "reguler" and form in ("SMA",) and g == 12:
            assert new is None  # graduated
        if new is None:
            continue
        assert int(new["tingkat_pendidikan"]) == g + 1
        if form == "SD" and g == 6:
            assert forms[new["sekolah_id"]] == "SMP"
            assert kode[new["sekolah_id"]][:2] == kode[old["sekolah_id"]][:2]
        if form == "SMP" and g == 9:
            assert forms[new["sekolah_id"]] in ("SMA", "SMK")
    new_ones = [r for pid, r in after.items() if pid not in before]
    assert len(new_ones) == counts["new_cohort"] > 0
    assert {r["tingkat_pendidikan"] for r in new_ones} == {"1"}
    assert counts["level_change"] > 0 and counts["graduated"] > 0


@pytest.mark.django_db(transaction=True)
def test_window_open_close_status_and_who_may(run_akun):
    admin, _ = do_create_admin(nama="Admin Nasional", region="nasional", actor="t")
    r = run_akun("roster", "rollover", "open", "--year", "2027/2028", "--by", "nobody@x")
    assert r.returncode != 0 and "not an admin" in r.stderr
    r = run_akun("roster", "rollover", "open", "--year", "2027-2028", "--by", admin.user_id)
    assert r.returncode != 0 and "2027/2028" in r.stderr
    r = run_akun("roster", "rollover", "open", "--year", "2027/2028", "--by", admin.user_id,
                 "--until", "2999-08-31")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "2027/2028 open until 2999-08-31" in r.stdout
    assert open_window().year == "2027/2028"
    with pytest.raises(RolloverError, match="is open"):
        do_open_rollover("2028/2029", actor="x")
    r = run_akun("roster", "rollover", "status")
    assert "2027/2028  OPEN until 2999-08-31" in r.stdout and "Open now: 2027/2028" in r.stdout
    r = run_akun("roster", "rollover", "close", "--by", admin.user_id)
    assert r.returncode == 0 and open_window() is None
    actions = list(AuditEvent.objects.filter(action__startswith="roster.rollover")
                   .order_by("id").values_list("action", "actor", "object_id"))  # fmt: skip
    assert actions == [
        ("roster.rollover_open", admin.user_id, "2027/2028"),
        ("roster.rollover_close", admin.user_id, "2027/2028"),
    ]
    with pytest.raises(RolloverError, match="no rollover window"):
        do_close_rollover(actor="x")


def test_a_window_ends_on_its_until_day():
    freeze("2027-07-01")
    import datetime as dt

    do_open_rollover("2027/2028", actor="a", until=dt.date(2027, 7, 31))
    assert open_window() is not None
    freeze("2027-08-01")
    assert open_window() is None


def test_small_rollover_end_to_end(years, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    y1, y2, counts = years
    freeze("2026-08-01")
    _import(y1)
    issue_accounts(actor="test")
    lifecycle.roster_pass(actor="test")  # the mark: later passes look at changes only
    before = Account.objects.count()
    # Outside a window the snapshot stops: graduates are far more than 5%.
    freeze("2027-07-10")
    with pytest.raises(SafetyStop, match="rollover window"):
        _import(y2)
    do_open_rollover("2027/2028", actor="admin")
    result = _import(y2)
    assert result.expected_departures > 0
    rp = lifecycle.roster_pass(actor="test")
    assert rp.held == []
    assert rp.total("rollover_expected") > 0
    # New accounts at the new level for every level change that is eligible there, the
    # old ones on the deletion path (not suspended: the holder moves their data).
    moved = DeletionSchedule.objects.filter(reason="moved_level", status="pending")
    assert moved.count() == rp.total("schedule_moved_level") > 0
    assert not moved.filter(suspended=True).exists()
    new_level = Account.objects.filter(issued_at__gte=clock.now(), jenjang__in=["SMP", "SMA",
                                                                               "SMK"])  # fmt: skip
    assert new_level.count() >= moved.count()
    assert rp.total("issue") > 0 and Account.objects.count() == before + rp.total("issue")
    departed = DeletionSchedule.objects.filter(reason="departed", status="pending")
    assert departed.count() > 0 and departed.filter(suspended=True).exists()
    # Notices for the old accounts (those with a recovery address get mail).
    sent = lifecycle.send_notices(actor="test")
    assert sent.total("sent_notice") > 0 and len(mail.outbox) == sent.total("sent_notice")
    noticed = DeletionSchedule.objects.filter(status="pending", notice_at__isnull=False)
    assert noticed.filter(reason="moved_level").exists()
    statistics.fold()
    assert_exact()


def test_inside_the_window_a_province_cut_in_half_is_still_held(years, tmp_path):
    y1, y2, _counts = years
    freeze("2026-08-01")
    _import(y1)
    issue_accounts(actor="test")
    lifecycle.roster_pass(actor="test")
    freeze("2027-07-10")
    do_open_rollover("2027/2028", actor="admin")
    # One province's file cut in half: half of its students who are not graduating vanish.
    schools = {r["sekolah_id"]: r["kode_wilayah"][:2] for r in _rows(y2, "sekolah.csv")}
    rows = _rows(y2, "peserta_didik.csv")
    provs = sorted({schools[r["sekolah_id"]] for r in rows})
    biggest = max(provs, key=lambda p: sum(schools[r["sekolah_id"]] == p for r in rows))
    cut = tmp_path / "cut"
    shutil.copytree(y2, cut)
    kept, seen = [], 0
    for r in rows:
        if schools[r["sekolah_id"]] == biggest and r["tingkat_pendidikan"] != "1":
            seen += 1
            if seen % 2:
                continue
        kept.append(r)
    with open(cut / "peserta_didik.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(kept)
    with pytest.raises(SafetyStop, match=f"province {biggest}"):
        _import(cut)
    # Forced through the import, the roster pass holds that province only.
    _import(cut, allow_mass_departure=True)
    rp = lifecycle.roster_pass(actor="test")
    assert biggest in rp.held
    assert Hold.objects.filter(kode_provinsi=biggest, status="held").exists()
    assert set(rp.held) == {biggest}
