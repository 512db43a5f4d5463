"""The change stream of accounts: events, in-transaction subscribers, durable consumers.

Every change that a downstream system cares about writes one AccountEvent in the transaction
of the change, on the single path (actions._change and the identity actions) and the bulk
path (bulk.transition_many, issuance) alike: a single change's row names its account, a bulk
statement's row lists its accounts (comma-separated ids); readers get one Event per account.
Two ways to listen, both through accounts.api:

- `subscribe(kinds, handler)`: called inside the transaction of the change, once per change
  *set*: one account, or the thousands of a bulk run, as a `Change` whose account ids are a
  SQL subquery (set-based handlers) or a list (`change.account_ids()`). A failing handler
  rolls the change back.
- `register_consumer(name, kinds, handler)`: a durable consumer with its own cursor
  (EventConsumer), run by `akun worker` and `akun events run`: at-least-once (a batch is
  acknowledged in the transaction that ran the handler, so handlers must be idempotent),
  retried with exponential backoff on failure, the error kept for `akun events status`.

Order and the late-commit trap (PostgreSQL): ids come from a sequence when the row is
written, but become visible when the transaction commits, so a reader that kept `id > last`
would skip an event whose transaction took its id early and committed late. Each event
stores its transaction's id (pg_current_xact_id()); a reader takes only events whose xid is
below the *horizon* (see _HORIZON_SQL): the lowest transaction id that may still write an
event. Every transaction below it has ended, so nothing can appear behind the cursor
(xid, id). SQLite serialises writers: id order is commit order, and xid is 0.
"""

import dataclasses
import datetime as dt
import json
import logging
import traceback
from collections.abc import Callable, Iterable
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from akun.accounts.models import AccountEvent, EventConsumer
from akun.core import clock

log = logging.getLogger("akun.accounts.stream")

Kind = AccountEvent.Kind
EVENT = "accounts_accountevent"


def _aware(value):
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _pg() -> bool:
    return connection.vendor == "postgresql"


def xid_sql() -> str:
    """SQL for the writing transaction's id (a bigint)."""
    return "pg_current_xact_id()::text::bigint" if _pg() else "0"


# --- in-transaction subscribers ----------------------------------------------------------


@dataclasses.dataclass
class Change:
    """One change set: `kind` happened to the accounts that `ids_sql` selects (one column,
    the account ids; with `params`), in the current transaction."""

    kind: str
    ids_sql: str
    params: dict
    count: int
    actor: str = ""
    reason: str = ""

    def account_ids(self) -> list[int]:
        with connection.cursor() as cur:
            cur.execute(self.ids_sql, self.params)
            return [r[0] for r in cur.fetchall()]


_subscribers: list[tuple[frozenset[str], Callable[[Change], None]]] = []


def subscribe(kinds: Iterable[str], handler: Callable[[Change], None]) -> Callable:
    """handler(change) runs in the transaction of every change of one of `kinds`. Register
    once, at app start-up (AppConfig.ready); returns a function that unsubscribes."""
    entry = (frozenset(str(k) for k in kinds), handler)
    _subscribers.append(entry)
    return lambda: _subscribers.remove(entry) if entry in _subscribers else None


def subscribed(kind: str) -> bool:
    return any(kind in kinds for kinds, _ in _subscribers)


def notify(change: Change) -> None:
    for kinds, handler in list(_subscribers):
        if change.kind in kinds:
            handler(change)


# --- writing events -----------------------------------------------------------------------


def emit(kind: str, account_id: int, *, data: dict | None = None, actor="", reason="") -> None:
    """One event for one account, in the caller's transaction, and its subscribers."""
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {EVENT} (xid, kind, account_id, count, at, data) "
            f"VALUES ({xid_sql()}, %s, %s, 1, %s, %s)",
            [
                str(kind),
                int(account_id),
                connection.ops.adapt_datetimefield_value(clock.now()),
                None if data is None else json.dumps(data),
            ],
        )
    if subscribed(kind):
        notify(Change(str(kind), "SELECT %(id)s", {"id": int(account_id)}, 1, actor, reason))


def ids_of_event_sql() -> str:
    """SQL selecting the account ids of event %(event)s (a bulk change's list)."""
    if _pg():
        return (
            "SELECT CAST(unnest(string_to_array(account_ids, ',')) AS bigint) "
            f"FROM {EVENT} WHERE id = %(event)s"
        )
    return (  # a comma-separated list of numbers in brackets is a JSON array
        f"SELECT CAST(j.value AS integer) FROM {EVENT} e, "
        "json_each('[' || e.account_ids || ']') j WHERE e.id = %(event)s"
    )


def change_of_event(kind, event_id: int, count: int, actor="", reason="") -> Change:
    return Change(str(kind), ids_of_event_sql(), {"event": event_id}, count, actor, reason)


def ids_list_sql(column: str) -> str:
    """An aggregate: the values of `column`, comma-separated (AccountEvent.account_ids)."""
    if _pg():
        return f"string_agg(CAST({column} AS text), ',')"
    return f"group_concat({column}, ',')"


def emit_many(
    cur, kind, source_sql: str, params: dict, *, with_: str = "", actor="", reason=""
) -> int:
    """One event for the accounts of `source_sql` (a SELECT of account ids; none: no
    event), set-based; subscribers get the set. `with_` (PostgreSQL): data-modifying CTEs
    that source_sql reads, e.g. `ins AS (INSERT INTO accounts_account ... RETURNING id)`.
    Returns the number of accounts."""
    at = connection.ops.adapt_datetimefield_value(clock.now())
    p = {**params, "ev_kind": str(kind), "ev_at": at}
    if with_ and not _pg():
        raise ValueError("with_ is for PostgreSQL")
    ctes = (with_ + ", " if with_ else "") + f"x(id) AS ({source_sql})"
    cur.execute(
        f"WITH {ctes} INSERT INTO {EVENT} (xid, kind, account_ids, count, at) "
        f"SELECT {xid_sql()}, %(ev_kind)s, ids, n, %(ev_at)s FROM ("
        f"SELECT {ids_list_sql('x.id')} AS ids, count(*) AS n FROM x) agg "
        "WHERE n > 0 RETURNING id, count",
        p,
    )
    row = cur.fetchone()
    if row is None:
        return 0
    event_id, n = row
    if subscribed(kind):
        notify(change_of_event(kind, event_id, n, actor, reason))
    return n


# --- reading: the horizon -----------------------------------------------------------------

# The lowest transaction id that may still write an event (PostgreSQL), computed by one
# statement; the events are then read by the next statement, with a newer snapshot (READ
# COMMITTED), so a transaction that ends between the two is seen whole by the read. Counted:
# - every client backend of this database that pg_stat_activity shows holding an xid (read
#   fresh: pg_stat_clear_snapshot), the reader's own transaction aside;
# - every in-progress xid of the statement's snapshot that pg_stat_activity does not show as
#   another database's or a non-client backend's (autovacuum's ANALYZE takes xids; a
#   prepared transaction is not shown at all and so counts);
# - as the upper bound, the reader's own xid + 1 if it has one (its own events are visible
#   to it and acknowledged in its transaction), else the snapshot's xmax. Any xid assigned
#   after the statement is higher than both.
# Other databases' transactions are left out: a cluster shared by several databases (tests,
# staging) would otherwise hold every reader back.
_HORIZON_SQL = """
WITH snap AS (SELECT pg_current_snapshot() AS s),
base AS (SELECT (pg_snapshot_xmax(s)::text::bigint / 4294967296) * 4294967296 AS epoch,
                pg_snapshot_xmax(s)::text::bigint AS xmax FROM snap),
busy AS (
  SELECT x::text::bigint AS x FROM snap, pg_snapshot_xip(snap.s) AS x
  WHERE NOT EXISTS (
    SELECT 1 FROM pg_stat_activity sa
    WHERE sa.backend_xid IS NOT NULL
      AND sa.backend_xid::text::bigint = mod(x::text::bigint, 4294967296)
      AND (sa.datname <> current_database() OR sa.backend_type <> 'client backend'))
  UNION ALL
  SELECT CASE WHEN base.epoch + sa.backend_xid::text::bigint > base.xmax + 2147483648
              THEN base.epoch + sa.backend_xid::text::bigint - 4294967296
              ELSE base.epoch + sa.backend_xid::text::bigint END
  FROM pg_stat_activity sa, base
  WHERE sa.backend_xid IS NOT NULL AND sa.datname = current_database()
    AND sa.backend_type = 'client backend' AND sa.pid <> pg_backend_pid())
SELECT LEAST((SELECT min(x) FROM busy),
             COALESCE(pg_current_xact_id_if_assigned()::text::bigint + 1,
                      (SELECT xmax FROM base)))
"""


def horizon(cur) -> int:
    """Events with a lower xid are final: every transaction that wrote one has ended, and
    the next statement (READ COMMITTED) sees them all."""
    if not _pg():
        return 1 << 62  # every event has xid 0 and is committed once visible
    cur.execute("SELECT current_setting('transaction_isolation'), pg_stat_clear_snapshot()")
    if cur.fetchone()[0] != "read committed":
        raise RuntimeError("the change stream is read at READ COMMITTED (a fresh snapshot)")
    cur.execute(_HORIZON_SQL)
    return int(cur.fetchone()[0])


class Event(NamedTuple):
    id: int
    xid: int
    kind: str
    account_id: int
    at: dt.datetime
    data: dict | None


def read(cur, after: tuple[int, int], limit: int, upto: int | None = None) -> list[Event]:
    """The next events after the cursor `after` (xid, id), in order, below the horizon, one
    per account: rows until they hold `limit` accounts (at least one row, whole rows)."""
    upto = horizon(cur) if upto is None else upto
    # PostgreSQL: the time as epoch seconds; psycopg's timestamptz loader costs ten times
    # the rest of the row.
    at = "extract(epoch from at)::float8" if _pg() else "at"
    # Whole rows while the accounts before them number fewer than `limit`: a bulk row's
    # array is read (detoasted) only for the rows returned.
    cur.execute(
        "SELECT id, xid, kind, account_id, account_ids, at_, data FROM ("
        f"SELECT id, xid, kind, account_id, account_ids, count, {at} AS at_, data, "
        "sum(count) OVER (ORDER BY xid, id) AS upto "
        f"FROM {EVENT} WHERE (xid, id) > (%(x)s, %(i)s) AND xid < %(h)s "
        f"ORDER BY xid, id LIMIT {int(limit)}) t "
        "WHERE upto - count < %(limit)s ORDER BY xid, id",
        {"x": after[0], "i": after[1], "h": upto, "limit": int(limit)},
    )
    out: list[Event] = []
    for id_, xid, kind, account_id, account_ids, when, data in cur.fetchall():
        if isinstance(when, str):  # SQLite
            when = _aware(parse_datetime(when))
        elif isinstance(when, dt.datetime):  # SQLite, parsed by the driver
            when = _aware(when)
        else:
            when = dt.datetime.fromtimestamp(when, dt.UTC)
        if isinstance(data, str):
            data = json.loads(data)
        if account_id is not None:
            out.append(Event(id_, xid, kind, account_id, when, data))
            continue
        ids = map(int, account_ids.split(",")) if account_ids else ()
        out.extend(Event(id_, xid, kind, a, when, data) for a in ids)
    return out


# --- durable consumers --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Consumer:
    name: str
    kinds: frozenset[str]
    handler: Callable[[list[Event]], None]
    batch: int = 1000


_consumers: dict[str, Consumer] = {}

BACKOFF_FIRST = dt.timedelta(seconds=5)
BACKOFF_MAX = dt.timedelta(hours=1)


def register_consumer(
    name: str, kinds: Iterable[str], handler: Callable[[list[Event]], None], *, batch=1000
) -> Consumer:
    """handler(events) gets the events of `kinds` in order, in batches, in a transaction
    that also moves the consumer's cursor: at-least-once, so it must be idempotent."""
    c = Consumer(name, frozenset(str(k) for k in kinds), handler, batch)
    _consumers[name] = c
    return c


def unregister_consumer(name: str) -> None:
    _consumers.pop(name, None)


def consumers() -> dict[str, Consumer]:
    return dict(_consumers)


def backoff(failures: int) -> dt.timedelta:
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, failures - 1))


@dataclasses.dataclass
class ConsumerRun:
    name: str
    handled: int = 0
    batches: int = 0
    failed: bool = False
    waiting: bool = False  # in backoff


def run_consumer(name: str, *, max_batches: int | None = None) -> ConsumerRun:
    """Reads and acknowledges batches until the consumer has caught up with the horizon,
    or fails (then it waits its backoff; the error is kept)."""
    consumer = _consumers[name]
    run = ConsumerRun(name)
    EventConsumer.objects.get_or_create(name=name)
    while max_batches is None or run.batches < max_batches:
        with transaction.atomic():
            # The row lock: one runner per consumer at a time.
            state = EventConsumer.objects.select_for_update().get(name=name)
            now = clock.now()
            if state.retry_at is not None and state.retry_at > now:
                run.waiting = True
                return run
            with connection.cursor() as cur:
                if _pg():
                    # An acknowledgement lost in a crash only means the batch comes again
                    # (at-least-once), as do the handler's writes of the same transaction.
                    cur.execute("SET LOCAL synchronous_commit = off")
                events = read(cur, (state.cursor_xid, state.cursor_id), consumer.batch)
            if not events:
                return run
            mine = [e for e in events if e.kind in consumer.kinds]
            try:
                with transaction.atomic():  # a savepoint: the handler's writes go on failure
                    if mine:
                        consumer.handler(mine)
            except Exception as exc:
                state.failures += 1
                state.retry_at = now + backoff(state.failures)
                state.last_error = "".join(traceback.format_exception(exc))[-4000:]
                state.last_error_at = now
                state.last_error_event = mine[0].id if mine else None
                state.save()
                log.warning("event consumer %s failed (%s in a row): %s", name,
                            state.failures, exc)  # fmt: skip
                run.failed = True
                return run
            last = events[-1]
            state.cursor_xid, state.cursor_id = last.xid, last.id
            state.handled += len(mine)
            state.acked_at = now
            state.failures, state.retry_at = 0, None
            state.save()
        run.handled += len(mine)
        run.batches += 1
    return run


def run_consumers() -> list[ConsumerRun]:
    return [run_consumer(name) for name in sorted(_consumers)]


def status() -> list[dict]:
    """Per registered consumer (and any cursor row left by an unregistered one): cursor,
    lag (account events not yet acknowledged, and the time of the oldest), failures, last
    error."""
    rows = {c.name: c for c in EventConsumer.objects.all()}
    out = []
    with connection.cursor() as cur:
        for name in sorted(set(_consumers) | set(rows)):
            c = rows.get(name) or EventConsumer(name=name)
            cur.execute(
                f"SELECT COALESCE(sum(count), 0), min(at) FROM {EVENT} "
                "WHERE (xid, id) > (%(x)s, %(i)s)",
                {"x": c.cursor_xid, "i": c.cursor_id},
            )
            lag, oldest = cur.fetchone()
            if isinstance(oldest, str):
                oldest = _aware(parse_datetime(oldest))
            out.append(
                {
                    "name": name,
                    "registered": name in _consumers,
                    "cursor": (c.cursor_xid, c.cursor_id),
                    "lag": int(lag),
                    "oldest_waiting": oldest,
                    "handled": c.handled,
                    "acked_at": c.acked_at,
                    "failures": c.failures,
                    "retry_at": c.retry_at,
                    "last_error": c.last_error,
                    "last_error_at": c.last_error_at,
                    "last_error_event": c.last_error_event,
                }
            )
    return out


# --- pruning ------------------------------------------------------------------------------


def retention() -> dt.timedelta:
    """AKUN_EVENTS_RETENTION_DAYS (akun/settings.py)."""
    return dt.timedelta(days=float(settings.AKUN_EVENTS_RETENTION_DAYS))


def prune(*, chunk: int = 50_000) -> int:
    """Deletes the events that every registered consumer has passed and that are older
    than the retention period (kept a while for a new consumer or a replay). Events a
    consumer has not handled are never pruned: a stuck consumer shows in `status`.
    Returns the number of account events (a bulk row holds many)."""
    cutoff = connection.ops.adapt_datetimefield_value(clock.now() - retention())
    cursors = list(
        EventConsumer.objects.filter(name__in=list(_consumers)).values_list(
            "cursor_xid", "cursor_id"
        )
    )
    if len(cursors) < len(_consumers):
        return 0  # a consumer has not started yet: it reads from the beginning
    where = "at < %(cutoff)s"
    params: dict = {"cutoff": cutoff}
    if cursors:
        x, i = min(cursors)
        where += " AND (xid, id) <= (%(x)s, %(i)s)"
        params.update(x=x, i=i)
    total = 0
    while True:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                f"DELETE FROM {EVENT} WHERE id IN (SELECT id FROM {EVENT} WHERE {where} "
                f"ORDER BY id LIMIT {int(chunk)}) RETURNING count",
                params,
            )
            counts = [r[0] for r in cur.fetchall()]
        total += sum(counts)
        if len(counts) < chunk:
            return total
