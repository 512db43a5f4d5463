"""The outbound sync engine (authentik's lib/sync/outgoing shape): per target, claim the
waiting rows (lowest priority number first: a person waiting before the bulk fill), build
what the target should hold from Akun, hand it to the target's client in batches, and keep
the outcome (remote id, state, reason) per account.

Claims: PostgreSQL, SELECT ... FOR UPDATE SKIP LOCKED in a transaction that stays open for
the batch, so any number of workers on any nodes share the work and a worker killed at any
point (kill -9) only releases its rows: the next run sends them again, and the client's
409-adoption makes that idempotent (the user created just before the kill is adopted, never
duplicated). SQLite: one worker, no locks needed.

A row is only "make the target match Akun now": the account's state is read when the batch
is built. When Akun changes the account while its batch is out (its version moved), the
result is recorded (remote id) but the row stays pending and goes again.

The safety stop: before sending, the suspensions/deletions waiting are counted; more than
AKUN_PROVISION_MAX_SHARE of the target's managed users (and more than
AKUN_PROVISION_SAFETY_MIN) holds the target (Target.held_reason) until
`akun provision release`.
"""

import dataclasses
import datetime as dt
import logging
import random
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils.module_loading import import_string

from akun.accounts.api import join_account, run_consumers
from akun.audit import api as audit
from akun.audit.api import Action
from akun.core import clock
from akun.provisioning import desired as desired_mod
from akun.provisioning import syncstate
from akun.provisioning.models import Provisioned, Target

log = logging.getLogger("akun.provisioning")

try:  # password-sync mode (h4's module: take() the hashes waiting, forget() once sent)
    from akun.provisioning import passwords
except ImportError:  # pragma: no cover  (not merged yet: no hashes are sent)
    passwords = None

CLIENTS = {
    "google": "akun.provisioning.google.GoogleClient",
    "scim": "akun.provisioning.scim.ScimClient",
}
TABLE = Provisioned._meta.db_table
S = Provisioned.State
BACKOFF_FIRST = 30.0  # seconds, after a batch's own retries gave up
BACKOFF_MAX = 3600.0
PERMANENT_RETRY = dt.timedelta(days=1)  # name rejected, conflict: tried again daily
REMOVING = ("suspended", "deactivated", "deleted")


def client_for(target: Target, **kwargs):
    return import_string(CLIENTS[target.kind])(target, **kwargs)


def backoff(attempts: int) -> dt.timedelta:
    seconds = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, attempts - 1))
    return dt.timedelta(seconds=seconds / 2 + random.uniform(0, seconds / 2))


@dataclasses.dataclass
class Step:
    rows: int = 0
    synced: int = 0
    suspended: int = 0
    deleted: int = 0
    failed: int = 0
    waiting: int = 0  # transient failures: again after backoff
    held: str = ""


@dataclasses.dataclass
class RunResult:
    target: str
    steps: int = 0
    rows: int = 0
    synced: int = 0
    suspended: int = 0
    deleted: int = 0
    failed: int = 0
    waiting: int = 0
    held: str = ""

    def add(self, s: Step) -> None:
        self.steps += 1
        for f in ("rows", "synced", "suspended", "deleted", "failed", "waiting"):
            setattr(self, f, getattr(self, f) + getattr(s, f))
        self.held = s.held or self.held


# --- the safety stop ----------------------------------------------------------------------


def removals_waiting(target: str) -> int:
    """Rows waiting whose account Akun has suspended, deactivated or deleted while the
    target still has it active (or, for a deletion, at all)."""
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT count(*) FROM {TABLE} p {join_account('p.account_id', 'a')} "
            "WHERE p.target_id = %s AND p.state IN ('pending', 'failed') "
            "AND ((p.remote_state = 'active' AND a.state IN ('suspended', 'deactivated', "
            "'deleted')) OR (p.remote_state = 'suspended' AND a.state = 'deleted'))",
            [target],
        )
        return int(cur.fetchone()[0])


def managed_count(target: str) -> int:
    return Provisioned.objects.filter(
        target_id=target, remote_state__in=["active", "suspended"]
    ).count()


def check_safety(target: Target, *, actor: str) -> str:
    """'' when the target may send; else why it is held (and it is held from now on)."""
    if target.held_reason:
        return target.held_reason
    n = removals_waiting(target.name)
    if n == 0 and target.allowed_removals:
        Target.objects.filter(pk=target.pk).update(allowed_removals=0)
        target.allowed_removals = 0
    if n <= settings.AKUN_PROVISION_SAFETY_MIN or n <= target.allowed_removals:
        return ""
    managed = managed_count(target.name)
    if managed and n / managed <= settings.AKUN_PROVISION_MAX_SHARE:
        return ""
    reason = (
        f"{n} akun akan ditangguhkan atau dihapus di {target.name}, dari {managed} akun yang "
        f"dikelola (batas {settings.AKUN_PROVISION_MAX_SHARE:.0%})"
    )
    with transaction.atomic():
        updated = Target.objects.filter(pk=target.pk, held_reason="").update(
            held_reason=reason, held_at=clock.now()
        )
        if updated:
            audit.record(
                Action.PROVISIONING_HOLD, actor=actor, object_type="target",
                object_id=target.name, reason=reason,
                after={"removals": n, "managed": managed},
            )  # fmt: skip
    target.held_reason = reason
    return reason


# --- one batch ----------------------------------------------------------------------------


def _claim(target: str, limit: int) -> list[tuple]:
    now = connection.ops.adapt_datetimefield_value(clock.now())
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id, account_id, remote_id, remote_state, version, attempts "
            f"FROM {TABLE} WHERE target_id = %s AND state IN ('pending', 'failed') "
            "AND (not_before IS NULL OR not_before <= %s) "
            f"ORDER BY priority, id LIMIT {int(limit)}{lock}",
            [target, now],
        )
        return cur.fetchall()


def _sets(v, p: str) -> str:
    """The SET clause of recording a batch: what the target holds is a fact whatever
    happened meanwhile; the work state moves only if Akun did not change the account while
    the batch was out (version). v(name): the new value's SQL; p: the row's prefix."""
    same = f"{p}version = {v('ch')}"
    moved = {"state": "st", "reason": "reason", "detail": "detail", "attempts": "att",
             "not_before": "nb"}  # fmt: skip
    return ", ".join(
        [f"remote_state = {v('rs')}", f"remote_id = {v('rid')}"]
        + [f"{col} = CASE WHEN {same} THEN {v(n)} ELSE {p}{col} END" for col, n in moved.items()]
        + [f"last_synced_at = COALESCE({v('synced')}, {p}last_synced_at)"]
    )


class Engine:
    """Sends one target's waiting rows, batch by batch."""

    def __init__(self, target: Target | str, *, client=None, batch: int | None = None,
                 actor: str = "provisioning", after_send=None):  # fmt: skip
        self.target = target if isinstance(target, Target) else Target.objects.get(pk=target)
        self.client = client or client_for(self.target)
        per_second = self.client.bucket.rate if hasattr(self.client, "bucket") else 1000
        # About two seconds of quota per batch: a batch is never waiting long for tokens,
        # and an urgent row that arrives meanwhile goes out in the next one.
        self.batch = batch or int(max(10, min(settings.AKUN_PROVISION_BATCH_CALLS, per_second * 2)))
        self.actor = actor
        self.after_send = after_send  # test hook: (rows) after the client, before recording
        self._safety_at = 0.0
        self._consumed_at = 0.0

    def consume(self) -> None:
        """The change stream into rows (durable consumers; cheap when caught up)."""
        run_consumers()

    def step(self) -> Step:
        """Claim and send one batch; Step.rows == 0: nothing to do now."""
        now_m = time.monotonic()
        if now_m - self._safety_at > 10:
            self.target.refresh_from_db()
            held = check_safety(self.target, actor=self.actor)
            self._safety_at = now_m
            if held:
                return Step(held=held)
        elif self.target.held_reason:
            return Step(held=self.target.held_reason)
        if connection.vendor == "postgresql":
            with transaction.atomic():
                return self._step()
        return self._step()

    def _step(self) -> Step:
        rows = _claim(self.target.name, self.batch)
        step = Step(rows=len(rows))
        if not rows:
            return step
        ids = [r[1] for r in rows]
        built = desired_mod.build(self.target, ids)
        writes, deletes, gone = [], [], []
        for _pid, acc_id, remote_id, remote_state, _changed, _att in rows:
            entry = built.get(acc_id)
            if entry is None or entry[1] == "deleted":
                if remote_state == "deleted":
                    gone.append(acc_id)
                    continue
                d = entry[0] if entry else desired_mod.Desired(
                    acc_id, "", "", "", False, "", {}
                )  # fmt: skip
                if not d.user_id and not remote_id:
                    gone.append(acc_id)  # nothing known to delete
                    continue
                d.remote_id = remote_id
                deletes.append(d)
            else:
                d = entry[0]
                d.remote_id = remote_id
                writes.append(d)
        hashes, taken_at = {}, clock.now()
        sync_passwords = bool((self.target.config or {}).get("password_sync"))
        if sync_passwords and passwords is not None and writes:
            hashes = passwords.take(self.target.name, [d.account_id for d in writes])
            for d in writes:
                d.password_hash = hashes.get(d.account_id, "")
        outcomes = {}
        for o in self.client.write(writes):
            outcomes[o.account_id] = ("write", o)
        for o in self.client.delete(deletes):
            outcomes[o.account_id] = ("delete", o)
        if self.after_send is not None:
            self.after_send(rows)
        active = {d.account_id: d.active for d in writes}
        self._record(rows, outcomes, active, gone, step)
        if hashes:
            sent = [a for a, (_k, o) in outcomes.items() if o.ok and a in hashes]
            if sent:
                passwords.forget(self.target.name, sent, before=taken_at)
        return step

    def _record(self, rows, outcomes, active, gone, step: Step) -> None:
        now = clock.now()
        db_now = connection.ops.adapt_datetimefield_value(now)
        updates = []  # (state, remote_state, remote_id, reason, detail, attempts,
        #               not_before, synced_at, id, version)
        lists: dict[str, list[int]] = {}
        for pid, acc_id, remote_id, remote_state, changed, attempts in rows:
            if acc_id in gone:
                updates.append((S.DELETED, "deleted", remote_id, "", "", 0, None, db_now,
                                pid, changed))  # fmt: skip
                step.deleted += 1
                lists.setdefault("deleted", []).append(acc_id)
                continue
            kind, o = outcomes[acc_id]
            rid = o.remote_id or remote_id
            if o.ok and kind == "delete":
                updates.append((S.DELETED, "deleted", rid, "", "", 0, None, db_now, pid, changed))
                step.deleted += 1
                lists.setdefault("deleted", []).append(acc_id)
            elif o.ok:
                on = active[acc_id]
                state = S.SYNCED if on else S.SUSPENDED
                updates.append((state, "active" if on else "suspended", rid, "", "", 0, None,
                                db_now, pid, changed))  # fmt: skip
                if on:
                    step.synced += 1
                else:
                    step.suspended += 1
                lists.setdefault(state, []).append(acc_id)
            elif o.retry:
                after = connection.ops.adapt_datetimefield_value(now + backoff(attempts + 1))
                state = S.PENDING if o.reason == "quota" else S.FAILED
                updates.append((state, remote_state, rid, o.reason, o.detail[:1000],
                                attempts + 1, after, None, pid, changed))  # fmt: skip
                step.waiting += 1
                lists.setdefault("waiting", []).append(acc_id)
            else:
                after = connection.ops.adapt_datetimefield_value(now + PERMANENT_RETRY)
                updates.append((S.FAILED, remote_state, rid, o.reason, o.detail[:1000],
                                attempts + 1, after, None, pid, changed))  # fmt: skip
                step.failed += 1
                lists.setdefault("failed", []).append(acc_id)
        with transaction.atomic(), connection.cursor() as cur:
            # What the target holds is a fact whatever happened meanwhile; the work state
            # moves only if Akun did not change the account while the batch was out.
            if connection.vendor == "postgresql":
                # One statement for the batch (a round trip per row costs more than the rest).
                cols = list(zip(*[(pid, rs, rid, ch, st, reason, detail, att, nb, synced)
                                  for st, rs, rid, reason, detail, att, nb, synced, pid, ch
                                  in updates], strict=True))  # fmt: skip
                cur.execute(
                    f"UPDATE {TABLE} p SET {_sets(lambda n: 'v.' + n, 'p.')} "
                    "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::bigint[], "
                    "%s::text[], %s::text[], %s::text[], %s::int[], %s::timestamptz[], "
                    "%s::timestamptz[]) AS v(id, rs, rid, ch, st, reason, detail, att, nb, "
                    "synced) WHERE p.id = v.id",
                    [list(c) for c in cols],
                )
            else:
                cur.executemany(
                    f"UPDATE {TABLE} SET {_sets(lambda n: f'%({n})s', '')} WHERE id = %(id)s",
                    [dict(id=pid, rs=rs, rid=rid, ch=ch, st=st, reason=reason, detail=detail,
                          att=att, nb=nb, synced=synced)
                     for st, rs, rid, reason, detail, att, nb, synced, pid, ch in updates],
                )  # fmt: skip
            ids = sorted({acc_id for _pid, acc_id, *_rest in rows})
            ids_sql, ids_param = syncstate.ids_source(ids)
            syncstate.changed(cur, ids_sql, {"ids": ids_param}, len(ids))
            audit.record(
                Action.PROVISIONING_SYNC, actor=self.actor, object_type="target",
                object_id=self.target.name,
                after={k: {"count": len(v), "accounts": v[:1000]} for k, v in lists.items()},
            )  # fmt: skip

    def run(self, *, once: bool = False, deadline: float | None = None, progress=None,
            stop: threading.Event | None = None, idle_wait: float = 1.0) -> RunResult:  # fmt: skip
        """Batches until nothing is due (once=True), until `deadline` (time.monotonic()),
        or until `stop` is set. Between batches the change stream is read, at most once a
        second, so an activation made meanwhile goes out in the next batch or so."""
        result = RunResult(self.target.name)
        while True:
            if stop is not None and stop.is_set():
                return result
            if deadline is not None and time.monotonic() >= deadline:
                return result
            if time.monotonic() - self._consumed_at >= 1.0:
                self.consume()
                self._consumed_at = time.monotonic()
            s = self.step()
            result.add(s)
            if progress is not None:
                progress(result)
            if s.held:
                return result
            if s.rows == 0:
                if once:
                    return result
                time.sleep(idle_wait)


def pending_count(target: str) -> int:
    return Provisioned.objects.filter(target_id=target, state__in=[S.PENDING, S.FAILED]).count()


def run_workers(target: str, workers: int, *, once: bool, deadline=None, progress=None,
                make_client=None) -> RunResult:  # fmt: skip
    """`workers` threads, each with its own connection and client (PostgreSQL; SQLite: one)."""
    if connection.vendor != "postgresql":
        workers = 1
    if workers <= 1:
        client = make_client() if make_client else None
        return Engine(target, client=client).run(once=once, deadline=deadline, progress=progress)
    total = RunResult(target)
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def work():
        try:
            client = make_client() if make_client else None
            r = Engine(target, client=client).run(once=once, deadline=deadline, stop=stop)
            with lock:
                for f in ("steps", "rows", "synced", "suspended", "deleted", "failed",
                          "waiting"):  # fmt: skip
                    setattr(total, f, getattr(total, f) + getattr(r, f))
                total.held = r.held or total.held
        except BaseException as exc:  # noqa: BLE001  (re-raised in the caller)
            errors.append(exc)
            stop.set()
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
    for t in threads:
        t.start()
    try:
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(timeout=1.0)
            if progress is not None:
                progress(total)
    except KeyboardInterrupt:
        stop.set()
        raise
    if errors:
        raise errors[0]
    return total
