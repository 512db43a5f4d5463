"""Keeping the counts: the change-stream subscriber (deltas), fold, rebuild.

Why an in-transaction subscriber (accounts.api.subscribe) and not a durable consumer: the
delta of a change is exact only if it is computed in the change's transaction, while the
account is locked -- its facts before and its row after. A consumer reads later, when the
account may have changed again and a move has lost its old school. The subscriber appends
delta rows (no counter row is locked by the change), and `fold` adds them to the counts
after the change has committed (transaction.on_commit, at most once a second per process,
skipped while another process folds: reads add the pending deltas, so nothing waits).
"""

import datetime as dt
import logging
import time

from django.db import connection, transaction
from django.utils import timezone

from akun.accounts import api as accounts_api
from akun.core import clock
from akun.provisioning import api as provisioning_api
from akun.roster.api import join_sekolah, roster_imported, sekolah_sql

log = logging.getLogger("akun.statistik")
FACT = "statistik_accountfact"
DELTA = "statistik_countdelta"
ACCOUNTS = accounts_api.accounts_sql("a")  # through accounts' api (issue 14)
SCHOOL = "statistik_schoolcount"
REGION = "statistik_regioncount"
DAILY_DELTA = "statistik_dailydelta"
DAILY = "statistik_dailycount"
KEY = "sekolah_id, kode, jenjang, role, state, sync"
SYNC_JOIN = provisioning_api.sync_state_join("a.id", "ps")  # the Google sync state
K = accounts_api.EventKind
# Every kind that can change an account's school, role or state (or create it).
COUNTED = (
    K.ISSUED,
    K.ACTIVATED,
    K.SUSPENDED,
    K.UNSUSPENDED,
    K.DEACTIVATED,
    K.REACTIVATED,
    K.DELETED,
    K.MOVED,
    K.PASSWORD_RESET,  # an operator's reissue: active -> issued
)
DAILY_KINDS = {str(K.ISSUED): "issued", str(K.ACTIVATED): "activated"}
VACUUM_AFTER = 5000  # delta rows folded
# At most one vacuum of the counts per process in this many seconds: a bulk run (national
# issuance) folds every second, and a VACUUM of the school counts after each fold took more
# of the issuing transaction's time than writing the accounts (sampled at 30M).
VACUUM_EVERY = 60.0
_last_vacuum = [-VACUUM_EVERY]
FOLD_LOCK = 0x57A7  # pg_advisory_xact_lock key: one fold (or rebuild) at a time
# Above this many accounts the change's ids go to a temp table (with statistics for the
# planner) instead of being read inline by each statement.
INLINE_MAX = 2000


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _distinct(a: str, b: str) -> str:
    return f"{a} IS DISTINCT FROM {b}" if _pg() else f"{a} IS NOT {b}"


def _new_rows(where: str) -> str:
    """The counted key of the accounts `where` names, as they are now."""
    return (
        f"SELECT a.id AS account_id, a.sekolah_id, COALESCE(substr(s.kode_wilayah, 1, 4), '') "
        f"AS kode, a.jenjang, a.role, a.state, COALESCE(ps.state, '') AS sync FROM {ACCOUNTS} "
        f"{join_sekolah('a.sekolah_id', 's')} {SYNC_JOIN} WHERE {where}"
    )


def _new_rows_by_id() -> str:
    """_new_rows for the ids of st_ids, one index probe per id. `OFFSET 0` keeps the planner
    from turning the probes into a hash join over a scan of every account (and every school):
    at 30k ids it prefers that while the table is small, and then pays a scan of the whole
    table per change, three times per batch of a national issuance."""
    return f"SELECT nw.* FROM st_ids i CROSS JOIN LATERAL ({_new_rows('a.id = i.id')} OFFSET 0) nw"


def _old_facts_by_id(lock: str) -> str:
    return (
        f"SELECT f.sekolah_id, f.kode, f.jenjang, f.role, f.state, f.sync FROM st_ids i "
        f"CROSS JOIN LATERAL (SELECT * FROM {FACT} f WHERE f.account_id = i.id OFFSET 0{lock}) f"
    )


def apply_change(cur, kind: str, ids_sql: str, params: dict, count: int) -> None:
    """The delta of one change set, in its transaction: facts before -> accounts now."""
    temp = count > INLINE_MAX
    pg = _pg()
    # FOR UPDATE: waits for a rebuild (which locks the table) to finish.
    lock = " FOR UPDATE" if pg else ""
    if temp:
        cur.execute("DROP TABLE IF EXISTS st_ids")
        cur.execute(
            "CREATE TEMP TABLE st_ids (id bigint PRIMARY KEY)" + (" ON COMMIT DROP" if pg else "")
        )
        cur.execute(f"INSERT INTO st_ids SELECT DISTINCT x.id FROM ({ids_sql}) x(id)"
                    if pg else f"INSERT OR IGNORE INTO st_ids {ids_sql}", params)  # fmt: skip
        ids, p = "SELECT id FROM st_ids", {}
    else:
        ids, p = ids_sql, params
    if temp and pg:
        # A big change: its accounts' rows read once, by id, into st_new; JIT compiling
        # these statements costs more than they run (the setting ends with the transaction).
        cur.execute("SET LOCAL jit = off")
        cur.execute("DROP TABLE IF EXISTS st_new")
        cur.execute(f"CREATE TEMP TABLE st_new ON COMMIT DROP AS {_new_rows_by_id()}")
        new_rows = "SELECT * FROM st_new"
        old_rows = _old_facts_by_id(lock)
    else:
        new_rows = _new_rows(f"a.id IN ({ids})")
        old_rows = (
            f"SELECT f.sekolah_id, f.kode, f.jenjang, f.role, f.state, f.sync FROM {FACT} f "
            f"WHERE f.account_id IN ({ids}){lock}"
        )
    # A new account has no facts.
    old = "" if kind == K.ISSUED else f"UNION ALL SELECT {KEY}, -1 FROM ({old_rows}) o "
    cur.execute(
        f"INSERT INTO {DELTA} ({KEY}, n) SELECT {KEY}, sum(n) FROM ("
        f"SELECT {KEY}, 1 AS n FROM ({new_rows}) nw {old}) d "
        f"GROUP BY {KEY} HAVING sum(n) <> 0",
        p,
    )
    changed = " OR ".join(
        [f"{FACT}.{c} <> excluded.{c}" for c in ("kode", "jenjang", "role", "state", "sync")]
        + [_distinct(f"{FACT}.sekolah_id", "excluded.sekolah_id")]
    )
    cur.execute(
        f"INSERT INTO {FACT} (account_id, {KEY}) SELECT account_id, {KEY} "
        f"FROM ({new_rows}) nw WHERE TRUE ON CONFLICT (account_id) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in KEY.split(", "))
        + f" WHERE {changed}",
        p,
    )
    daily = DAILY_KINDS.get(str(kind))
    if daily:
        cur.execute(
            f"INSERT INTO {DAILY_DELTA} (day, provinsi, kind, n) "
            "SELECT %(day)s, substr(kode, 1, 2), %(kind)s, count(*) "
            f"FROM ({new_rows}) nw GROUP BY 2",
            {**p, "day": timezone.localdate(clock.now()), "kind": daily},
        )
    if temp:
        cur.execute("DROP TABLE IF EXISTS st_ids")
        if pg:
            cur.execute("DROP TABLE IF EXISTS st_new")


FOLD_EVERY = 1.0  # seconds, per process
_last_fold = [0.0]


def on_change(change) -> None:
    with connection.cursor() as cur:
        apply_change(cur, change.kind, change.ids_sql, change.params, change.count)
    transaction.on_commit(_fold_soon)


def _fold_soon() -> None:
    now = time.monotonic()
    if now - _last_fold[0] < FOLD_EVERY:
        return
    _last_fold[0] = now
    try:
        fold(wait=False)
    except Exception:  # the change has committed; the next fold takes these deltas
        log.exception("statistics: fold after commit failed")


def on_sync_change(cur, ids_sql: str, params: dict, count: int) -> None:
    """akun.provisioning wrote these accounts' sync state (in its transaction)."""
    apply_change(cur, "sync", ids_sql, params, count)
    transaction.on_commit(_fold_soon)


def connect() -> None:
    accounts_api.subscribe(COUNTED, on_change)
    provisioning_api.subscribe_sync_state(on_sync_change)
    roster_imported.connect(on_roster_imported, dispatch_uid="akun_statistik_regions")


def _lock(cur, wait: bool = True) -> bool:
    if not _pg():
        return True
    if wait:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [FOLD_LOCK])
        return True
    cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [FOLD_LOCK])
    return bool(cur.fetchone()[0])


def _upsert(target: str, key: str, source: str, returning: str = "") -> str:
    """INSERT the sums of `source` by `key` into `target`, adding to existing counts; in
    key order, so that two writers lock counter rows in one order."""
    return (
        f"INSERT INTO {target} ({key}, n) SELECT {key}, sum(n) FROM {source} "
        f"GROUP BY {key} HAVING sum(n) <> 0 ORDER BY {key} "
        f"ON CONFLICT ({key}) DO UPDATE SET n = {target}.n + excluded.n{returning}"
    )


# The fold's counters that reached 0, by row address (PostgreSQL), to be deleted next:
# only those rows, not a scan of the whole table for zeros (the school counts are a million
# rows at national size, and a sweep folds every second).
_ZEROED = " RETURNING ctid, n"


def _zeroed(cte: str) -> str:
    return f"ARRAY(SELECT ctid::text FROM {cte} WHERE n = 0)"


REGION_KEY = "kode, jenjang, role, state, sync"
SCHOOL_ROWS = "(SELECT * FROM {src} WHERE sekolah_id IS NOT NULL) x"
DAILY_KEY = "day, provinsi, kind"


def fold(*, wait: bool = True) -> int:
    """Adds the committed deltas to the counts and deletes them; returns the delta rows
    folded. PostgreSQL: one statement, so it deletes exactly the rows it adds (a delta
    that commits meanwhile waits for the next fold). wait=False: 0 at once if another
    fold runs. After a big fold (a bulk change), outside a transaction, the tables are
    vacuumed (at most once in VACUUM_EVERY seconds): the reads scan them whole, dead rows
    included."""
    n = _fold(wait)
    if n >= VACUUM_AFTER and _pg() and not connection.in_atomic_block:
        vacuum_deltas()
    due = time.monotonic() - _last_vacuum[0] >= VACUUM_EVERY
    if n and due and _pg() and not connection.in_atomic_block:
        # Many small folds leave as many dead rows as one big one: the statistics of the
        # tables say (autovacuum's own turn can be far off on a busy machine).
        with connection.cursor() as cur:
            cur.execute(
                "SELECT COALESCE(max(n_dead_tup), 0) FROM pg_stat_user_tables "
                "WHERE relname IN (%s, %s)",
                [DELTA, REGION],
            )
            if n >= VACUUM_AFTER or cur.fetchone()[0] >= VACUUM_AFTER:
                vacuum()
    return n


def vacuum_deltas() -> None:
    """The delta tables after every big fold: each fold reads its table whole (`DELETE FROM`
    without a condition), dead rows included, and a minute of a national sweep's deltas left
    121 MB of dead rows for each fold to read, a third of the sweep's time. Cheap: only the
    rows of the last folds, and no index but the key."""
    with connection.cursor() as cur:
        cur.execute(f"VACUUM {DELTA}, {DAILY_DELTA}")


def vacuum() -> None:
    if not _pg() or connection.in_atomic_block:
        return
    _last_vacuum[0] = time.monotonic()
    with connection.cursor() as cur:
        cur.execute(f"VACUUM (ANALYZE) {DELTA}, {DAILY_DELTA}, {REGION}, {SCHOOL}, {DAILY}")


def _fold(wait: bool) -> int:
    with transaction.atomic(), connection.cursor() as cur:
        if not _lock(cur, wait):
            return 0
        if _pg():
            cur.execute(
                f"WITH d AS (DELETE FROM {DELTA} RETURNING {KEY}, n), "
                f"s AS ({_upsert(SCHOOL, KEY, SCHOOL_ROWS.format(src='d'), _ZEROED)}), "
                f"r AS ({_upsert(REGION, REGION_KEY, 'd', _ZEROED)}), "
                f"dd AS (DELETE FROM {DAILY_DELTA} RETURNING {DAILY_KEY}, n), "
                f"ds AS ({_upsert(DAILY, DAILY_KEY, 'dd', _ZEROED)}) "
                "SELECT (SELECT count(*) FROM d) + (SELECT count(*) FROM dd), "
                f"{_zeroed('s')}, {_zeroed('r')}, {_zeroed('ds')}"
            )  # fmt: skip
            n, *zeroed = cur.fetchone()
            for table, rows in zip((SCHOOL, REGION, DAILY), zeroed, strict=True):
                if rows:  # under the fold's lock: no one else writes the counts meanwhile
                    cur.execute(f"DELETE FROM {table} WHERE ctid = ANY(%s::tid[]) AND n = 0",
                                [rows])  # fmt: skip
            return int(n)
        # SQLite: the transaction holds the database's write lock.
        cur.execute(f"SELECT count(*) FROM {DELTA}")
        n = cur.fetchone()[0]
        cur.execute(f"SELECT count(*) FROM {DAILY_DELTA}")
        n += cur.fetchone()[0]
        cur.execute(_upsert(SCHOOL, KEY, SCHOOL_ROWS.format(src=DELTA)))
        cur.execute(_upsert(REGION, REGION_KEY, DELTA))
        cur.execute(_upsert(DAILY, DAILY_KEY, DAILY_DELTA))
        cur.execute(f"DELETE FROM {DELTA}")
        cur.execute(f"DELETE FROM {DAILY_DELTA}")
        _drop_zeros(cur)
        return int(n)


def _drop_zeros(cur) -> None:
    """Keys whose accounts have all gone elsewhere (a school's region, a moved role)."""
    for t in (SCHOOL, REGION, DAILY):
        cur.execute(f"DELETE FROM {t} WHERE n = 0")


def rebuild() -> dict:
    """Everything again from the accounts, set-based (first install, repair). Changes made
    meanwhile wait for it (the facts table is locked) and then count from its result."""
    with transaction.atomic(), connection.cursor() as cur:
        _lock(cur)
        if _pg():
            cur.execute(f"LOCK TABLE {FACT} IN EXCLUSIVE MODE")
        # The delta tables by DELETE: a change waiting for the facts may hold their
        # ROW EXCLUSIVE lock (TRUNCATE would deadlock with it); no one else writes the rest.
        for t in (DELTA, DAILY_DELTA):
            cur.execute(f"DELETE FROM {t}")
        for t in (SCHOOL, REGION, DAILY, FACT):
            cur.execute(f"TRUNCATE {t}" if _pg() else f"DELETE FROM {t}")
        cur.execute(
            f"INSERT INTO {FACT} (account_id, {KEY}) SELECT a.id, a.sekolah_id, "
            "COALESCE(substr(s.kode_wilayah, 1, 4), ''), a.jenjang, a.role, a.state, "
            f"COALESCE(ps.state, '') FROM {ACCOUNTS} {join_sekolah('a.sekolah_id', 's')} "
            f"{SYNC_JOIN}"
        )
        facts = cur.rowcount
        cur.execute(
            f"INSERT INTO {SCHOOL} ({KEY}, n) SELECT {KEY}, count(*) FROM {FACT} "
            f"WHERE sekolah_id IS NOT NULL GROUP BY {KEY}"
        )
        cur.execute(
            f"INSERT INTO {REGION} ({REGION_KEY}, n) SELECT {REGION_KEY}, sum(n) FROM "
            f"(SELECT {REGION_KEY}, count(*) AS n FROM {FACT} GROUP BY {REGION_KEY}) x "
            f"GROUP BY {REGION_KEY}"
        )
        # The trend from the accounts' own dates: issued_at, and activated_at of those
        # still activated (a reissued account has lost its activation date).
        for kind, column in (("issued", "issued_at"), ("activated", "activated_at")):
            _daily_from(cur, kind, column)
    refresh_regions()
    vacuum()
    return {"accounts": max(facts, 0)}


def _daily_from(cur, kind: str, column: str) -> None:
    """Per local day: PostgreSQL in SQL (the session's time zone is the platform's); SQLite
    stores UTC text, so the days are counted here (a demo's few rows)."""
    if _pg():
        cur.execute(
            f"INSERT INTO {DAILY} (day, provinsi, kind, n) SELECT CAST(a.{column} AS date), "
            f"COALESCE(substr(s.kode_wilayah, 1, 2), ''), %s, count(*) FROM {ACCOUNTS} "
            f"{join_sekolah('a.sekolah_id', 's')} "
            f"WHERE a.{column} IS NOT NULL GROUP BY 1, 2",
            [kind],
        )
        return
    from akun.accounts.api import Account

    counts: dict = {}
    rows = (
        Account.objects.exclude(**{f"{column}__isnull": True})
        .values_list(column, "sekolah__kode_wilayah")
        .iterator()
    )
    for at, kode in rows:
        key = (timezone.localdate(at), (kode or "")[:2])
        counts[key] = counts.get(key, 0) + 1
    for (day, prov), n in counts.items():
        cur.execute(
            f"INSERT INTO {DAILY} (day, provinsi, kind, n) VALUES (%s, %s, %s, %s)",
            [day, prov, kind, n],
        )


def refresh_regions() -> int:
    """Regency names and present schools (after every roster import); ~220k schools read
    once, grouped by regency."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM statistik_region")
        cur.execute(
            "INSERT INTO statistik_region (kode, nama, provinsi, schools) "
            "SELECT substr(kode_wilayah, 1, 4), max(kabupaten_kota), max(provinsi), "
            "sum(CASE WHEN departed_at IS NULL THEN 1 ELSE 0 END) "
            f"FROM {sekolah_sql('s')} GROUP BY 1"
        )
        return max(cur.rowcount, 0)


def rekey_moved_schools() -> int:
    """Schools whose regency changed in the roster: their accounts' counts move with them
    (the accounts are locked first, so no change of theirs runs between)."""
    fold()
    with transaction.atomic(), connection.cursor() as cur:
        moved = (
            f"SELECT sc.sekolah_id FROM {SCHOOL} sc JOIN {sekolah_sql('s')} "
            "ON s.sekolah_id = sc.sekolah_id WHERE sc.kode <> substr(s.kode_wilayah, 1, 4)"
        )
        lock = " FOR UPDATE OF a" if _pg() else ""
        cur.execute(
            f"SELECT count(*) FROM (SELECT a.id FROM {ACCOUNTS} "
            f"WHERE a.sekolah_id IN ({moved}){lock}) x"
        )
        n = int(cur.fetchone()[0])
        if n:
            apply_change(
                cur, K.MOVED, f"SELECT a.id FROM {ACCOUNTS} WHERE a.sekolah_id IN ({moved})",
                {}, n,
            )  # fmt: skip
    return n


def on_roster_imported(sender, run=None, **kwargs) -> None:
    rekey_moved_schools()
    refresh_regions()


def today() -> dt.date:
    return timezone.localdate(clock.now())
