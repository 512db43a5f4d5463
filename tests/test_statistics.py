"""National statistics (akun.statistik): counts kept by the change stream are exact.

Random changes on both paths -- single do_* actions, bulk transition_many (per-account audit
and PER_RUN), move_many, issuance, an admin's account, deletion -- each compared with a live
count of the accounts, before and after folding the deltas, and with a rebuild."""

import random

import pytest
from django.db import connection

from akun.accounts import api as accounts
from akun.accounts.models import Account
from akun.portal import actions as portal
from akun.statistik import api as statistics
from akun.statistik import counting
from akun.statistik.models import AccountFact, CountDelta, DailyCount, RegionCount, SchoolCount
from tests import builders as roster
from tests.lifecycle_support import freeze, issue

pytestmark = pytest.mark.django_db

PLACES = [("320412", "Kab. Bandung", "Prov. Jawa Barat"), ("327301", "Kota Bandung",
          "Prov. Jawa Barat"), ("350101", "Kab. Pacitan", "Prov. Jawa Timur")]  # fmt: skip


# The account's state at the first enabled Google target, as docs/statistics.md defines it.
SYNC = (
    "LEFT JOIN provisioning_provisioned p ON p.account_id = a.id AND p.target_id = "
    "(SELECT min(name) FROM provisioning_target WHERE enabled AND kind = 'google')"
)


def live() -> dict:
    """(regency, jenjang, role, state, Google sync state) -> n, counted from the accounts
    now."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT COALESCE(substr(s.kode_wilayah, 1, 4), ''), a.jenjang, a.role, a.state, "
            "COALESCE(p.state, ''), count(*) FROM accounts_account a LEFT JOIN roster_sekolah s "
            f"ON s.sekolah_id = a.sekolah_id {SYNC} GROUP BY 1, 2, 3, 4, 5"
        )
        return {tuple(r[:5]): r[5] for r in cur.fetchall()}


def live_schools() -> dict:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT a.sekolah_id, a.role, a.state, COALESCE(p.state, ''), count(*) "
            f"FROM accounts_account a {SYNC} WHERE a.sekolah_id IS NOT NULL GROUP BY 1, 2, 3, 4"
        )
        return {(str(r[0]).replace("-", ""), r[1], r[2], r[3]): r[4] for r in cur.fetchall()}


def kept() -> dict:
    """The same from the statistics: counts plus deltas not folded yet, incl. admins."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT kode, jenjang, role, state, sync, sum(n) FROM (SELECT kode, jenjang, role, "
            "state, sync, n FROM statistik_regioncount UNION ALL SELECT kode, jenjang, role, "
            "state, sync, n FROM statistik_countdelta) x GROUP BY 1, 2, 3, 4, 5 "
            "HAVING sum(n) <> 0"
        )
        return {tuple(r[:5]): r[5] for r in cur.fetchall()}


def kept_schools() -> dict:
    """From the school counts (statistics.schools gives role x state and the sync states
    apart, so the key with both is read from the table and the deltas)."""
    out = {}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT sekolah_id, role, state, sync, sum(n) FROM (SELECT sekolah_id, role, state, "
            "sync, n FROM statistik_schoolcount UNION ALL SELECT sekolah_id, role, state, sync, "
            "n FROM statistik_countdelta WHERE sekolah_id IS NOT NULL) x GROUP BY 1, 2, 3, 4 "
            "HAVING sum(n) <> 0"
        )
        for sid, role, state, sync, n in cur.fetchall():
            out[(str(sid).replace("-", ""), role, state, sync)] = n
    # ... and the api's own reading of them agrees.
    for kode in {k[0] for k in live() if k[0]}:
        for sid, g in statistics.schools(kode).items():
            for (role, state), n in g.cells.items():
                assert n == sum(v for k, v in out.items() if k[:3] == (sid, role, state))
            for sync, n in g.sync.items():
                assert n == sum(v for k, v in out.items() if k[0] == sid and k[3] == sync)
    return out


def assert_exact():
    assert kept() == live()
    assert kept_schools() == live_schools()
    facts = {f.account_id: (f.role, f.state) for f in AccountFact.objects.all()}
    assert facts == {a.pk: (a.role, a.state) for a in Account.objects.all()}
    national = statistics.national()
    for sync in {k[4] for k in live() if k[0]}:
        assert national.sync.get(sync, 0) == sum(
            n for k, n in live().items() if k[0] and k[4] == sync
        )


@pytest.fixture
def world():
    freeze("2026-07-01")
    schools = []
    for i, (kode, kab, prov) in enumerate(PLACES):
        for form in ("SD", "SMP", "SMA"):
            s = roster.sekolah(form, kode_wilayah=kode, kab=kab, prov=prov)
            schools.append(s)
            grade = {"SD": 4, "SMP": 8, "SMA": 11}[form]
            for j in range(6 + i):
                roster.peserta_didik(s, grade, nama=f"Murid {form} {i} {j}")
            roster.ptk(s, nama=f"Guru {form} {i}")
            roster.ptk(s, "Kepala Sekolah", nama=f"Kepala {form} {i}")
    issue()
    counting.refresh_regions()
    return schools


def _single(rng, verb):
    allowed = accounts.TRANSITIONS[verb][0]
    pool = list(Account.objects.filter(state__in=allowed).exclude(person_type="staff"))
    if not pool:
        return
    acc = rng.choice(pool)
    if verb == "activate":
        accounts.do_activate_account(acc, raw_password="teh manis di sore hari", actor="t")
    elif verb == "reissue":
        accounts.do_reissue_account(acc, actor="t", reason="lost letter")
    else:
        getattr(accounts, f"do_{verb}_account")(acc, actor="t", reason="random")


def _bulk(rng, verb):
    sel = accounts.where("a.id %% %(m)s = %(r)s", {"m": rng.randint(2, 5), "r": rng.randint(0, 1)})
    audit_rows = accounts.PER_RUN if rng.random() < 0.5 else None
    accounts.transition_many(verb, sel, actor="bulk", reason="random", audit_rows=audit_rows)


def _move(rng, schools):
    accs = list(Account.objects.exclude(person_type="staff").exclude(state="deleted"))
    picked = rng.sample(accs, min(len(accs), rng.randint(1, 6)))
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS st_move")
        cur.execute(
            "CREATE TEMP TABLE st_move (account_id bigint, sekolah_id "
            + ("uuid" if connection.vendor == "postgresql" else "char(32)")
            + ", role text, npsn text, kode_wilayah text)"
        )
        for a in picked:
            to = rng.choice(schools)
            role = a.role if a.role == "peserta_didik" else rng.choice(
                ["pendidik", "tenaga_kependidikan"])  # fmt: skip
            sid = to.sekolah_id if connection.vendor == "postgresql" else to.sekolah_id.hex
            cur.execute(
                "INSERT INTO st_move VALUES (%s, %s, %s, %s, %s)",
                [a.pk, sid, role, to.npsn, to.kode_wilayah],
            )
    accounts.move_many("st_move", actor="t", reason="moved")


@pytest.mark.parametrize(
    "seed, inline_max",
    [(1, 2000), (2, 2000), (5, 0)],  # 0: every change by the big changes' path (st_ids)
)
def test_random_changes_on_every_path_keep_the_counts_exact(world, seed, inline_max, monkeypatch):
    from akun.statistik import counting

    monkeypatch.setattr(counting, "INLINE_MAX", inline_max)
    rng = random.Random(seed)
    assert_exact()
    verbs = list(accounts.TRANSITIONS)
    for step in range(40):
        what = rng.random()
        if what < 0.45:
            _single(rng, rng.choice(verbs))
        elif what < 0.7:
            _bulk(rng, rng.choice(["suspend", "unsuspend", "deactivate", "reactivate", "delete"]))
        elif what < 0.82:
            _move(rng, world)
        elif what < 0.9:  # new people in the roster, issued in bulk
            s = rng.choice(world)
            roster.peserta_didik(s, {"SD": 5, "SMP": 7, "SMA": 10}[s.bentuk_pendidikan])
            issue()
        elif what < 0.95:
            portal.do_create_admin(nama=f"Admin {step}", region="nasional", actor="t")
        else:
            statistics.fold()
        assert_exact()
    statistics.fold()
    assert CountDelta.objects.count() == 0
    assert_exact()
    # A counter that a fold brought to 0 is deleted by that fold (its key may never come back).
    for model in (SchoolCount, RegionCount, DailyCount):
        assert not model.objects.filter(n=0).exists(), model
    before = sorted(RegionCount.objects.values_list("kode", "jenjang", "role", "state", "n"))
    statistics.rebuild()
    after = sorted(RegionCount.objects.values_list("kode", "jenjang", "role", "state", "n"))
    assert [r for r in before if r[4]] == after
    assert_exact()


@pytest.mark.parametrize("seed", [3, 4])
def test_google_sync_states_are_counted_exactly(world, seed, google_standin, tmp_path):
    """The Google sync state is a counted key too: provisioning's writes (the feed, the
    engine's outcomes with faults at Google, a retry, a new target's fill) reach the counts
    in their own transaction, as the account changes do."""
    from akun.accounts.api import run_consumers
    from akun.provisioning import api as provisioning
    from akun.provisioning.engine import Engine
    from tests.provisioning_support import add_target

    rng = random.Random(seed)
    # One address already taken at Google by a user Akun does not manage: that account fails.
    taken = rng.choice(list(Account.objects.exclude(person_type="staff")))
    assert google_standin.seed([
        {"primaryEmail": taken.user_id, "name": {"givenName": "X", "familyName": "Y"},
         "orgUnitPath": "/Guru Lama", "password": "rahasia-sekolah"},
    ])["failed"] == []  # fmt: skip
    target = add_target(google_standin, tmp_path)  # the fill: every account pending
    assert_exact()
    assert (
        statistics.national().sync["pending"]
        == Account.objects.exclude(person_type="staff").exclude(state="deleted").count()
    )
    verbs = list(accounts.TRANSITIONS)
    seen = set()
    for _step in range(30):
        what = rng.random()
        if what < 0.25:
            _single(rng, rng.choice(verbs))
        elif what < 0.35:
            _bulk(rng, rng.choice(["suspend", "unsuspend", "deactivate", "reactivate"]))
        elif what < 0.45:
            _move(rng, world)
        elif what < 0.55:
            google_standin.set_faults(rng.choice(["backend=next:4", "quota=next:3", None]))
        elif what < 0.65:
            provisioning.do_retry_sync(actor="t")
        elif what < 0.7:
            statistics.fold()
        else:
            run_consumers()
            Engine(target).run(once=True)
        assert_exact()
        seen |= {k for k, n in statistics.national().sync.items() if n}
    assert {"pending", "synced", "failed", "suspended"} <= seen  # the paths were taken
    google_standin.set_faults(None)
    provisioning.do_retry_sync(actor="t")
    run_consumers()
    Engine(target).run(once=True)
    assert_exact()
    assert statistics.national().sync["synced"] > 0
    statistics.fold()
    statistics.rebuild()
    assert_exact()


def test_a_single_activation_writes_two_delta_rows_and_a_day(world):
    acc = Account.objects.filter(state="issued", role="peserta_didik").first()
    statistics.fold()
    accounts.do_activate_account(acc, raw_password="teh manis di sore hari", actor="t")
    rows = sorted(CountDelta.objects.values_list("state", "n"))
    assert rows == [("active", 1), ("issued", -1)]
    days = statistics.daily("activated")
    assert days == [(freeze_day(), 1)]
    assert statistics.fold() == 3
    assert sum(statistics.daily("issued")[0][1:]) == Account.objects.count()


def freeze_day():
    import datetime as dt

    return dt.date(2026, 7, 1)


def test_region_pages_read_the_counts_not_the_accounts(world, django_assert_max_num_queries):
    statistics.fold()
    with django_assert_max_num_queries(2):
        provinces = statistics.regions("")
    assert [p.kode for p in provinces] == ["32", "35"]
    assert provinces[0].nama == "Prov. Jawa Barat" and provinces[0].schools == 6
    assert provinces[0].total == live_total("32")
    regencies = statistics.regions("32")
    assert [(g.kode, g.nama) for g in regencies] == [("3204", "Kab. Bandung"),
                                                     ("3273", "Kota Bandung")]  # fmt: skip
    assert statistics.national().total == live_total("")


def live_total(prefix):
    rows = live().items()
    return sum(n for k, n in rows if k[0] and k[0].startswith(prefix) and k[3] != "deleted")


def test_a_school_that_changes_regency_takes_its_counts_along(world):
    s = world[0]
    n = Account.objects.filter(sekolah_id=s.sekolah_id).count()
    s.kode_wilayah = "350102"
    s.save()
    assert counting.rekey_moved_schools() == n
    statistics.fold()
    assert_exact()
    assert SchoolCount.objects.filter(sekolah_id=s.sekolah_id).exclude(kode="3501").count() == 0


def test_rebuild_repairs_a_change_made_behind_the_stream(world):
    Account.objects.filter(pk=Account.objects.first().pk).update(state="suspended")  # no event
    assert kept() != live()
    statistics.rebuild()
    assert_exact()


@pytest.mark.django_db(transaction=True)
def test_changes_fold_after_commit_and_the_commands(run_akun):
    freeze("2026-07-01")
    s = roster.sekolah("SD", kode_wilayah="320412")
    for j in range(3):
        roster.peserta_didik(s, 5, nama=f"Murid {j}")
    counting._last_fold[0] = 0.0
    issue()  # folded once committed
    assert not CountDelta.objects.exists()
    assert RegionCount.objects.get(role="peserta_didik").n == 3
    RegionCount.objects.all().delete()
    r = run_akun("statistics", "rebuild")
    assert r.returncode == 0 and "Rebuilt from 3 accounts" in r.stdout, r.stderr
    r = run_akun("statistics", "show")
    assert "32" in r.stdout and "PD           3" in r.stdout, r.stdout


@pytest.mark.django_db(transaction=True)
def test_bulk_folds_vacuum_the_counts_at_most_once_a_minute(world, monkeypatch):
    """A bulk run folds every second; the counts are vacuumed after a big fold, but not
    after every one of them (that cost more than the run's own writes at 30M)."""
    if connection.vendor != "postgresql":
        pytest.skip("VACUUM is PostgreSQL's")
    calls, real = [], counting.vacuum
    monkeypatch.setattr(counting, "vacuum", lambda: (calls.append(1), real()))
    deltas, real_deltas = [], counting.vacuum_deltas
    monkeypatch.setattr(counting, "vacuum_deltas", lambda: (deltas.append(1), real_deltas()))
    monkeypatch.setattr(counting, "VACUUM_AFTER", 1)
    monkeypatch.setattr(counting, "_last_vacuum", [-counting.VACUUM_EVERY])
    rng = random.Random(5)
    for _ in range(3):
        _bulk(rng, "suspend")
        _bulk(rng, "unsuspend")
        assert statistics.fold() > 0
    assert len(calls) == 1
    # The delta tables, which every fold reads whole, after each big fold.
    assert len(deltas) >= 3  # (a fold after a commit may add its own)
    counting._last_vacuum[0] -= counting.VACUUM_EVERY  # a minute later
    _bulk(rng, "suspend")
    assert statistics.fold() > 0 and len(calls) == 2
    assert_exact()
