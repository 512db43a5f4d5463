"""`akun accounts issue`: the right accounts, once, safely under concurrency and kills."""

import re
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection

from akun.accounts import api, crypto
from akun.accounts.issue import ISSUE_LOCK_KEY
from akun.accounts.models import Account, IssueRun
from akun.audit.models import AuditEvent
from akun.core import clock
from akun.roster.api import PesertaDidik
from tests import builders as roster
from tests.test_accounts_support import all_cells, pg_dump_data


def _issue(**kw):
    return api.issue_accounts(actor="test", **kw)


def accounts_of(person_id):
    return {
        (a.jenjang, a.role, a.subdomain, a.sekolah_id)
        for a in Account.objects.filter(person_id=person_id)
    }


@pytest.mark.django_db
def test_issues_the_right_accounts():
    sd, sd2, smp = roster.sekolah("SD"), roster.sekolah("SD"), roster.sekolah("SMP")
    pkbm, sdlb, tk = roster.sekolah("PKBM"), roster.sekolah("SDLB"), roster.sekolah("TK")
    s5 = roster.peserta_didik(sd, 5, nama="Dewi Sartika")
    s4 = roster.peserta_didik(sd, 4)
    paket_b = roster.peserta_didik(pkbm, 8, program="paket_b")
    slb = roster.peserta_didik(sdlb, 5)
    tk_child = roster.peserta_didik(tk, 1)
    gone = roster.peserta_didik(sd, 6, departed=True)
    two_sd = roster.ptk(sd, induk=False, nama="Ani")
    roster.ptk(sd2, ptk_id=two_sd.ptk_id, induk=True, nama="Ani")
    two_levels = roster.ptk(sd, induk=True)
    roster.ptk(smp, "Guru Mapel", ptk_id=two_levels.ptk_id, induk=False)
    teacher_operator = roster.ptk(sd, "Guru Kelas", operator=True)
    head = roster.ptk(smp, "Kepala Sekolah")
    tutor = roster.ptk(pkbm, "Tutor")
    pkbm_operator = roster.ptk(pkbm, "Tenaga Administrasi Sekolah", operator=True)
    librarian = roster.ptk(sd, "Tenaga Perpustakaan")
    tk_teacher = roster.ptk(tk, "Guru Kelas")

    clock.freeze(clock.now())
    result = _issue()

    assert accounts_of(s5.pk) == {("SD", "peserta_didik", "sd", sd.pk)}
    assert accounts_of(paket_b.pk) == {("SMP", "peserta_didik", "kesetaraan", pkbm.pk)}
    assert accounts_of(slb.pk) == {("SLB", "peserta_didik", "slb", sdlb.pk)}
    for out in (s4, tk_child, gone, librarian, tk_teacher):
        assert not Account.objects.filter(person_id=out.pk if hasattr(out, "nisn") else out.ptk_id)
    assert accounts_of(two_sd.ptk_id) == {("SD", "pendidik", "guru.sd", sd2.pk)}  # ptk_induk
    assert accounts_of(two_levels.ptk_id) == {
        ("SD", "pendidik", "guru.sd", sd.pk),
        ("SMP", "pendidik", "guru.smp", smp.pk),
    }
    assert accounts_of(teacher_operator.ptk_id) == {
        ("SD", "tenaga_kependidikan", "admin.sd", sd.pk)
    }
    assert accounts_of(head.ptk_id) == {("SMP", "tenaga_kependidikan", "admin.smp", smp.pk)}
    assert accounts_of(tutor.ptk_id) == {("KESETARAAN", "pendidik", "guru.kesetaraan", pkbm.pk)}
    assert accounts_of(pkbm_operator.ptk_id) == {
        ("KESETARAAN", "tenaga_kependidikan", "admin.kesetaraan", pkbm.pk)
    }
    assert result.total == Account.objects.count() == 10
    assert result.counts == {
        "sd": 1, "kesetaraan": 1, "slb": 1, "guru.sd": 2, "guru.smp": 1,
        "admin.sd": 1, "admin.smp": 1, "guru.kesetaraan": 1, "admin.kesetaraan": 1,
    }  # fmt: skip

    acc = Account.objects.get(person_id=s5.pk)
    assert acc.user_id == "dewisartika1@sd.belajar.test"
    assert (acc.state, acc.issue_run, acc.issued_at) == ("issued", result.run_id, clock.now())
    assert not acc.has_usable_password()  # no argon2 at issuance
    password = api.get_initial_password(acc)
    assert re.fullmatch(f"[{crypto.PASSWORD_ALPHABET}]{{10}}", password)
    assert api.check_initial_password(acc, password)
    assert not api.check_initial_password(acc, password[::-1])

    # One audit row for the run, with the counts; not one per account.
    events = list(AuditEvent.objects.filter(action="accounts.issue"))
    assert len(events) == 1
    assert events[0].after["counts"] == dict(result.counts)
    assert events[0].after["run"] == result.run_id
    assert IssueRun.objects.get(pk=result.run_id).status == "finished"


@pytest.mark.django_db
def test_idempotent_and_picks_up_only_what_is_new():
    sd, smp = roster.sekolah("SD"), roster.sekolah("SMP")
    child = roster.peserta_didik(sd, 6)
    assert _issue().total == 1
    again = _issue()
    assert (again.total, again.counts) == (0, {})
    # The child moves on to SMP: a second account, for the new jenjang; the SD one stays.
    PesertaDidik.objects.filter(pk=child.pk).update(sekolah_id=smp.pk, tingkat_pendidikan=7)
    roster.peserta_didik(sd, 5)
    assert _issue().counts == {"smp": 1, "sd": 1}
    assert {a.jenjang for a in Account.objects.filter(person_id=child.pk)} == {"SD", "SMP"}
    assert _issue().total == 0


@pytest.mark.django_db
def test_constraint_forbids_a_second_account_per_person_per_jenjang():
    from django.db import IntegrityError, transaction

    sd = roster.sekolah("SD")
    child = roster.peserta_didik(sd, 5)
    _issue()
    acc = Account.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(
            local_part="x1", user_id="x1@sd.belajar.test", subdomain="sd",
            person_type="peserta_didik", person_id=child.pk, jenjang="SD",
            role="peserta_didik", issued_at=acc.issued_at,
        )  # fmt: skip


# Committed (transaction=True): pg_dump reads over its own connection.
@pytest.mark.django_db(transaction=True)
def test_no_plain_text_initial_password_anywhere_in_the_database():
    sd, smp = roster.sekolah("SD"), roster.sekolah("SMP")
    PesertaDidik.objects.bulk_create(
        [roster.peserta_didik(sd, 5, nama=f"Anak {i}", save=False) for i in range(150)]
    )
    roster.ptk(smp, "Kepala Sekolah")
    _issue()
    accounts = list(Account.objects.all())
    passwords = {api.get_initial_password(a) for a in accounts}
    assert len(passwords) == len(accounts) == 151
    # Exports and re-issues put more in the audit log; none of it may hold a password.
    api.export_accounts_csv(sd.npsn, actor="op")
    passwords.add(api.do_reissue_account(accounts[0], actor="op", reason="lost"))
    pattern = re.compile("|".join(map(re.escape, passwords)))
    cells = 0
    for table, column, value in all_cells():
        cells += 1
        if isinstance(value, bytes | memoryview):
            text = bytes(value).decode("latin-1")
        else:
            text = str(value)
        assert not pattern.search(text), (table, column)
    assert cells > 151 * 10
    if connection.vendor == "postgresql":  # and in what the database itself would dump
        dump = pg_dump_data()
        assert all(a.user_id in dump for a in accounts)  # the dump holds the accounts
        assert not pattern.search(dump)


def _counts_by_person():
    rows = Account.objects.values_list("person_type", "person_id", "jenjang")
    return len(rows), len(set(rows))


def _make_school_roster(n_students=600, n_teachers=60):
    sd, smp = roster.sekolah("SD"), roster.sekolah("SMP")
    PesertaDidik.objects.bulk_create(
        [
            roster.peserta_didik(
                sd if i % 2 else smp, 6 if i % 2 else 8, nama="Muhammad Ali", save=False
            )
            for i in range(n_students)
        ]  # fmt: skip
    )
    from akun.roster.api import Ptk

    Ptk.objects.bulk_create(
        [roster.ptk(sd, nama="Muhammad Ali", save=False) for _ in range(n_teachers)]
    )
    return n_students + n_teachers


@pytest.mark.django_db(transaction=True)
def test_issue_for_named_people_only():
    """`people`: the roster pass's way to issue for the few it saw change (in batches,
    prepared ahead on PostgreSQL) without reading the whole roster."""
    _make_school_roster(50, 10)
    from akun.roster.api import Ptk

    pupils = [str(p) for p in PesertaDidik.objects.values_list("pk", flat=True)[:7]]
    teacher = str(Ptk.objects.values_list("ptk_id", flat=True).first())
    result = _issue(people={"peserta_didik": pupils, "ptk": [teacher, teacher]}, batch_rows=3)
    assert result.total == 8 and result.batches == 4  # 3 + 3 + 1 pupils, 1 teacher
    issued = {str(a.person_id) for a in Account.objects.all()}
    assert issued == {*pupils, teacher}
    assert _issue(people={"peserta_didik": pupils}).total == 0  # they have theirs now
    assert _issue(people={}).total == 0
    assert _issue().total == 60 - 8  # the whole roster: the rest
    numbers = sorted(int(re.sub(r"\D", "", a.local_part) or 1) for a in Account.objects.all())
    assert numbers == list(range(1, 61))  # one base, numbered without gaps across runs


@pytest.mark.django_db(transaction=True)
def test_cli_prints_counts_and_is_idempotent(run_akun):
    total = _make_school_roster(40, 5)
    first = run_akun("accounts", "issue", "--actor", "ops")
    assert first.returncode == 0, first.stderr
    assert "45 accounts issued" in first.stdout
    assert re.search(r"peserta_didik\s+sd\s+sd\s+20\b", first.stdout)
    assert re.search(r"peserta_didik\s+smp\s+smp\s+20\b", first.stdout)
    assert re.search(r"pendidik\s+sd\s+guru\.sd\s+5\b", first.stdout)
    second = run_akun("accounts", "issue")
    assert second.returncode == 0, second.stderr
    assert "0 accounts issued" in second.stdout and "Nothing to issue" in second.stdout
    assert Account.objects.count() == total


class HeldIssueLock:
    """Hold the lock that issuance batches take, from a connection of the test's own, so
    that two `akun` processes both start and queue up before either can issue anything."""

    def __enter__(self):
        s = connection.settings_dict
        if connection.vendor == "postgresql":
            import psycopg

            self.conn = psycopg.connect(
                host=s["HOST"] or "127.0.0.1", user=s["USER"] or "postgres", dbname=s["NAME"]
            )
            self.conn.execute("BEGIN")
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", [ISSUE_LOCK_KEY])
        else:
            import sqlite3

            self.conn = sqlite3.connect(s["NAME"], isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")
        return self

    def waiting(self) -> int:
        if connection.vendor != "postgresql":
            return 2  # SQLite cannot tell; the caller sleeps instead
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            return cur.fetchone()[0]

    def __exit__(self, *exc):
        self.conn.rollback() if connection.vendor == "postgresql" else self.conn.execute("ROLLBACK")
        self.conn.close()


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_never_create_duplicates(run_akun):
    total = _make_school_roster(3000, 200)
    results = []

    def go():
        results.append(run_akun("accounts", "issue", "--batch-rows", "100"))

    threads = [threading.Thread(target=go) for _ in range(2)]
    with HeldIssueLock() as lock:
        for t in threads:
            t.start()
        time.sleep(4)  # both processes start Django and reach the lock
        deadline = time.monotonic() + 60
        while lock.waiting() < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
    for t in threads:
        t.join()
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    issued = [int(re.search(r"([\d,]+) accounts issued", r.stdout)[1].replace(",", ""))
              for r in results]  # fmt: skip
    assert sum(issued) == total  # between them exactly once each
    if connection.vendor == "postgresql":
        # Advisory-lock waiters queue fairly and each run walks the ranges in its own order,
        # so both do real work. (SQLite's busy-wait lock is not fair: one run usually takes
        # every batch while the other waits, which is still correct.)
        assert all(n > 0 for n in issued), issued
    assert _counts_by_person() == (total, total)
    locals_ = list(Account.objects.values_list("local_part", flat=True))
    assert len(set(locals_)) == total
    assert IssueRun.objects.filter(status="finished").count() == 2


@pytest.mark.django_db(transaction=True)
def test_killed_run_loses_nothing_and_the_next_run_finishes(run_akun):
    total = _make_school_roster(1000, 100)
    killed = run_akun("accounts", "issue", "--batch-rows", "200", hook=("kill-after-batches", "2"))
    assert killed.returncode == -9, (killed.returncode, killed.stderr)
    after_kill = Account.objects.count()
    assert 0 < after_kill < total
    dead = IssueRun.objects.get()
    assert dead.status == "running"
    assert sum(dead.counts.values()) == after_kill  # its counts match what it committed
    assert set(Account.objects.values_list("issue_run", flat=True)) == {dead.pk}

    # Later, the next run finishes the job and records the dead run as interrupted.
    IssueRun.objects.filter(pk=dead.pk).update(heartbeat_at=clock.now() - timedelta(hours=1))
    rerun = run_akun("accounts", "issue", "--batch-rows", "200")
    assert rerun.returncode == 0, rerun.stderr
    assert f"{total - after_kill:,} accounts issued" in rerun.stdout
    assert f"interrupted runs recorded: #{dead.pk}" in rerun.stdout
    assert _counts_by_person() == (total, total)
    numbers = sorted(int(lp.removeprefix("muhammadali")) for lp in
                     Account.objects.values_list("local_part", flat=True))  # fmt: skip
    assert numbers == list(range(1, total + 1))
    assert IssueRun.objects.get(pk=dead.pk).status == "interrupted"
    audit = AuditEvent.objects.filter(action="accounts.issue").order_by("id")
    assert [(e.object_id, e.after["status"]) for e in audit] == [
        (str(dead.pk), "interrupted"),
        (str(dead.pk + 1), "finished"),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_killed_run_is_recorded_as_interrupted_by_the_very_next_run(run_akun):
    total = _make_school_roster(600, 60)
    killed = run_akun("accounts", "issue", "--batch-rows", "200", hook=("kill-after-batches", "1"))
    assert killed.returncode == -9, (killed.returncode, killed.stderr)
    dead = IssueRun.objects.get()
    assert dead.status == "running"
    # Its heartbeat is fresh, but its process is gone: the next run knows it is dead.
    rerun = run_akun("accounts", "issue", "--batch-rows", "200")
    assert rerun.returncode == 0, rerun.stderr
    assert f"interrupted runs recorded: #{dead.pk}" in rerun.stdout
    assert dict(IssueRun.objects.values_list("pk", "status")) == {
        dead.pk: "interrupted",
        dead.pk + 1: "finished",
    }
    assert IssueRun.objects.get(pk=dead.pk).finished_at is not None
    assert _counts_by_person() == (total, total)
    audit = AuditEvent.objects.filter(action="accounts.issue").order_by("id")
    assert [(e.object_id, e.after["status"]) for e in audit] == [
        (str(dead.pk), "interrupted"),
        (str(dead.pk + 1), "finished"),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_process_lives_is_never_taken_for_dead(run_akun):
    from akun.accounts.issue import run_alive

    _make_school_roster(50, 10)
    long_ago = clock.now() - timedelta(hours=3)
    slow = IssueRun.objects.create(started_at=long_ago, heartbeat_at=long_ago, actor="slow")
    with run_alive(slow.pk):  # as its process holds it while it runs (a batch taking hours)
        other = run_akun("accounts", "issue")
    assert other.returncode == 0, other.stderr
    assert "interrupted runs recorded" not in other.stdout
    assert IssueRun.objects.get(pk=slow.pk).status == "running"
    # Once its process is gone, it is dead.
    again = run_akun("accounts", "issue")
    assert f"interrupted runs recorded: #{slow.pk}" in again.stdout
    assert IssueRun.objects.get(pk=slow.pk).status == "interrupted"


@pytest.mark.django_db
def test_user_id_lookups_go_through_the_local_part_and_stay_exact():
    from django.contrib.auth import get_user_model
    from django.db import IntegrityError, transaction

    sd = roster.sekolah("SD")
    roster.peserta_didik(sd, 5)
    _issue()
    acc = Account.objects.get()
    User = get_user_model()
    assert User.objects.get_by_natural_key(" " + acc.user_id.upper() + " ") == acc
    assert Account.objects.filter(user_id=acc.user_id).get() == acc
    # Same local part, another subdomain or domain: no match (the full user ID is compared).
    other = acc.local_part + "@smp." + acc.user_id.split(".", 1)[1]
    assert not Account.objects.filter(user_id=other).exists()
    with pytest.raises(Account.DoesNotExist):
        User.objects.get_by_natural_key(acc.local_part + "@sd.example.org")
    assert "local_part" in str(Account.objects.filter(user_id=acc.user_id).query)
    # A list of user IDs the same way (the helpdesk's screen looks up several at once).
    many = Account.objects.filter(user_id__in=[acc.user_id, other, "nobody1@sd.belajar.test"])
    assert '"local_part" IN' in str(many.query) and list(many) == [acc]
    # A user ID always begins with its own local part (so local_part unique => user_id unique).
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=acc.pk).update(user_id="someoneelse1@sd.belajar.test")


@pytest.mark.django_db(transaction=True)
def test_bulk_run_drops_and_rebuilds_the_school_index_and_a_killed_run_heals(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("index upkeep is PostgreSQL's bulk path")
    from akun.accounts import issue

    [(name, _)] = issue._deferrable_indexes()

    def present():
        with connection.cursor() as cur:
            return name in issue._existing_indexes(cur, [name])

    sd = roster.sekolah("SD")
    for grade in (5, 6, 5):
        roster.peserta_didik(sd, grade)
    monkeypatch.setattr(issue, "BULK_MIN_ROSTER_ROWS", 1)
    assert issue._bulk_run()  # empty table, roster of 3
    seen = []
    monkeypatch.setattr(issue, "_issue_range", _spy(issue._issue_range, present, seen))
    assert _issue(batch_rows=2).total == 3
    assert seen and not any(seen)  # dropped while the batches ran
    assert present()  # rebuilt at the end
    # A run killed with the index dropped: the next run (not a bulk one) builds it first.
    issue._drop_indexes()
    assert not present()
    assert not issue._bulk_run()  # 3 accounts for 3 roster rows
    assert _issue().total == 0
    assert present()


def _spy(fn, present, seen):
    def wrapper(*args, **kwargs):
        seen.append(present())
        return fn(*args, **kwargs)

    return wrapper


@pytest.mark.django_db(transaction=True)
def test_rows_prepared_ahead_that_get_an_account_meanwhile_are_dropped_gap_free(
    monkeypatch, caplog
):
    """The worker prepares range k+1 outside the lock; if another run issues some of its
    people before the insert, they are dropped and the rest numbered without gaps."""
    if connection.vendor != "postgresql":
        pytest.skip("ranges are prepared ahead only on PostgreSQL")
    from akun.accounts import issue

    total = _make_school_roster(600, 60)
    threads, meanwhile = set(), {}
    prepare = issue._prepare

    def prepare_then_someone_else_issues(part, *, outside_lock):
        with connection.cursor() as cur:
            candidates = issue._candidates(cur, part)
        prepared = prepare(part, outside_lock=outside_lock)
        threads.add((threading.current_thread() is threading.main_thread(), outside_lock))
        if len(meanwhile) < 60:  # a third of the first ranges' people, committed at once
            for person_id, sekolah_id, nama, _, jenjang, _ in candidates[::3]:
                local = issue.allocate_local_part("muhammadali")
                acc = Account.objects.create(
                    local_part=local, user_id=f"{local}@x.belajar.test", subdomain="x",
                    person_type=part.kind, person_id=person_id, jenjang=jenjang, role="pendidik",
                    sekolah_id=sekolah_id, nama=nama, issued_at=clock.now(),
                )  # fmt: skip
                meanwhile[acc.pk] = acc.user_id
        return prepared

    monkeypatch.setattr(issue, "_prepare", prepare_then_someone_else_issues)
    with caplog.at_level("INFO", logger="akun.accounts.issue"):
        result = _issue(batch_rows=100)

    assert "got an account meanwhile" in caplog.text  # the insert met them and dropped them

    assert threads == {(False, True)}  # prepared on the worker thread, outside the lock
    assert 0 < len(meanwhile) < total
    assert result.total == total - len(meanwhile)
    assert _counts_by_person() == (total, total)  # everyone once, nobody twice
    numbers = sorted(int(lp.removeprefix("muhammadali")) for lp in
                     Account.objects.values_list("local_part", flat=True))  # fmt: skip
    assert numbers == list(range(1, total + 1))  # gap-free across both
    assert dict(Account.objects.filter(pk__in=meanwhile).values_list("pk", "user_id")) == meanwhile
    assert not Account.objects.filter(pk__in=meanwhile, issue_run=result.run_id).exists()


@pytest.mark.django_db(transaction=True)
def test_students_are_issued_school_by_school(monkeypatch):
    """A batch of students holds whole schools, so its accounts (and the statistics' school
    counters they move) fall in a few schools, not one each all over the country."""
    from akun.accounts import issue
    from akun.roster import api as roster_api

    schools = [roster.sekolah("SD") for _ in range(7)]
    for i, sd in enumerate(schools):
        for _ in range(1 + i % 3):  # 1, 2 or 3 eligible students a school
            roster.peserta_didik(sd, 5)
    big = roster.sekolah("SD")
    for _ in range(6):
        roster.peserta_didik(big, 6)  # more than a batch: a batch of its own
    with connection.cursor() as cur:
        planned = roster_api.school_batches(cur, "peserta_didik", 4)
    flat = [uuid.UUID(str(s)) for batch in planned for s in batch]
    assert sorted(flat) == sorted(s.pk for s in [*schools, big])  # every school, once
    assert (uuid.UUID(str(big.pk)),) in [tuple(uuid.UUID(str(s)) for s in b) for b in planned]
    assert len(planned) > 2

    batches = []
    candidates = issue._candidates

    def spy(cur, part):
        rows = candidates(cur, part)
        batches.append((part, {r[1] for r in rows}, len(rows)))
        return rows

    monkeypatch.setattr(issue, "_candidates", spy)
    result = _issue(batch_rows=4)

    assert result.total == 13 + 6  # 1+2+3+1+2+3+1, and the big school's
    student_batches = [(s, n) for part, s, n in batches if part.kind == "peserta_didik"]
    assert all(part.by_school for part, _, _ in batches if part.kind == "peserta_didik")
    assert len(student_batches) == len(planned)
    seen = [uuid.UUID(str(s)) for schools_of_batch, _ in student_batches for s in schools_of_batch]
    assert sorted(seen) == sorted(s.pk for s in [*schools, big])  # each school in one batch
    sizes = sorted(n for _, n in student_batches)
    assert sizes[-1] == 6 and sizes[-2] <= 4  # 4 at most, but for the big school
