"""The provisioning state changes an admin makes: add a target (and queue every account
for it), release a held target, retry failed accounts. Each atomic, each audited."""

from django.db import connection, transaction

from akun.accounts.api import accounts_sql
from akun.audit import api as audit
from akun.audit.api import Action
from akun.core import clock
from akun.provisioning import feed, syncstate
from akun.provisioning.engine import removals_waiting
from akun.provisioning.models import Provisioned, Target

TABLE = Provisioned._meta.db_table


def do_add_target(name: str, kind: str, config: dict, *, actor: str, fill: bool = True) -> int:
    """A new target; with fill, every account not deleted is queued for it (FILL
    priority). Returns the accounts queued."""
    if kind not in Target.Kind.values:
        raise ValueError(f"unknown kind {kind!r}")
    with transaction.atomic():
        target = Target.objects.create(name=name, kind=kind, config=config,
                                       created_at=clock.now())  # fmt: skip
        queued = 0
        if fill:
            with connection.cursor() as cur:
                queued = feed.fill(cur, target.name)
        safe = {k: v for k, v in config.items() if "key" not in k and "secret" not in k}
        audit.record(
            Action.PROVISIONING_ADD_TARGET, actor=actor, object_type="target",
            object_id=name, after={"kind": kind, "config": safe, "queued": queued},
        )  # fmt: skip
    return queued


def do_release_target(name: str, *, actor: str) -> int:
    """Lets a held target go on: the suspensions/deletions waiting now (and no more) may
    be sent. Returns that number."""
    with transaction.atomic():
        target = Target.objects.select_for_update().get(pk=name)
        n = removals_waiting(name)
        before = target.held_reason
        target.held_reason, target.held_at, target.allowed_removals = "", None, n
        target.save(update_fields=["held_reason", "held_at", "allowed_removals"])
        audit.record(
            Action.PROVISIONING_RELEASE, actor=actor, object_type="target", object_id=name,
            before={"held_reason": before}, after={"allowed_removals": n},
        )  # fmt: skip
    return n


def do_retry_sync(account_ids: list[int] | None = None, *, actor: str,
                  target: str | None = None, sekolah_id=None) -> int:  # fmt: skip
    """Failed (or waiting) accounts go out again now, first in line: all of them, or those
    of `account_ids`, of one school (`sekolah_id`), at one target. Returns the rows."""
    where = ["p.state IN ('pending', 'failed')", "(p.state = 'failed' OR p.not_before IS NOT NULL)"]
    params: dict = {"now": connection.ops.adapt_datetimefield_value(clock.now())}
    if target is not None:
        where.append("p.target_id = %(target)s")
        params["target"] = target
    if account_ids is not None:
        ids = [int(a) for a in account_ids]
        if not ids:
            return 0
        where.append(f"p.account_id IN ({', '.join(str(i) for i in ids)})")
    if sekolah_id is not None:
        where.append(
            f"p.account_id IN (SELECT id FROM {accounts_sql('acc')} WHERE sekolah_id = %(sekolah)s)"
        )
        params["sekolah"] = (
            str(sekolah_id).replace("-", "") if connection.vendor != "postgresql"
            else str(sekolah_id)
        )  # fmt: skip
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"UPDATE {TABLE} SET state = 'pending', reason = 'queued', detail = '', "
            "attempts = 0, not_before = NULL, priority = 0, changed_at = %(now)s, "
            f"version = {TABLE}.version + 1 "
            f"WHERE id IN (SELECT p.id FROM {TABLE} p WHERE {' AND '.join(where)}) "
            "RETURNING account_id",
            params,
        )
        retried = [r[0] for r in cur.fetchall()]
        n = len(retried)
        ids_sql, ids_param = syncstate.ids_source(retried)
        syncstate.changed(cur, ids_sql, {"ids": ids_param}, n)
        audit.record(
            Action.PROVISIONING_RETRY, actor=actor, object_type="target",
            object_id=target or "", after={
                "count": n, "sekolah_id": str(sekolah_id) if sekolah_id else "",
                "accounts": list(account_ids or [])[:1000]},
        )  # fmt: skip
    return n
