"""Where accounts stand at the targets, for people: counts per school, region or the nation
(one GROUP BY each, set-based; the portal's region pages read the counts the statistics keep
instead, akun.statistik), the accounts that failed with their reason, and what `akun
accounts explain` and Akun Saya say.

Counts add up the enabled targets of one kind (Google by default): a deployment normally has
one Google Workspace domain."""

import dataclasses
import datetime as dt

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from akun.accounts import api as accounts_api
from akun.provisioning.models import Provisioned, Target
from akun.provisioning.reasons import describe
from akun.roster import api as roster_api
from akun.roster.api import Sekolah

State = Provisioned.State

STATE_LABELS = {
    State.PENDING: _("waiting to sync"),
    State.SYNCED: _("synced"),
    State.FAILED: _("failed"),
    State.SUSPENDED: _("suspended"),
    State.DELETED: _("deleted"),
}
KIND_LABELS = {Target.Kind.GOOGLE: _("Google account"), Target.Kind.SCIM: _("SCIM account")}


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


@dataclasses.dataclass
class Counts:
    synced: int = 0
    pending: int = 0
    failed: int = 0
    suspended: int = 0
    deleted: int = 0

    @property
    def total(self) -> int:
        return self.synced + self.pending + self.failed + self.suspended + self.deleted

    def add(self, state: str, n: int) -> None:
        if state in STATE_LABELS:
            setattr(self, state, getattr(self, state) + n)


def _grouped(group_sql: str, where: str, params: list, kind: str) -> dict[str, Counts]:
    p = Provisioned._meta.db_table
    t = Target._meta.db_table
    join = ""
    if "s." in group_sql or "s." in where or "a." in where:
        join = (
            f"{accounts_api.join_account('p.account_id', 'a')} "
            f"{roster_api.join_sekolah('a.sekolah_id', 's', left=False)} "
        )
    sql = (
        f"SELECT {group_sql} AS g, p.state, COUNT(*) FROM {p} p "
        f"JOIN {t} t ON t.name = p.target_id {join}"
        f"WHERE t.enabled AND t.kind = %s {where} GROUP BY 1, 2"
    )
    out: dict[str, Counts] = {}
    with connection.cursor() as cur:
        cur.execute(sql, [kind, *params])
        for g, state, n in cur.fetchall():
            out.setdefault(g, Counts()).add(state, n)
    return out


def _region(kode_wilayah: str) -> tuple[str, list]:
    if not kode_wilayah:
        return "", []
    if not kode_wilayah.isdigit() or len(kode_wilayah) > 6:
        raise ValueError("kode_wilayah: up to 6 digits")
    return "AND s.kode_wilayah LIKE %s", [f"{kode_wilayah}%"]


def counts(*, sekolah_ids=None, kode_wilayah: str | None = None, kind="google") -> Counts:
    """The accounts of these schools (sekolah ids), of a region (kode_wilayah prefix: 2 or 4
    digits), or of the nation (neither), by sync state."""
    if sekolah_ids is not None:
        ids = list(sekolah_ids)
        if not ids:
            return Counts()
        # The ids as the ORM adapts them (UUIDs differ between SQLite and PostgreSQL).
        sub, params = Sekolah.objects.filter(pk__in=ids).values("pk").query.sql_with_params()
        fk = accounts_api.Account._meta.get_field("sekolah").column
        where, params = f"AND a.{fk} IN ({sub})", list(params)
    else:
        where, params = _region(kode_wilayah or "")
    return _grouped("''", where, params, kind).get("", Counts())


@dataclasses.dataclass
class Problem:
    account_id: int
    user_id: str
    nama: str
    target: str
    state: str
    text: str  # the reason in plain Indonesian
    attempts: int
    changed_at: dt.datetime


def problems(sekolah_ids, *, limit=50, kind="google") -> list[Problem]:
    """The school's accounts that failed, and those waiting with a reason (quota, a hold),
    failed first, the oldest first."""
    accounts = accounts_api.Account.objects.filter(sekolah_id__in=list(sekolah_ids))
    rows = list(
        Provisioned.objects.filter(
            target__enabled=True,
            target__kind=kind,
            account_id__in=accounts.values("pk"),
        )
        # Waiting with a reason worth telling (quota, a hold), not merely its turn.
        .filter(Q(state=State.FAILED) | (Q(state=State.PENDING) & ~Q(reason__in=("", "queued"))))
        .order_by("state", "changed_at", "id")[:limit]
    )
    people = {
        a.pk: a
        for a in accounts_api.Account.objects.filter(pk__in=[r.account_id for r in rows]).only(
            "pk", "user_id", "nama"
        )
    }
    return [
        Problem(
            account_id=r.account_id,
            user_id=people[r.account_id].user_id if r.account_id in people else "",
            nama=people[r.account_id].nama if r.account_id in people else "",
            target=r.target_id,
            state=r.state,
            text=describe(r.reason, r.detail) if r.reason else state_label(r.state),
            attempts=r.attempts,
            changed_at=r.changed_at,
        )
        for r in rows
    ]


# --- the explanation and Akun Saya -----------------------------------------------------------


@dataclasses.dataclass
class SyncLine:
    """One account at one target, for `akun accounts explain` (accounts' detail hook)."""

    target: str
    kind: str
    state: str
    reason: str
    detail: str
    remote_id: str
    last_synced_at: dt.datetime | None

    def text(self, lang: str = "id") -> str:
        from django.utils import translation

        with translation.override("en" if lang == "en" else "id"):
            label = str(KIND_LABELS.get(self.kind, self.kind))
            parts = [f"{label} ({self.target}): {state_label(self.state)}"]
            if self.reason:
                parts.append(describe(self.reason, self.detail))
            when = (
                timezone.localtime(self.last_synced_at).strftime("%Y-%m-%d %H:%M")
                if self.last_synced_at
                else translation.gettext("never")
            )
            parts.append(translation.gettext("last sync %(when)s") % {"when": when})
        return "; ".join(parts)

    def as_dict(self) -> dict:
        return {
            "target": self.target,
            "kind": self.kind,
            "state": self.state,
            "reason": self.reason,
            "detail": self.detail,
            "remote_id": self.remote_id,
            "last_synced_at": self.last_synced_at.isoformat() if self.last_synced_at else None,
        }


def explain_lines(account_ids: list[int]) -> dict[int, list[SyncLine]]:
    """accounts' explain detail hook: each account's state at every enabled target."""
    out: dict[int, list[SyncLine]] = {}
    rows = (
        Provisioned.objects.filter(account_id__in=list(account_ids), target__enabled=True)
        .select_related("target")
        .order_by("account_id", "target_id")
    )
    for p in rows:
        out.setdefault(p.account_id, []).append(
            SyncLine(
                target=p.target_id,
                kind=p.target.kind,
                state=p.state,
                reason=p.reason,
                detail=p.detail,
                remote_id=p.remote_id,
                last_synced_at=p.last_synced_at,
            )
        )
    return out


def has_targets(kind="google") -> bool:
    return Target.objects.filter(enabled=True, kind=kind).exists()
