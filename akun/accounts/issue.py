"""Bulk issuance: an account for every eligible person and jenjang that has none.

Set-based and resumable. The roster is cut into batches of about `batch_rows` roster rows:
students by school (lists of whole schools, so that a batch's accounts, and the statistics'
school counters they move, fall in a few hundred schools), PTK by key ranges of the person
(a PTK's accounts depend on all of the person's rows; boundaries read from the primary-key
order, so they fit any UUID distribution). Each batch is one transaction:

  1. take the issuance lock (PostgreSQL: pg_advisory_xact_lock; SQLite: the write lock that
     the IMMEDIATE transaction takes), so two runs never work on the same range at once;
  2. COPY (PostgreSQL) or executemany (SQLite) the range's prepared rows into a temp table;
  3. advance the per-base counters for the whole batch in one statement and INSERT ... SELECT
     the accounts: each row's number is its base's first number plus its rank - 1;
  4. commit, with the run's heartbeat and counts.

Preparing a range: select its eligible people who still have no account (eligibility.
students_sql / ptk_sql), then in Python, per row, the base local part (userid) and the
AES-GCM-encrypted initial password (crypto), and its rank among the batch's rows of the same
base (1, 2, ... in candidate order), as COPY text. On PostgreSQL (outside an outer
transaction) a worker thread with its own connection prepares range k+1 while the main
connection inserts range k under the lock, so the Python work and the candidate query run on
the second core. A row prepared outside the lock may have got an account meanwhile (another
run): the insert then fails on one_account_per_person_per_jenjang, and the batch rolls back to
before numbering, drops the staged rows that now have an account and numbers again, so
numbering stays gap-free. On SQLite the range is prepared under the lock.

A run killed half-way keeps every committed range; the next run's anti-join finds only what
is left. Duplicates are impossible whatever happens: the unique constraints on local_part,
user_id and (person_type, person_id, jenjang) are the guard. There is no ON CONFLICT: a
person conflict is handled as above, and any other conflict would be a bug, so the batch
fails loudly rather than skip people silently (ON CONFLICT also costs a third more per row).

Audit: one audit row per run, with the counts, not one per account. Thirty million rows of
"account issued" would say nothing the accounts themselves do not (each carries issue_run
and issued_at) and would double the cost of issuance; the run row says who, when and how
many.
"""

import contextlib
import fcntl
import json
import logging
import os
import queue
import random
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from akun.accounts import crypto, eligibility, stream, userid
from akun.accounts.models import Account, IssueRun
from akun.audit import api as audit
from akun.audit.api import Action
from akun.core import clock
from akun.roster import api as roster_api

log = logging.getLogger("akun.accounts.issue")

BATCH_ROWS = 50_000
# Where a run's liveness cannot be seen (an in-memory SQLite database), a run with no
# committed batch for this long is taken to be dead (killed, crashed).
STALE_AFTER = timedelta(minutes=30)
ISSUE_LOCK_KEY = 0x616B756E69737375  # "akunissu"
RUN_ALIVE_LOCK = 0x616B7572  # "akur": pg_advisory_lock(RUN_ALIVE_LOCK, run id), see run_alive

PERSON_CONSTRAINT = "one_account_per_person_per_jenjang"
_STAGE_COLUMNS = (
    "rank, person_type, person_id, jenjang, role, subdomain, sekolah_id, nama, base, pw"
)


class Part(NamedTuple):
    """One batch of the roster: a key range [lo, hi) of one kind, or a list of its ids (of
    its schools, with by_school)."""

    kind: str  # peserta_didik | ptk
    lo: object = None
    hi: object = None
    ids: tuple = ()
    by_school: bool = False


@dataclass
class IssueResult:
    run_id: int
    counts: Counter = field(default_factory=Counter)  # subdomain -> accounts issued
    batches: int = 0
    interrupted_runs: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _db_datetime(value):
    return connection.ops.adapt_datetimefield_value(value)


@contextlib.contextmanager
def run_alive(run_id: int):
    """Held by a run's process from before its row is visible to its end. The database server
    (PostgreSQL: a session advisory lock) or the kernel (SQLite: an flock on a file beside the
    database) lets it go when the process dies, so a later run that can take it knows the run
    is dead, at once, whatever its heartbeat says."""
    if _pg():
        key = [RUN_ALIVE_LOCK, run_id % (1 << 31)]
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s, %s)", key)
        try:
            yield
        finally:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s, %s)", key)
        return
    path = _alive_file(run_id)
    if path is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


def _alive_file(run_id: int) -> Path | None:
    """SQLite: the liveness file of a run, beside the database; None for a database in memory
    (no other process can see it)."""
    name = str(connection.settings_dict["NAME"])
    if not name or name == ":memory:" or "mode=memory" in name:
        return None
    return Path(f"{name}.issue-run-{run_id}.alive")


def _is_dead(run: IssueRun) -> bool:
    if _pg():
        key = [RUN_ALIVE_LOCK, run.pk % (1 << 31)]
        with connection.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
            if not cur.fetchone()[0]:
                return False
            cur.execute("SELECT pg_advisory_unlock(%s, %s)", key)
        return True
    path = _alive_file(run.pk)
    if path is None:
        return run.heartbeat_at < clock.now() - STALE_AFTER
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    with contextlib.suppress(OSError):
        path.unlink()
    return True


def _mark_dead_runs(actor: str) -> list[int]:
    """Runs left 'running' by a process that died (killed, crashed) are marked interrupted,
    as the roster import marks its dead runs failed; their committed batches stay."""
    dead = []
    for run in IssueRun.objects.filter(status=IssueRun.Status.RUNNING).order_by("pk"):
        if not _is_dead(run):
            continue
        run.status = IssueRun.Status.INTERRUPTED
        run.finished_at = clock.now()
        marked = IssueRun.objects.filter(pk=run.pk, status=IssueRun.Status.RUNNING).update(
            status=run.status, finished_at=run.finished_at
        )
        if not marked:  # it finished between the two looks
            continue
        audit.record(
            Action.ACCOUNTS_ISSUE,
            actor=run.actor,
            object_type="issue_run",
            object_id=run.pk,
            reason=f"interrupted; found by a later run started by {actor}",
            after={"run": run.pk, "status": run.status, "counts": run.counts},
        )
        dead.append(run.pk)
    return dead


# --- Secondary indexes during a big run (PostgreSQL) -----------------------------------
# A run that will add many accounts relative to the table (the first national issuance)
# drops Account's non-unique indexes (Meta.indexes: the school listing's) and builds them
# again at the end, in one sort, instead of updating them row by row. The unique
# constraints (local_part, one account per person per jenjang) stay: they are the guard.
# Every run first rebuilds a missing index, so a run killed with the index dropped heals
# on the next run.

# Bulk mode when the table holds fewer accounts than this share of the roster's rows, and
# the roster is big enough for the rebuild to pay (small rosters: not worth a DDL lock).
BULK_WHEN_ACCOUNTS_BELOW = 0.5
BULK_MIN_ROSTER_ROWS = 100_000


def _deferrable_indexes() -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of Account's non-unique indexes."""
    editor = connection.schema_editor()
    return [(idx.name, str(idx.create_sql(Account, editor))) for idx in Account._meta.indexes]


def _existing_indexes(cur, names: list[str]) -> set[str]:
    cur.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
        "WHERE c.relname = ANY(%s) AND i.indisvalid AND c.relnamespace = "
        "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())",
        [names],
    )
    return {r[0] for r in cur.fetchall()}


def ensure_indexes() -> list[str]:
    """Create any of Account's non-unique indexes that is missing; returns their names."""
    if not _pg():
        return []
    wanted = _deferrable_indexes()
    made = []
    with connection.cursor() as cur:
        present = _existing_indexes(cur, [name for name, _ in wanted])
        for name, create in wanted:
            if name in present:
                continue
            with transaction.atomic():
                cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
                cur.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")  # invalid
                cur.execute(create)
            made.append(name)
            log.info("issue: built index %s", name)
    return made


def _bulk_run() -> bool:
    """Will this run add many accounts relative to the table? (roster rows vs accounts)

    Never inside an outer transaction (the DROP INDEX would hold its exclusive lock on the
    accounts table until that transaction ends, and batches would not commit anyway)."""
    if connection.in_atomic_block:
        return False
    with connection.cursor() as cur:
        roster = roster_api.people_estimate(cur)
        limit = int(roster * BULK_WHEN_ACCOUNTS_BELOW)
        cur.execute(f"SELECT count(*) FROM (SELECT 1 FROM accounts_account LIMIT {limit + 1}) t")
        return roster >= BULK_MIN_ROSTER_ROWS and cur.fetchone()[0] <= limit


def _drop_indexes() -> list[str]:
    names = [name for name, _ in _deferrable_indexes()]
    with transaction.atomic(), connection.cursor() as cur:
        for name in names:
            cur.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")
    log.info("issue: bulk run, dropped %s until the end of the run", ", ".join(names))
    return names


class _TableStats:
    """ANALYZE the accounts table whenever a run has doubled it (PostgreSQL, own transactions).

    The first national run starts from an empty table: with the statistics of an empty
    table, the candidate query's anti-join and the counter upsert get plans that suit ten
    rows and not a million (a run measured 118 s of backend CPU in the candidate query
    alone, against ~20 s with fresh statistics). ANALYZE samples, so it costs ~0.1 s.
    """

    MIN_ROWS = 20_000

    def __init__(self):
        self.enabled = _pg() and not connection.in_atomic_block
        self.analysed_at = 0  # rows this run had added at the last ANALYZE
        self.base = 0
        if self.enabled:
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT greatest(reltuples, 0) FROM pg_class WHERE relname = 'accounts_account'"
                )
                row = cur.fetchone()
                self.base = int(row[0]) if row else 0

    def grew_to(self, added: int) -> None:
        """`added`: accounts this run has committed so far. Runs on the calling thread's
        connection (the preparing worker's, so that it costs the inserting one nothing)."""
        since = added - self.analysed_at
        if self.enabled and since >= max(self.base, self.MIN_ROWS):
            with connection.cursor() as cur:
                # Only the columns the candidate query's anti-join filters on (the table's
                # size is updated anyway): the text columns' statistics cost the most and
                # autovacuum keeps them.
                cur.execute(
                    "ANALYZE accounts_account (person_type, person_id, jenjang, state), "
                    "accounts_localpartcounter"
                )
            self.base += since
            self.analysed_at = added


def _batch_settings(cur) -> None:
    if _pg():
        # A shared 2-core machine gains nothing from parallel workers for 50k-row batches;
        # they only add CPU (measured as part of the backend's cost).
        cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        # The batch's hashes (and the sorts of the rare re-ranking) fit in memory instead of
        # spilling to disk at the default 4 MB.
        cur.execute("SET LOCAL work_mem = '256MB'")
        # A batch's statements run well under a second; compiling them costs more (the
        # candidates of 300 schools: 115 ms of JIT in a 370-ms query).
        cur.execute("SET LOCAL jit = off")


def _lock(cur) -> None:
    if _pg():
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [ISSUE_LOCK_KEY])
    # SQLite: the transaction is BEGIN IMMEDIATE (settings), which holds the write lock.
    _batch_settings(cur)


def _candidates(cur, part: Part) -> list[tuple]:
    """The part's eligible (person, jenjang) pairs without an account, only the columns
    that issuance needs: (person_id, sekolah_id, nama, role_rank or None, jenjang, level).
    On PostgreSQL the UUIDs come as text, ready for COPY (no uuid.UUID per value)."""
    ids = list(part.ids) if _pg() else json.dumps([uuid.UUID(i).hex for i in part.ids])
    params = {"lo": part.lo, "hi": part.hi, "ids": ids}
    bounds = {"lo": part.lo is not None, "hi": part.hi is not None, "ids": bool(part.ids)}
    if part.kind == "peserta_didik":
        sql = eligibility.students_sql(**bounds, by_school=part.by_school)
        cols = "peserta_didik_id{c}, sekolah_id{c}, nama, NULL, jenjang, level"
    else:
        sql = eligibility.ptk_sql(**bounds)
        cols = "ptk_id{c}, sekolah_id{c}, nama, top_rank, jenjang, level"
    cols = cols.format(c="::text" if _pg() else "")
    cur.execute(f"SELECT {cols} FROM ({sql}) c", params)
    return cur.fetchall()


def _copy_text(value: str) -> str:
    """A text value for COPY's text format."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")
_NULL = "\\N"


@dataclass
class _Prepared:
    """A range's rows for the staging table: the candidate query and Python's part done.

    Python also numbers the rows within the batch (rank: 1, 2, ... per base, in candidate
    order) and counts them per base (need) and per subdomain, so that the lock holder only
    adds each base's first number: no sort, window or aggregate on its side.
    """

    rows: int
    stage: list  # COPY text chunks (PostgreSQL) or row tuples (SQLite), in base order
    need: list[tuple[str, int]]  # (base, rows), in base order
    counts: Counter  # subdomain -> rows
    outside_lock: bool  # prepared by the worker: rows may have got an account since


def _stage_rows(kind: str, candidates: list[tuple], for_copy: bool):
    """(stage rows, need, counts) for the staging table, sorted by (base, rank).

    A stage row is a line of COPY text (PostgreSQL) or a tuple (SQLite) of: rank,
    person_type, person_id, jenjang, role, subdomain, sekolah_id, nama, base, encrypted
    password. Bases and the per-name text are memoised per batch (names repeat a lot);
    passwords are generated and encrypted for the whole batch at once.
    """
    subdomains = eligibility.SUBDOMAINS
    role_of = (
        {None: eligibility.PESERTA_DIDIK} if kind == "peserta_didik" else eligibility.RANK_ROLE
    )
    pws = crypto.encrypt_many(crypto.generate_initial_passwords(len(candidates)))
    base_of = userid.base_local_part
    # Per name: its base local part and its COPY text "<nama>\t<base>".
    named: dict[str, tuple[str, str]] = {}
    # Per (rank, level, jenjang): [role, subdomain, COPY text after person_id, rows].
    heads: dict[tuple, list] = {}
    rank_of: dict[str, int] = {}  # base -> rows so far (the row's rank within the batch)
    rows = []
    for i, (person_id, sekolah_id, nama, rank, jenjang, level) in enumerate(candidates):
        known = named.get(nama)
        if known is None:
            base = base_of(nama)
            text = _copy_text(nama) if _NEEDS_ESCAPE.search(nama) else nama
            known = named[nama] = (base, f"{text}\t{base}")
        base, tail = known
        head = heads.get((rank, level, jenjang))
        if head is None:
            role = role_of[rank]
            sub = subdomains[(role, level)]
            head = heads[(rank, level, jenjang)] = [role, sub, f"\t{jenjang}\t{role}\t{sub}\t", 0]
        role, sub, mid, _ = head
        head[3] += 1
        n = rank_of[base] = rank_of.get(base, 0) + 1
        if for_copy:
            row = (
                f"{n}\t{kind}\t{person_id}{mid}{sekolah_id or _NULL}\t{tail}\t\\\\x{pws[i].hex()}\n"
            )
        else:
            row = (n, kind, person_id, jenjang, role, sub, sekolah_id, nama, base, pws[i])
        rows.append((base, row))
    # Base order (a stable sort: ranks stay ascending), so that the counters and the
    # local_part index are written page by page: measured ~0.2 s less of the lock holder's
    # CPU per 30k-row batch than in candidate order, for ~0.03 s of sorting here.
    rows.sort(key=itemgetter(0))
    counts: Counter = Counter()
    for _, sub, _, n in heads.values():
        counts[sub] += n
    return [row for _, row in rows], sorted(rank_of.items()), counts


def _copy_chunks(lines: list[str], chunk_rows: int = 5_000) -> list[str]:
    return ["".join(lines[i : i + chunk_rows]) for i in range(0, len(lines), chunk_rows)]


def _create_stage(cur) -> None:
    if _pg():
        cur.execute(
            "CREATE TEMP TABLE issue_stage (rank integer, person_type text, person_id uuid, "
            "jenjang text, role text, subdomain text, sekolah_id uuid, nama text, base text, "
            "pw bytea) ON COMMIT DROP"
        )
        # No key: only hashed for one join.
        cur.execute("CREATE TEMP TABLE issue_alloc (base text, first_number bigint) ON COMMIT DROP")
    else:
        cur.execute("DROP TABLE IF EXISTS temp.issue_stage")
        cur.execute("DROP TABLE IF EXISTS temp.issue_alloc")
        cur.execute(
            "CREATE TEMP TABLE issue_stage (rank integer, person_type text, person_id text, "
            "jenjang text, role text, subdomain text, sekolah_id text, nama text, base text, "
            "pw blob)"
        )
        cur.execute("CREATE TEMP TABLE issue_alloc (base text PRIMARY KEY, first_number integer)")


def _prepare(part: Part, *, outside_lock: bool) -> _Prepared:
    with connection.cursor() as cur:
        candidates = _candidates(cur, part)
    stage, need, counts = _stage_rows(part.kind, candidates, for_copy=_pg())
    if _pg():
        stage = _copy_chunks(stage)
    return _Prepared(len(candidates), stage, need, counts, outside_lock)


def _fill_stage(cur, prepared: _Prepared) -> None:
    if _pg():
        with cur.cursor.copy(f"COPY issue_stage ({_STAGE_COLUMNS}) FROM STDIN") as copy:
            for chunk in prepared.stage:
                copy.write(chunk)
    else:
        cur.executemany(
            f"INSERT INTO issue_stage ({_STAGE_COLUMNS}) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            prepared.stage,
        )


def _drop_issued(cur) -> tuple[int, list[tuple[str, int]], Counter]:
    """Drop the staged rows whose person got an account for that jenjang since they were
    prepared (another run committed them) and rank the rest again, gap-free. Returns how
    many were dropped, the new need and counts (PostgreSQL)."""
    cur.execute(
        "DELETE FROM issue_stage s WHERE EXISTS (SELECT 1 FROM accounts_account a "
        "WHERE a.person_type = s.person_type AND a.person_id = s.person_id "
        "AND a.jenjang = s.jenjang AND a.person_id IS NOT NULL)"
    )
    dropped = cur.rowcount
    cur.execute(
        "UPDATE issue_stage s SET rank = r.rn FROM (SELECT ctid AS t, row_number() OVER "
        "(PARTITION BY base ORDER BY rank) AS rn FROM issue_stage) r WHERE s.ctid = r.t"
    )
    cur.execute("SELECT base, count(*) FROM issue_stage GROUP BY base ORDER BY base")
    need = cur.fetchall()
    cur.execute("SELECT subdomain, count(*) FROM issue_stage GROUP BY subdomain")
    return dropped, need, Counter(dict(cur.fetchall()))


def _allocate_numbers(cur, need: list[tuple[str, int]]) -> None:
    """Advance LocalPartCounter for the whole batch; issue_alloc gets each base's first number."""
    if _pg():
        # One atomic statement: the upsert locks each counter row it advances. `need` comes
        # in base order (B-tree order: local page writes).
        cur.execute(
            "WITH need AS (SELECT * FROM unnest(string_to_array(%s, ' '), "
            "string_to_array(%s, ' ')::bigint[]) AS t(base, n)), "
            "up AS (INSERT INTO accounts_localpartcounter AS c (base, next_number) "
            "SELECT base, n + 1 FROM need "
            "ON CONFLICT (base) DO UPDATE "
            "SET next_number = c.next_number + excluded.next_number - 1 "
            "RETURNING c.base, c.next_number) "
            "INSERT INTO issue_alloc (base, first_number) "
            "SELECT up.base, up.next_number - need.n FROM up JOIN need ON need.base = up.base",
            # Two strings, not two lists: psycopg adapts a list element by element.
            # Bases are letters only, so a space separates them.
            [" ".join(b for b, _ in need), " ".join(str(n) for _, n in need)],
        )
    else:
        # SQLite: the IMMEDIATE transaction is the only writer, so read-then-write is safe.
        cur.execute(
            "INSERT INTO issue_alloc (base, first_number) "
            "SELECT need.base, COALESCE(c.next_number, 1) FROM "
            "(SELECT base, count(*) AS n FROM issue_stage GROUP BY base) need "
            "LEFT JOIN accounts_localpartcounter c ON c.base = need.base"
        )
        cur.execute(
            "INSERT INTO accounts_localpartcounter (base, next_number) "
            "SELECT base, count(*) + 1 FROM issue_stage WHERE true GROUP BY base "
            "ON CONFLICT (base) DO UPDATE SET "
            "next_number = accounts_localpartcounter.next_number + excluded.next_number - 1"
        )


def _insert_accounts(cur, run_id: int, now, counts: Counter) -> Counter:
    params = {"domain": "." + settings.AKUN_DOMAIN, "now": _db_datetime(now), "run": run_id}
    # The local part is the base's first number plus the row's rank - 1. No ORDER BY: rows
    # come in staging order, base order. Every staged row is inserted (or the batch fails),
    # so the staged counts are the counts. Each account's `issued` event is written by the
    # same statement on PostgreSQL (RETURNING id feeds it), after it on SQLite.
    insert = (
        "INSERT INTO accounts_account (password, local_part, subdomain, user_id, person_type, "
        "person_id, jenjang, role, sekolah_id, nama, state, state_changed_at, issued_at, "
        "issue_run, initial_password_enc, terms_version, recovery_email, recovery_phone) "
        "SELECT '!', lp, subdomain, lp || '@' || subdomain || %(domain)s, person_type, "
        "person_id, jenjang, role, sekolah_id, nama, 'issued', %(now)s, %(now)s, %(run)s, pw, "
        "'', '', '' FROM ("
        "SELECT s.*, s.base || CAST(a.first_number - 1 + s.rank AS TEXT) AS lp "
        "FROM issue_stage s JOIN issue_alloc a ON a.base = s.base) x"
    )
    issued = stream.Kind.ISSUED
    if _pg():
        n = stream.emit_many(
            cur, issued, "SELECT id FROM ins", params, with_=f"ins AS ({insert} RETURNING id)"
        )
    else:
        cur.execute("SELECT COALESCE(max(id), 0) FROM accounts_account")
        params["before"] = cur.fetchone()[0]
        cur.execute(insert, params)
        n = stream.emit_many(
            cur, issued, "SELECT id FROM accounts_account WHERE id > %(before)s", params
        )
    if n != sum(counts.values()):
        raise RuntimeError(f"issued {n} accounts for {sum(counts.values())} rows")
    return counts


def _constraint_of(exc: IntegrityError) -> str | None:
    return getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)


def _number_and_insert(cur, run_id: int, now, prepared: _Prepared) -> Counter:
    if not prepared.outside_lock:  # selected under the lock: nobody issued these meanwhile
        _allocate_numbers(cur, prepared.need)
        return _insert_accounts(cur, run_id, now, prepared.counts)
    # Prepared outside the lock. Checking every staged row first would cost every batch
    # ~0.15 s of the lock holder's time (index probes for 30k rows) to catch what only a
    # second run at the same moment causes; the unique constraint catches it for free.
    # The savepoint undoes the counters' advance too, so numbers stay gap-free.
    try:
        with transaction.atomic():
            _allocate_numbers(cur, prepared.need)
            return _insert_accounts(cur, run_id, now, prepared.counts)
    except IntegrityError as exc:
        if _constraint_of(exc) != PERSON_CONSTRAINT:
            raise
    dropped, need, counts = _drop_issued(cur)
    log.info("issue: %s prepared rows got an account meanwhile (another run)", dropped)
    _allocate_numbers(cur, need)
    return _insert_accounts(cur, run_id, now, counts)


def _issue_range(
    run: IssueRun, part: Part, result: IssueResult, prepared: _Prepared | None = None
) -> int:
    with transaction.atomic(), connection.cursor() as cur:
        _lock(cur)
        if prepared is None:
            prepared = _prepare(part, outside_lock=False)
        if not prepared.rows:
            return 0
        _create_stage(cur)
        _fill_stage(cur, prepared)
        counts = _number_and_insert(cur, run.pk, clock.now(), prepared)
        # Dropped explicitly too: inside an outer transaction (tests) there is no commit here.
        cur.execute("DROP TABLE issue_stage")
        cur.execute("DROP TABLE issue_alloc")
        result.counts.update(counts)
        run.counts = dict(result.counts)
        run.heartbeat_at = clock.now()
        run.save(update_fields=["counts", "heartbeat_at"])
        return sum(counts.values())


class _Preparer:
    """Prepares the plan's ranges in order on a worker thread with its own database
    connection (PostgreSQL), ahead of the connection that inserts under the lock: the
    candidate query and the Python work of range k+1 run beside the insert of range k.

    At most two ranges wait (one queued, one being prepared), so memory stays bounded. The
    worker also runs the statistics upkeep (ANALYZE), off the lock holder's path.
    """

    def __init__(self, plan: list[Part], stats: _TableStats):
        self.plan = plan
        self.stats = stats
        self.added = 0  # accounts committed by this run so far (set by the main thread)
        self.queue: queue.Queue = queue.Queue(maxsize=1)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._work, name="issue-prepare", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        while self.thread.is_alive():  # unblock a worker waiting to hand over a range
            try:
                self.queue.get(timeout=0.1)
            except queue.Empty:
                pass
        self.thread.join()

    def __iter__(self):
        for _ in self.plan:
            item = self.queue.get()
            if isinstance(item, BaseException):
                raise item
            yield item

    def _put(self, item) -> None:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                pass

    def _work(self) -> None:
        try:
            for part in self.plan:
                if self.stop.is_set():
                    return
                self.stats.grew_to(self.added)
                with transaction.atomic(), connection.cursor() as cur:
                    _batch_settings(cur)
                    prepared = _prepare(part, outside_lock=True)
                self._put((part, prepared))
        except BaseException as exc:
            self._put(exc)
        finally:
            connection.close()  # this thread's own connection


def issue_accounts(
    *,
    actor: str,
    batch_rows: int = BATCH_ROWS,
    progress: Callable[[str, int, int, IssueResult], None] | None = None,
    people: dict[str, list[str]] | None = None,
    after_batch: Callable[[int], None] | None = None,
) -> IssueResult:
    """Issue what is missing: for the whole roster, or (`people`: {"peserta_didik": [ids],
    "ptk": [ids]}, UUIDs as text) only for those people, e.g. the ones a roster pass saw
    change. The eligibility rules and the anti-join are the same either way.
    `after_batch(commits)` runs after each batch with the number of batches that committed
    accounts so far (tests kill the process there)."""
    alive = contextlib.ExitStack()
    try:
        with transaction.atomic():
            interrupted = _mark_dead_runs(actor)
            now = clock.now()
            run = IssueRun.objects.create(started_at=now, heartbeat_at=now, actor=actor)
            alive.enter_context(run_alive(run.pk))  # before the row is seen, till the end
    except BaseException:
        alive.close()
        raise
    with alive:
        return _issue_in_run(run, actor, batch_rows, progress, people, interrupted, after_batch)


def _issue_in_run(
    run, actor, batch_rows, progress, people, interrupted, after_batch=None
) -> IssueResult:
    result = IssueResult(run_id=run.pk, interrupted_runs=interrupted)
    if _pg():
        if people is None and _bulk_run():
            _drop_indexes()
        else:
            ensure_indexes()
    try:
        _run_batches(run, result, _plan(run, batch_rows, people), progress, after_batch)
    except BaseException:
        try:
            ensure_indexes()  # else the next run does it
        except Exception:
            log.exception("issue: could not rebuild indexes after a failed run")
        raise
    ensure_indexes()
    with transaction.atomic():
        run.status = IssueRun.Status.FINISHED
        run.finished_at = run.heartbeat_at = clock.now()
        run.counts = dict(result.counts)
        run.save()
        audit.record(
            Action.ACCOUNTS_ISSUE,
            actor=actor,
            object_type="issue_run",
            object_id=run.pk,
            after={
                "run": run.pk,
                "status": run.status,
                "counts": run.counts,
                "total": result.total,
            },
        )
    log.info("issue run %s: %s accounts", run.pk, result.total)
    return result


def _plan(run: IssueRun, batch_rows: int, people: dict[str, list[str]] | None) -> list[Part]:
    if people is not None:
        return [
            Part(kind, ids=tuple(ids[i : i + batch_rows]))
            for kind in ("peserta_didik", "ptk")
            for ids in [sorted(set(people.get(kind, ())))]
            for i in range(0, len(ids), batch_rows)
        ]
    # Students are cut by school, so that a batch's accounts fall in a few hundred schools
    # and the statistics' school counters it moves are a few hundred, not one per account
    # (ranges of random person ids spread every batch over the whole country). A PTK's
    # accounts depend on all the rows of the person (one per school), so PTK go by person.
    with connection.cursor() as cur:
        plan = [
            Part("peserta_didik", ids=schools, by_school=True)
            for schools in roster_api.school_batches(cur, "peserta_didik", batch_rows)
        ] + [Part("ptk", lo, hi) for lo, hi in roster_api.person_key_ranges(cur, "ptk", batch_rows)]
    # Each run walks the ranges in its own order, so that two runs at once split the work
    # instead of the second trailing the first through ranges it has just finished.
    random.Random(run.pk).shuffle(plan)
    return plan


def _run_batches(
    run: IssueRun, result: IssueResult, plan: list[Part], progress, after_batch=None
) -> None:
    stats = _TableStats()
    if _pg() and not connection.in_atomic_block:
        # Not inside an outer transaction: the worker's connection would not see its rows.
        with _Preparer(plan, stats) as preparer:

            def committed(total: int) -> None:
                preparer.added = total  # the worker runs the ANALYZE when due

            _insert_batches(run, result, preparer, len(plan), committed, progress, after_batch)
    else:
        batches = ((item, None) for item in plan)  # prepared under the lock
        _insert_batches(run, result, batches, len(plan), stats.grew_to, progress, after_batch)


def _insert_batches(run, result, batches, n, committed, progress, after_batch=None) -> None:
    commits = 0
    for i, (part, prepared) in enumerate(batches, start=1):
        if prepared is not None and not prepared.rows:
            added = 0  # nothing to issue in this range: no need for the lock
        else:
            added = _issue_range(run, part, result, prepared)
        commits += bool(added)
        committed(result.total)
        result.batches += 1
        if progress:
            progress(part.kind, i, n, result)
        if after_batch:
            after_batch(commits)


def allocate_local_part(base: str) -> str:
    """One local part outside bulk issuance (e.g. a staff account); same counters."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO accounts_localpartcounter (base, next_number) VALUES (%s, 2) "
            "ON CONFLICT (base) DO UPDATE SET "
            "next_number = accounts_localpartcounter.next_number + 1 RETURNING next_number",
            [base],
        )
        (next_number,) = cur.fetchone()
    return userid.local_part(base, next_number - 1)


__all__ = ["Account", "IssueResult", "allocate_local_part", "issue_accounts"]
