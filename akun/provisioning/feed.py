"""From the change stream to work: the durable consumer `provisioning` turns account events
into Provisioned rows, set-based (one INSERT ... SELECT ... ON CONFLICT per target and
priority, however many accounts a bulk event lists). A row only says "make the target match
the account as Akun has it now": the engine reads the account's state when it sends, so an
event handled twice, or late, or two events for one account, still end in the right place."""

from django.db import connection, transaction

from akun.accounts.api import EventKind, accounts_sql, register_consumer
from akun.core import clock
from akun.provisioning import syncstate
from akun.provisioning.models import Provisioned, Target

CONSUMER = "provisioning"
P = Provisioned.Priority

PRIORITY = {
    # A person waits for these: first out.
    EventKind.ACTIVATED: P.URGENT,
    EventKind.PASSWORD_CHANGED: P.URGENT,
    EventKind.PASSWORD_RESET: P.URGENT,
    EventKind.SUSPENDED: P.URGENT,
    EventKind.UNSUSPENDED: P.URGENT,
    EventKind.DEACTIVATED: P.URGENT,
    EventKind.REACTIVATED: P.URGENT,
    EventKind.DELETED: P.URGENT,
    # School, class, role or level moved; name or contact changed.
    EventKind.MOVED: P.CHANGE,
    EventKind.PROFILE_CHANGED: P.CHANGE,
    # The bulk fill: issuance lists thousands of accounts per event.
    EventKind.ISSUED: P.FILL,
}

TABLE = Provisioned._meta.db_table


def _least(a: str, b: str) -> str:
    return f"LEAST({a}, {b})" if connection.vendor == "postgresql" else f"MIN({a}, {b})"


def mark_pending(cur, target: str, source_sql: str, params: dict, priority: int, *,
                 insert: bool = True) -> int:  # fmt: skip
    """Rows of `source_sql` (a SELECT of account ids named `id`) become pending at
    `priority` (a row already waiting keeps the more urgent of the two). insert=False: only
    rows that exist (a deletion of an account never sent is nothing to do)."""
    p = {**params, "t": target, "prio": int(priority),
         "now": connection.ops.adapt_datetimefield_value(clock.now())}  # fmt: skip
    keep = _least(f"{TABLE}.priority", "excluded.priority")
    set_ = (
        "state = 'pending', reason = 'queued', detail = '', attempts = 0, not_before = NULL, "
        f"priority = CASE WHEN {TABLE}.state IN ('pending', 'failed') THEN {keep} "
        "ELSE excluded.priority END, changed_at = excluded.changed_at, "
        f"version = {TABLE}.version + 1"
    )
    if not insert:
        cur.execute(
            f"UPDATE {TABLE} SET "
            + set_.replace("excluded.priority", "%(prio)s").replace(
                "excluded.changed_at", "%(now)s"
            )
            + f" WHERE target_id = %(t)s AND account_id IN (SELECT id FROM ({source_sql}) x)",
            p,
        )
        n = max(cur.rowcount, 0)
        syncstate.changed(cur, f"SELECT x.id FROM ({source_sql}) x", p, n)
        return n
    cur.execute(
        f"INSERT INTO {TABLE} (target_id, account_id, remote_id, remote_state, state, "
        "priority, reason, detail, attempts, not_before, changed_at, version) "
        f"SELECT %(t)s, x.id, '', '', 'pending', %(prio)s, 'queued', '', 0, NULL, %(now)s, 0 "
        f"FROM ({source_sql}) x WHERE true "
        f"ON CONFLICT (target_id, account_id) DO UPDATE SET {set_}",
        p,
    )
    n = max(cur.rowcount, 0)
    syncstate.changed(cur, f"SELECT x.id FROM ({source_sql}) x", p, n)
    return n


def handle(events) -> None:
    """The consumer: events (one per account) -> pending rows at every enabled target."""
    targets = list(Target.objects.filter(enabled=True).values_list("name", flat=True))
    if not targets:
        return
    by_priority: dict[int, set[int]] = {}
    deleted: set[int] = set()
    for e in events:
        prio = PRIORITY.get(e.kind)
        if prio is None:
            continue
        if e.kind == EventKind.DELETED:
            deleted.add(e.account_id)
        else:
            by_priority.setdefault(int(prio), set()).add(e.account_id)
    with transaction.atomic(), connection.cursor() as cur:
        from akun.provisioning.tasks import wake

        wake()  # `akun worker` sends (a task queued once the rows are committed)
        for target in targets:
            for prio in sorted(by_priority, reverse=True):
                sql, ids = syncstate.ids_source(by_priority[prio])
                mark_pending(cur, target, sql, {"ids": ids}, prio)
            if deleted:
                sql, ids = syncstate.ids_source(deleted)
                mark_pending(cur, target, sql, {"ids": ids}, P.URGENT, insert=False)


def fill(cur, target: str) -> int:
    """Every account not deleted in Akun and not yet known at the target, at FILL priority
    (a new target, or reconcile's "missing"): one INSERT ... SELECT."""
    p = {"t": target, "prio": int(P.FILL),
         "now": connection.ops.adapt_datetimefield_value(clock.now())}  # fmt: skip
    cur.execute(
        f"INSERT INTO {TABLE} (target_id, account_id, remote_id, remote_state, state, "
        "priority, reason, detail, attempts, not_before, changed_at, version) "
        "SELECT %(t)s, a.id, '', '', 'pending', %(prio)s, 'queued', '', 0, NULL, %(now)s, 0 "
        f"FROM {accounts_sql('a')} WHERE a.state <> 'deleted' "
        "ON CONFLICT (target_id, account_id) DO NOTHING",
        p,
    )
    n = max(cur.rowcount, 0)
    # The rows this statement inserted: their changed_at is its own (rows there before are
    # older), and they were never changed since.
    ids = (
        f"SELECT x.account_id FROM {TABLE} x WHERE x.target_id = %(t)s "
        "AND x.changed_at = %(now)s AND x.version = 0"
    )
    syncstate.changed(cur, ids, p, n)
    return n


def register() -> None:
    register_consumer(CONSUMER, [str(k) for k in PRIORITY], handle, batch=5000)
