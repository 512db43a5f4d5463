"""What other apps use to write and read the audit log."""

from functools import cache

from django.db import connection

from akun.audit.models import AuditEvent
from akun.core import clock


@cache
def _insert() -> tuple[str, list]:
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    sql = (
        f"INSERT INTO {qn(AuditEvent._meta.db_table)} "
        f"({', '.join(qn(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    return sql, fields


def record(
    action: str,
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
    """One audit row, in the caller's transaction.

    A prepared INSERT on a cursor, not Model.objects.create(): every sign-in writes one, and
    the ORM's compile and read-back cost more than the insert itself."""
    values = {
        "at": clock.now(),
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "npsn": npsn,
        "kode_wilayah": kode_wilayah,
        "reason": reason,
        "before": before,
        "after": after,
    }
    sql, fields = _insert()
    params = [f.get_db_prep_save(values[f.attname], connection) for f in fields]
    with connection.cursor() as cur:
        cur.execute(sql, params)


__all__ = ["AuditEvent", "record"]
