"""`akun provision reconcile`: list the target (paged, with a field mask), compare it with
Akun, report the drift: accounts missing at the target, users in Akun's org units that Akun
has no live account for (extra), and users whose attributes differ. --fix queues the missing
and the differing accounts for the engine (it sends them as usual, with the quota) and
suspends the extra ones (never deletes them), under the same safety stop as a run.

Page by page: each page of users is matched to Akun's accounts by user ID in one query;
only the account ids seen are kept in memory (a set of ints), so a million users fit."""

import dataclasses
import json

from django.conf import settings
from django.db import connection, transaction

from akun.accounts.api import accounts_sql
from akun.audit import api as audit
from akun.audit.api import Action
from akun.provisioning import desired as desired_mod
from akun.provisioning import feed, syncstate
from akun.provisioning.engine import client_for
from akun.provisioning.models import Provisioned, Target

P = Provisioned.Priority
SAMPLE = 20


@dataclasses.dataclass
class Drift:
    target: str
    listed: int = 0  # users at the target that Akun manages
    unmanaged: int = 0  # users at the target Akun does not manage (left alone)
    missing: int = 0
    extra: int = 0
    differ: int = 0
    fixed_queued: int = 0
    fixed_suspended: int = 0
    held: str = ""
    samples: dict = dataclasses.field(default_factory=lambda: {"missing": [], "extra": [],
                                                               "differ": []})  # fmt: skip

    def note(self, kind: str, text: str) -> None:
        if len(self.samples[kind]) < SAMPLE:
            self.samples[kind].append(text)


def differences(d, r) -> list[str]:
    """Which fields of the remote user `r` differ from what Akun would send (`d`)."""
    out = []
    if d.active != r.active:
        out.append("suspended")
    if d.org_unit != r.org_unit:
        out.append("orgUnitPath")
    if d.given_name != r.attributes.get("_given_name") or d.family_name != r.attributes.get(
        "_family_name"
    ):
        out.append("name")
    # SCIM has no global address list: a client that cannot say leaves "_gal" out.
    if "_gal" in r.attributes and d.directory_visible != bool(r.attributes["_gal"]):
        out.append("includeInGlobalAddressList")
    for k, v in d.attributes.items():
        if (r.attributes.get(k) or "") != (v or ""):
            out.append(f"customSchemas.{k}")
    return out


def _accounts_by_user_id(user_ids: list[str]) -> dict[str, int]:
    if not user_ids:
        return {}
    locals_ = [u.partition("@")[0] for u in user_ids]
    if connection.vendor == "postgresql":
        src, param = "SELECT unnest(%s::text[])", locals_
    else:
        src, param = "SELECT value FROM json_each(%s)", json.dumps(locals_)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT user_id, id, state FROM {accounts_sql('acc')} WHERE local_part IN ({src})",
            [param],
        )
        return {u.lower(): (i, st) for u, i, st in cur.fetchall()}


def reconcile(target: Target | str, *, fix: bool = False, actor: str = "reconcile",
              client=None, progress=None, page: int = 2000) -> Drift:  # fmt: skip
    target = target if isinstance(target, Target) else Target.objects.get(pk=target)
    client = client or client_for(target)
    drift = Drift(target.name)
    seen: set[int] = set()
    to_queue: dict[int, set[int]] = {P.CHANGE: set(), P.FILL: set()}
    remote_ids: dict[int, str] = {}
    extra: list[str] = []
    chunk: list[dict] = []

    def flush():
        users = [client.remote_of(u) for u in chunk if client.ours(u)]
        drift.unmanaged += len(chunk) - len(users)
        chunk.clear()
        drift.listed += len(users)
        accounts = _accounts_by_user_id([r.user_id for r in users])
        live = {uid: a for uid, a in accounts.items() if a[1] != "deleted"}
        built = desired_mod.build(target, [a[0] for a in live.values()])
        for r in users:
            acc = live.get(r.user_id)
            if acc is None:
                drift.extra += 1
                drift.note("extra", r.user_id)
                if r.active:
                    extra.append(r.remote_id)
                continue
            acc_id = acc[0]
            seen.add(acc_id)
            remote_ids[acc_id] = r.remote_id
            diff = differences(built[acc_id][0], r)
            if diff:
                drift.differ += 1
                drift.note("differ", f"{r.user_id}: {', '.join(diff)}")
                to_queue[P.CHANGE].add(acc_id)
        if progress is not None:
            progress(drift)

    for user in client.list_users():
        chunk.append(user)
        if len(chunk) >= page:
            flush()
    flush()
    # Missing: accounts Akun has (not deleted) that the listing did not show.
    with connection.cursor() as cur:
        cur.execute(f"SELECT id, user_id FROM {accounts_sql('acc')} WHERE state <> 'deleted'")
        while True:
            rows = cur.fetchmany(10_000)
            if not rows:
                break
            for acc_id, user_id in rows:
                if acc_id not in seen:
                    drift.missing += 1
                    drift.note("missing", user_id)
                    to_queue[P.FILL].add(acc_id)
    if fix:
        _fix(target, client, drift, to_queue, remote_ids, extra, actor)
    return drift


def _fix(target, client, drift, to_queue, remote_ids, extra, actor) -> None:
    table = Provisioned._meta.db_table
    with transaction.atomic(), connection.cursor() as cur:
        for prio, ids in to_queue.items():
            if ids:
                sql, param = syncstate.ids_source(ids)
                drift.fixed_queued += feed.mark_pending(cur, target.name, sql, {"ids": param},
                                                        prio)  # fmt: skip
        # The remote ids found: the engine patches them instead of inserting again.
        cur.executemany(
            f"UPDATE {table} SET remote_id = %s WHERE target_id = %s AND account_id = %s "
            "AND remote_id = ''",
            [(rid, target.name, acc) for acc, rid in remote_ids.items() if rid],
        )
    managed = drift.listed or 1
    over = len(extra) > settings.AKUN_PROVISION_SAFETY_MIN and (
        len(extra) / managed > settings.AKUN_PROVISION_MAX_SHARE
    )
    if over and len(extra) > target.allowed_removals:
        drift.held = (
            f"reconcile akan menangguhkan {len(extra)} dari {drift.listed} akun di "
            f"{target.name}: ditahan, jalankan `akun provision release {target.name}`"
        )
        with transaction.atomic():
            Target.objects.filter(pk=target.pk).update(held_reason=drift.held)
            audit.record(Action.PROVISIONING_HOLD, actor=actor, object_type="target",
                         object_id=target.name, reason=drift.held,
                         after={"extra": len(extra), "managed": drift.listed})  # fmt: skip
        extra = []
    done = client.suspend(extra) if extra else {}
    drift.fixed_suspended = sum(1 for ok in done.values() if ok)
    audit.record(
        Action.PROVISIONING_RECONCILE_FIX, actor=actor, object_type="target",
        object_id=target.name,
        after={"queued": drift.fixed_queued, "suspended": drift.fixed_suspended,
               "suspended_ids": [r for r, ok in done.items() if ok][:1000],
               "missing": drift.missing, "differ": drift.differ, "extra": drift.extra},
    )  # fmt: skip
