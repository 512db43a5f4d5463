"""What other apps use to write and read the audit log."""

from django.db import connection

from akun.audit.actions import Action, checked
from akun.audit.models import AuditEvent
from akun.core import clock, rows


def _table() -> str:
    return AuditEvent._meta.db_table


def record(
    action: Action | str,
    *,
    actor: str,
    object_type: str = "",
    object_id: str = "",
    reason: str = "",
    before: dict | None = None,
    after: dict | None = None,
    npsn: str = "",
    kode_wilayah: str = "",
) -> None:
    """One audit row, in the caller's transaction. `action`: an Action (or its value).

    An INSERT on a cursor (akun.core.rows), not Model.objects.create(): every sign-in writes
    one, and the ORM's compile step costs more than the insert itself."""
    rows.insert(
        AuditEvent(
            at=clock.now(),
            actor=actor,
            action=checked(action).value,
            object_type=object_type,
            object_id=str(object_id),
            reason=reason,
            before=before,
            after=after,
            npsn=npsn,
            kode_wilayah=kode_wilayah,
        )
    )


def json_sql(**exprs: str) -> str:
    """SQL for a JSON object from SQL expressions (for before/after in record_many)."""
    inner = ", ".join(f"'{k}', {v}" for k, v in exprs.items())
    if connection.vendor == "postgresql":
        return f"CAST(json_build_object({inner}) AS jsonb)"
    return f"json_object({inner})"


def record_many(
    cur,
    action: Action | str,
    *,
    actor: str,
    source: str,
    params: dict | None = None,
    object_type: str = "account",
    object_id: str = "t.user_id",
    reason: str = "''",
    before: str = "NULL",
    after: str = "NULL",
    npsn: str = "t.npsn",
    kode_wilayah: str = "t.kode_wilayah",
) -> int:
    """One audit row per row of `source` (a FROM clause, e.g. `lc_g t WHERE t.suspend`), in
    one INSERT ... SELECT, in the caller's transaction. The other arguments are SQL
    expressions over it; `action` and `actor` are values. Returns the rows written."""
    cur.execute(
        f"INSERT INTO {_table()} (at, actor, action, object_type, object_id, npsn, "
        "kode_wilayah, reason, before, after) "
        f"SELECT %(audit_at)s, %(audit_actor)s, %(audit_action)s, %(audit_type)s, {object_id}, "
        f"{npsn}, {kode_wilayah}, {reason}, {before}, {after} FROM {source}",
        {
            **(params or {}),
            "audit_at": connection.ops.adapt_datetimefield_value(clock.now()),
            "audit_actor": actor,
            "audit_action": checked(action).value,
            "audit_type": object_type,
        },
    )
    return max(cur.rowcount, 0)


def recorded_since(cur, actions, since) -> bool:
    """Has any of `actions` been recorded at or after `since`? (One indexed probe.)"""
    names = [checked(a).value for a in actions]
    cur.execute(
        f"SELECT 1 FROM {_table()} e WHERE e.at >= %s AND e.action IN "
        f"({', '.join(['%s'] * len(names))}) LIMIT 1",
        [connection.ops.adapt_datetimefield_value(since), *names],
    )
    return cur.fetchone() is not None


__all__ = ["Action", "AuditEvent", "json_sql", "record", "record_many", "recorded_since"]
