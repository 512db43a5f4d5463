"""The incremental roster pass: after its first (full) pass it looks only at the people that
later import runs changed, and finds every move, departure, return and school closure they
made; the safety stop and running imports never let it skip work."""

import uuid

import pytest
from django.db import connection

from akun.accounts.api import Account
from akun.core import clock
from akun.lifecycle import api
from akun.lifecycle import sqlutil as q
from akun.lifecycle.models import DeletionSchedule, RosterMark
from akun.lifecycle.roster_pass import desired_sql
from akun.roster.api import ImportRun, PesertaDidik, Ptk, Sekolah
from tests import builders as roster
from tests.lifecycle_support import account_of, freeze, issue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lifecycle_settings")]


def new_import(status="applied") -> int:
    return ImportRun.objects.create(
        started_at=clock.now(), source="test", actor="test", status=status
    ).pk


def all_from(run: int) -> None:
    """Every roster row as the import `run` left it."""
    for model in (Sekolah, PesertaDidik, Ptk):
        model.objects.update(first_run_id=run, changed_run_id=run)


def change(row, run: int, **fields) -> None:
    """What an import does to a row it finds changed (or back)."""
    for k, v in fields.items():
        setattr(row, k, v)
    row.changed_run_id, row.departed_at, row.departed_run_id = run, None, None
    row.save()


def depart(row, run: int) -> None:
    row.departed_at, row.departed_run_id = clock.now(), run
    row.save()


def run_pass(**kw):
    return api.roster_pass(actor="test", **kw)


def first_pass() -> int:
    """The roster as import run 1 left it, its accounts issued and the first (full) pass
    done: what every test here starts from. Returns the import run."""
    r1 = new_import()
    all_from(r1)
    issue()
    run_pass()
    return r1


def plan(full: bool):
    return api.roster_pass(actor="plan", dry_run=True, full=full).counts


def state(account):
    return Account.objects.get(pk=account.pk).state


def schedule_of(account):
    return DeletionSchedule.objects.filter(account_id=account.pk).order_by("-pk").first()


@pytest.fixture
def start():
    freeze("2021-07-01")


def test_first_pass_is_full_and_later_ones_look_at_changed_people_only(start):
    sd, smp = roster.sekolah("SD"), roster.sekolah("SMP")
    pupil = roster.peserta_didik(sd, 6)
    r1 = new_import()
    all_from(r1)
    issue()
    assert not RosterMark.objects.exists()
    run_pass()
    mark = RosterMark.objects.get()
    assert mark.import_run == r1 and mark.passed_at == clock.now()
    # A change that no import made (the row still says r1): an incremental pass does not
    # look at this person, nor does its issuance (only the scope's people).
    pupil.refresh_from_db()
    pupil.sekolah_id, pupil.tingkat_pendidikan = smp.sekolah_id, 7
    pupil.save()
    assert plan(full=False) == {}
    assert plan(full=True) == {("issue", "32"): 1, ("schedule_moved_level", "32"): 1}
    assert run_pass().counts == {}
    # No mark: the pass is full again.
    RosterMark.objects.all().delete()
    result = run_pass()
    assert result.total("issue") == 1 and result.total("schedule_moved_level") == 1


def test_full_flag_compares_everything(start):
    sd = roster.sekolah("SD")
    pupil = roster.peserta_didik(sd, 5)
    first_pass()
    pupil.refresh_from_db()
    pupil.departed_at = clock.now()  # not by an import
    pupil.save()
    assert run_pass().counts == {}
    assert run_pass(full=True).total("schedule_departed") == 1


def test_later_import_moves_departures_returns_and_closures_are_found(start):
    sd, sd2, smp, closing = (roster.sekolah(f) for f in ("SD", "SD", "SMP", "SD"))
    mover = roster.peserta_didik(sd, 6, nama="Mover")
    leaver = roster.peserta_didik(sd, 5, nama="Leaver")
    stayer = roster.peserta_didik(sd, 5, nama="Stayer")
    at_closing = roster.peserta_didik(closing, 5, nama="Closing")
    # A teacher at two schools: the main one closes, the other stays (rows unchanged).
    guru = roster.ptk(closing, "Guru Kelas", nama="Dua Sekolah")
    roster.ptk(sd2, "Guru Kelas", ptk_id=guru.ptk_id, induk=False, nama="Dua Sekolah")
    first_pass()
    for p in (mover, leaver, at_closing, guru):
        p.refresh_from_db()
    closing.refresh_from_db()
    stayer_account = account_of(stayer)
    # The next import: a move up, a departure, a school closure.
    r2 = new_import()
    change(mover, r2, sekolah_id=smp.sekolah_id, tingkat_pendidikan=7)
    depart(leaver, r2)
    depart(closing, r2)
    expected = plan(full=True)
    assert plan(full=False) == expected
    result = run_pass()
    assert result.counts == expected
    assert result.total("issue") == 1  # the SMP account
    assert result.total("schedule_moved_level") == 1
    assert result.total("schedule_departed") == 1
    assert result.total("schedule_school_closed") == 1
    assert result.total("follow") == 1  # the teacher, to the other school
    assert account_of(guru).sekolah_id == sd2.sekolah_id
    assert state(account_of(leaver)) == "suspended"
    assert state(account_of(at_closing)) == "suspended"
    assert schedule_of(account_of(mover, "SD")).reason == "moved_level"
    assert schedule_of(stayer_account) is None and state(stayer_account) == "issued"
    assert RosterMark.objects.get().import_run == r2
    assert run_pass().counts == {}  # nothing new
    # The import after: the leaver is back.
    freeze("2021-07-10")
    r3 = new_import()
    change(leaver, r3)
    expected = plan(full=True)
    assert expected == {("back", "32"): 1}
    result = run_pass()
    assert result.counts == expected
    assert state(account_of(leaver)) == "issued"
    assert schedule_of(account_of(leaver)).status == "cancelled"


def test_held_province_is_looked_at_again(start, settings):
    settings.AKUN_LIFECYCLE_MAX_SHARE = 0.3
    sd = roster.sekolah("SD")
    pupils = [roster.peserta_didik(sd, 5, nama=f"Murid {i}") for i in range(4)]
    r1 = first_pass()
    r2 = new_import()
    for p in pupils[:2]:
        p.refresh_from_db()
        depart(p, r2)
    result = run_pass()  # 2 of 4: held
    assert result.held == ["32"] and result.total("schedule_departed") == 0
    assert RosterMark.objects.get().import_run == r1  # not past the held work
    api.do_confirm_hold(api.Hold.objects.get(status="held").pk, actor="admin")
    result = run_pass()  # no new import: the held people are still looked at
    assert result.total("schedule_departed") == 2
    assert RosterMark.objects.get().import_run == r2


def test_mark_stops_before_an_import_still_running(start):
    sd = roster.sekolah("SD")
    a, b = roster.peserta_didik(sd, 5, nama="A"), roster.peserta_didik(sd, 5, nama="B")
    first_pass()
    r2 = new_import(status="running")  # started, not committed yet
    r3 = new_import()  # a later one that finished first
    a.refresh_from_db()
    depart(a, r3)
    assert run_pass().total("schedule_departed") == 1
    assert RosterMark.objects.get().import_run == r2 - 1
    # The earlier import commits its change afterwards: the next pass still finds it.
    b.refresh_from_db()
    depart(b, r2)
    ImportRun.objects.filter(pk=r2).update(status="applied")
    assert run_pass().total("schedule_departed") == 1
    assert RosterMark.objects.get().import_run == r3


def test_cancelled_schedule_is_looked_at_again_as_by_a_full_pass(start):
    sd = roster.sekolah("SD")
    pupil = roster.peserta_didik(sd, 5)
    first_pass()
    pupil.refresh_from_db()
    depart(pupil, new_import())
    run_pass()
    acct = account_of(pupil)
    api.do_cancel_deletion(acct, actor="admin", reason="checking")
    assert plan(full=False) == plan(full=True) == {("schedule_departed", "32"): 1}


def test_scoped_eligibility_sql_matches_the_full_one(start):
    """The pass's per-person eligibility query gives, for the people it is asked about,
    exactly the rows of akun.accounts.eligibility's query."""
    schools = {f: roster.sekolah(f) for f in ("SD", "SMP", "SMA", "SMK", "SLB", "PKBM", "TK")}
    people = []
    for form, grade, program in [
        ("SD", 5, "reguler"), ("SD", 3, "reguler"), ("SMP", 8, "reguler"),
        ("SMA", 11, "reguler"), ("SMK", 13, "reguler"), ("SLB", 7, "reguler"),
        ("PKBM", 6, "paket_a"), ("PKBM", 8, "paket_b"), ("PKBM", 11, "paket_c"),
        ("TK", 1, "reguler"),
    ]:  # fmt: skip
        people.append(roster.peserta_didik(schools[form], grade, program=program))
    people.append(roster.peserta_didik(schools["SD"], 6, departed=True))
    g = roster.ptk(schools["SD"], "Guru Kelas")
    roster.ptk(schools["SMP"], "Kepala Sekolah", ptk_id=g.ptk_id, induk=False)
    roster.ptk(schools["SLB"], "Guru Mapel", ptk_id=g.ptk_id, induk=False, operator=True)
    h = roster.ptk(schools["SMA"], "Guru Mapel")
    roster.ptk(schools["SMK"], "Tenaga Administrasi Sekolah", ptk_id=h.ptk_id, induk=False)
    roster.ptk(schools["PKBM"], "Tutor")
    roster.ptk(schools["TK"], "Guru Kelas")
    asked = [("peserta_didik", p.peserta_didik_id) for p in people[::2]]
    asked += [("ptk", g.ptk_id), ("ptk", h.ptk_id)]
    as_db = Ptk._meta.get_field("ptk_id").get_db_prep_value  # uuid, or hex text on SQLite
    wanted = {uuid.UUID(str(pid)) for _, pid in asked}
    with connection.cursor() as cur:
        q.create_temp(cur, "lc_p", f"person_type text, person_id {q.uuid_type()}")
        for kind, pid in asked:
            cur.execute("INSERT INTO lc_p VALUES (%s, %s)", [kind, as_db(pid, connection)])
        for full, scoped in zip(desired_sql(False), desired_sql(True), strict=True):
            cur.execute(full)
            every = cur.fetchall()
            cur.execute(scoped)
            some = cur.fetchall()
            assert some == [row for row in every if uuid.UUID(str(row[0])) in wanted]
            assert some  # the comparison is not vacuous
        q.drop_temp(cur, "lc_p")


def _spy_on_issuance(monkeypatch) -> list:
    """The `people` of every issue_accounts call the roster pass makes, in order."""
    from akun.lifecycle import roster_pass

    asked = []
    issue_accounts = roster_pass.issue_accounts

    def spy(**kw):
        asked.append(kw.get("people"))
        return issue_accounts(**kw)

    monkeypatch.setattr(roster_pass, "issue_accounts", spy)
    return asked


def test_issuance_runs_only_when_someone_needs_an_account(start, monkeypatch):
    from akun.accounts.api import IssueRun, do_delete_account

    asked = _spy_on_issuance(monkeypatch)
    sd, smp = roster.sekolah("SD"), roster.sekolah("SMP")
    pupil, other = roster.peserta_didik(sd, 6), roster.peserta_didik(sd, 5, nama="Lain")
    stranger = roster.peserta_didik(sd, 5, nama="Tanpa Akun")
    first_pass()
    # Issued before the first (full) pass: its anti-join finds nobody, no issuance run.
    assert asked == []
    runs = IssueRun.objects.count()
    new_import(status="unchanged")
    assert run_pass().counts == {}
    assert IssueRun.objects.count() == runs  # nobody in the scope lacks an account
    # Eligible without an account, but no import touched them: not this pass's business.
    Account.objects.filter(pk=account_of(stranger).pk).delete()
    # A move up: the new account is issued in the same pass, for the scope's people only.
    pupil.refresh_from_db()
    change(pupil, new_import(), sekolah_id=smp.sekolah_id, tingkat_pendidikan=7)
    result = run_pass()
    assert result.total("issue") == 1 and result.total("schedule_moved_level") == 1
    assert IssueRun.objects.count() == runs + 1
    assert [sorted(p) for p in asked] == [["peserta_didik"]]
    assert [uuid.UUID(i) for i in asked[0]["peserta_didik"]] == [pupil.peserta_didik_id]
    assert not Account.objects.filter(person_id=stranger.peserta_didik_id).exists()
    # An account deleted while its person is still eligible: issued again, as by a full
    # pass (the deleted account no longer names its person: the whole roster is read).
    do_delete_account(account_of(other), actor="admin", reason="test")
    assert plan(full=False) == {("issue", "32"): 2}
    result = run_pass()
    assert asked[-1] is None
    assert result.total("issue") == 2
    assert account_of(other).state == "issued" and account_of(stranger).state == "issued"


def test_a_full_pass_issues_to_the_people_it_found_without_an_account(start, monkeypatch):
    from akun.accounts.api import IssueRun
    from akun.lifecycle import roster_pass

    asked = _spy_on_issuance(monkeypatch)
    sd, smp = roster.sekolah("SD"), roster.sekolah("SMP")
    pupils = [roster.peserta_didik(sd, 6, nama=f"Murid {i}") for i in range(3)]
    teacher = roster.ptk(smp, nama="Guru Satu")
    all_from(new_import())
    issue()
    gone = [account_of(pupils[0]), account_of(teacher)]
    Account.objects.filter(pk__in=[a.pk for a in gone]).delete()
    runs = IssueRun.objects.count()
    # More than the list's cap: the whole roster, range by range, as before.
    monkeypatch.setattr(roster_pass, "ISSUE_BY_LIST_UP_TO", 1)
    result = run_pass(full=True)
    assert asked == [None] and result.total("issue") == 2
    assert IssueRun.objects.count() == runs + 1
    Account.objects.filter(pk__in=[account_of(pupils[1]).pk, account_of(teacher).pk]).delete()
    # Within the cap: exactly those two people, by id.
    monkeypatch.setattr(roster_pass, "ISSUE_BY_LIST_UP_TO", 2)
    asked.clear()
    result = run_pass(full=True)
    assert result.total("issue") == 2
    assert {k: sorted(uuid.UUID(i) for i in v) for k, v in asked[0].items()} == {
        "peserta_didik": [pupils[1].peserta_didik_id],
        "ptk": [teacher.ptk_id],
    }
    assert all(account_of(p).state == "issued" for p in pupils)
    assert account_of(teacher).state == "issued"
    # Nobody missing: no issuance run at all.
    asked.clear()
    assert run_pass(full=True).total("issue") == 0
    assert asked == [] and IssueRun.objects.count() == runs + 2
