"""What other apps use of provisioning (OEP-49): an account's sync state at each target,
counts per school or region, and the retry action."""

import dataclasses
import datetime as dt

from akun.provisioning.actions import do_add_target, do_release_target, do_retry_sync
from akun.provisioning.models import Provisioned, Target
from akun.provisioning.passwords import do_reencrypt_pending_passwords
from akun.provisioning.reasons import REASONS, describe
from akun.provisioning.sso_profiles import register_sso_profile, sso_profile
from akun.provisioning.status import (
    KIND_LABELS,
    STATE_LABELS,
    Counts,
    Problem,
    counts,
    has_targets,
    problems,
    state_label,
)
from akun.provisioning.syncstate import join as sync_state_join
from akun.provisioning.syncstate import subscribe as subscribe_sync_state

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

    @property
    def label(self) -> str:
        """ "Google account", in the page's language."""
        return str(KIND_LABELS.get(self.kind, self.kind))

    @property
    def state_text(self) -> str:
        return state_label(self.state)


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
    "Counts",
    "KIND_LABELS",
    "Problem",
    "REASONS",
    "STATE_LABELS",
    "State",
    "SyncStatus",
    "Target",
    "counts",
    "describe",
    "do_add_target",
    "do_reencrypt_pending_passwords",
    "do_release_target",
    "do_retry_sync",
    "has_targets",
    "problems",
    "register_sso_profile",
    "sso_profile",
    "state_label",
    "subscribe_sync_state",
    "sync_state_join",
    "sync_status_of",
]
