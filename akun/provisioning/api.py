"""What other apps use of provisioning (OEP-49): an account's sync state at each target,
counts per school or region, and the retry action."""

import dataclasses
import datetime as dt

from akun.provisioning.actions import do_add_target, do_release_target, do_retry_sync
from akun.provisioning.models import Provisioned, Target
from akun.provisioning.reasons import REASONS, describe

State = Provisioned.State


@dataclasses.dataclass
class SyncStatus:
    target: str
    kind: str
    state: str
    reason: str
    text: str  # the reason in plain Indonesian (empty when synced)
    remote_id: str
    last_synced_at: dt.datetime | None


def sync_status_of(account_id: int) -> list[SyncStatus]:
    """The account's state at every enabled target (none: no target is configured)."""
    rows = (
        Provisioned.objects.filter(account_id=account_id, target__enabled=True)
        .select_related("target")
        .order_by("target_id")
    )
    return [
        SyncStatus(
            target=p.target_id,
            kind=p.target.kind,
            state=p.state,
            reason=p.reason,
            text=describe(p.reason, p.detail) if p.reason else "",
            remote_id=p.remote_id,
            last_synced_at=p.last_synced_at,
        )
        for p in rows
    ]


__all__ = [
    "REASONS",
    "State",
    "SyncStatus",
    "Target",
    "describe",
    "do_add_target",
    "do_release_target",
    "do_retry_sync",
    "sync_status_of",
]
