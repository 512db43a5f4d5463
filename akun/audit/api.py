"""What other apps use to write and read the audit log."""

from akun.audit.models import AuditEvent
from akun.core import clock, rows


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

    An INSERT on a cursor (akun.core.rows), not Model.objects.create(): every sign-in writes
    one, and the ORM's compile step costs more than the insert itself."""
    rows.insert(
        AuditEvent(
            at=clock.now(),
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            reason=reason,
            before=before,
            after=after,
            npsn=npsn,
            kode_wilayah=kode_wilayah,
        )
    )


__all__ = ["AuditEvent", "record"]
