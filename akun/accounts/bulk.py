"""Set-based account changes: the bulk twin of actions._change, for other apps' rules.

`transition_many(verb, accounts, *, actor, reason)` changes the state of every account that
`accounts` selects and TRANSITIONS allows (the WHERE clause adds `state IN <allowed>`), in
the caller's transaction, in a fixed number of statements whatever the count:

- per-account audit (the default): the accounts go into a temp table (PostgreSQL: selected
  FOR UPDATE, which re-checks the condition on rows changed concurrently), then one UPDATE,
  one INSERT of audit rows (audit.api.record_many), one event row listing the accounts;
- `audit_rows=PER_RUN` (mass sweeps: the caller writes one audit row for its run and, with
  `also`, a stamp per account): on PostgreSQL one statement, UPDATE ... RETURNING feeding
  the event and the stamps. An audit row per account would cost as much as the UPDATE
  (docs/lifecycle.md, "Audit of mass sweeps").

Either way the in-transaction subscribers (stream.subscribe) get the set of accounts, as
for a single change.
"""

import dataclasses

from django.db import connection, transaction

from akun.accounts import stream
from akun.accounts.actions import TRANSITIONS, VERB_KIND
from akun.audit import api as audit
from akun.core import clock
from akun.roster import api as roster

ACCOUNT = "accounts_account"
PER_RUN = "per_run"

# What a bulk change sets besides the state (verbs that need per-account values, such as a
# password, have no bulk form).
BULK_SET = {
    "suspend": "",
    "unsuspend": "",
    "deactivate": "",
    "reactivate": "",
    # As do_delete_account: personal data gone, user ID kept reserved.
    "delete": (
        ", nama = '', person_id = NULL, password = '!', initial_password_enc = NULL, "
        "recovery_email = '', recovery_phone = '', recovery_email_verified_at = NULL, "
        "recovery_phone_verified_at = NULL"
    ),
}


@dataclasses.dataclass
class Selection:
    """The accounts of a bulk change: a condition on `a` (accounts_account) and, with
    `source` (a table or subquery with an account_id column, alias t), those of its rows
    that match `source_where`."""

    where: str = "TRUE"
    source: str = ""
    source_where: str = "TRUE"
    params: dict = dataclasses.field(default_factory=dict)

    def condition(self) -> str:
        if not self.source:
            return self.where
        return (
            f"({self.where}) AND a.id IN (SELECT t.account_id FROM {self.source} t "
            f"WHERE {self.source_where})"
        )


def where(condition: str, params: dict | None = None) -> Selection:
    return Selection(where=condition, params=params or {})


def rows_of(source: str, where: str = "TRUE", params: dict | None = None) -> Selection:
    """The accounts named by the account_id column of `source` (its rows matching `where`,
    an SQL condition over alias t). Each account once in source."""
    return Selection(source=source, source_where=where, params=params or {})


@dataclasses.dataclass
class AuditRows:
    """The per-account audit rows of a bulk change. SQL expressions over `c` (the change:
    account_id, user_id, npsn, kode_wilayah, state_before, state_after) and, for a
    selection with a source, `t` (its row). Default: `accounts.<verb>`, the caller's reason,
    the state before and after, as the single path writes."""

    action: str = ""
    reason: str = "%(reason)s"
    before: str = ""
    after: str = ""


@dataclasses.dataclass
class BulkChange:
    verb: str
    count: int = 0
    by_province: dict[str, int] = dataclasses.field(default_factory=dict)


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _states(values) -> str:
    return "(" + ", ".join(f"'{v}'" for v in sorted(str(s) for s in values)) + ")"


def target_sql(verb: str) -> str:
    """The new state as SQL over `a`: TRANSITIONS' target; None = back to active if the
    account was ever activated, else issued (as the single path)."""
    target = TRANSITIONS[verb][1]
    if target is None:
        return "CASE WHEN a.activated_at IS NOT NULL THEN 'active' ELSE 'issued' END"
    return f"'{target}'"


def _temp(cur, name: str, columns: str) -> None:
    cur.execute(f"DROP TABLE IF EXISTS {name}")
    cur.execute(f"CREATE TEMP TABLE {name} ({columns})" + (" ON COMMIT DROP" if _pg() else ""))


def transition_many(
    verb: str,
    accounts: Selection,
    *,
    actor: str,
    reason: str = "",
    audit_rows: AuditRows | str | None = None,
    also: tuple[str, ...] = (),
    params: dict | None = None,
) -> BulkChange:
    """`verb` for every selected account that TRANSITIONS allows; returns the count and the
    count per province (first two digits of the school's kode_wilayah).

    `also`: the caller's statements on its own tables for the changed accounts, run in the
    same transaction (the same statement on the PER_RUN path), reading `changed(id)`; e.g.
    the lifecycle records which accounts its run changed (`INSERT INTO ... SELECT id FROM changed`).
    """
    if verb not in BULK_SET:
        raise ValueError(f"{verb!r} has no bulk form")
    allowed = TRANSITIONS[verb][0]
    p = {
        **accounts.params,
        **(params or {}),
        "now": connection.ops.adapt_datetimefield_value(clock.now()),
        "reason": reason,
        "kind": str(VERB_KIND[verb]),
    }
    cond = f"({accounts.condition()}) AND a.state IN {_states(allowed)}"
    with transaction.atomic(), connection.cursor() as cur:
        if audit_rows == PER_RUN and _pg():
            return _per_run_pg(cur, verb, cond, p, also, actor, reason)
        return _with_temp(cur, verb, cond, accounts, p, audit_rows, also, actor, reason)


def _per_run_pg(cur, verb, cond, p, also, actor, reason) -> BulkChange:
    kind = VERB_KIND[verb]
    extra = "".join(f", also{i} AS ({sql})" for i, sql in enumerate(also))
    cur.execute(
        f"WITH changed AS (UPDATE {ACCOUNT} a SET state = {target_sql(verb)}, "
        f"state_changed_at = %(now)s{BULK_SET[verb]} WHERE {cond} "
        "RETURNING a.id, a.sekolah_id), "
        f"ev AS (INSERT INTO {stream.EVENT} (xid, kind, account_ids, count, at) "
        f"SELECT {stream.xid_sql()}, %(kind)s, ids, n, %(now)s FROM ("
        f"SELECT {stream.ids_list_sql('id')} AS ids, count(*) AS n FROM changed) agg "
        "WHERE n > 0 "
        f"RETURNING id){extra} "
        f"SELECT {roster.province_sql('s')}, count(*), (SELECT id FROM ev) "
        f"FROM changed {roster.join_sekolah('changed.sekolah_id')} GROUP BY 1",
        p,
    )
    result = BulkChange(verb)
    event_id = None
    for prov, n, event in cur.fetchall():
        result.by_province[str(prov or "")] = int(n)
        result.count += int(n)
        event_id = event
    if result.count and stream.subscribed(kind):
        stream.notify(stream.change_of_event(kind, event_id, result.count, actor, reason))
    return result


def _with_temp(cur, verb, cond, accounts, p, audit_rows, also, actor, reason) -> BulkChange:
    _temp(
        cur,
        "acc_change",
        "account_id bigint PRIMARY KEY, user_id text, npsn text, kode_wilayah text, "
        "state_before text, state_after text",
    )
    lock = " FOR UPDATE OF a" if _pg() else ""
    cur.execute(
        "INSERT INTO acc_change SELECT a.id, a.user_id, COALESCE(s.npsn, ''), "
        f"COALESCE(s.kode_wilayah, ''), a.state, {target_sql(verb)} FROM {ACCOUNT} a "
        f"{roster.join_sekolah('a.sekolah_id')} WHERE {cond}{lock}",
        p,
    )
    cur.execute(
        f"UPDATE {ACCOUNT} SET state = (SELECT c.state_after FROM acc_change c "
        f"WHERE c.account_id = {ACCOUNT}.id), state_changed_at = %(now)s{BULK_SET[verb]} "
        "WHERE id IN (SELECT account_id FROM acc_change)",
        p,
    )
    if audit_rows != PER_RUN:
        spec = audit_rows or AuditRows()
        src = "acc_change c"
        if accounts.source:
            src += f" JOIN {accounts.source} t ON t.account_id = c.account_id"
            if accounts.source_where != "TRUE":
                src += f" WHERE {accounts.source_where}"
        audit.record_many(
            cur,
            spec.action or f"accounts.{verb}",
            actor=actor,
            source=src,
            params=p,
            object_id="c.user_id",
            npsn="c.npsn",
            kode_wilayah="c.kode_wilayah",
            reason=spec.reason,
            before=spec.before or audit.json_sql(state="c.state_before"),
            after=spec.after or audit.json_sql(state="c.state_after"),
        )
    stream.emit_many(
        cur, VERB_KIND[verb], "SELECT account_id FROM acc_change", {}, actor=actor, reason=reason
    )
    for sql in also:
        cur.execute(f"WITH changed(id) AS (SELECT account_id FROM acc_change) {sql}", p)
    result = BulkChange(verb)
    cur.execute("SELECT substr(kode_wilayah, 1, 2), count(*) FROM acc_change GROUP BY 1")
    for prov, n in cur.fetchall():
        result.by_province[str(prov or "")] = int(n)
        result.count += int(n)
    cur.execute("DROP TABLE IF EXISTS acc_change")
    return result


def move_many(
    source: str,
    *,
    actor: str,
    reason: str = "",
    audit_rows: AuditRows | None = None,
    params: dict | None = None,
) -> int:
    """School and role of the accounts in `source` (a table with account_id, sekolah_id,
    role, and the new school's npsn and kode_wilayah; alias t) set to its values; the user
    ID does not change. One MOVED event per account and one audit row (default
    `accounts.move`; SQL over t, c -- the account before -- and cs, its school before)."""
    p = {**(params or {}), "reason": reason}
    with transaction.atomic(), connection.cursor() as cur:
        spec = audit_rows or AuditRows(
            before=audit.json_sql(npsn="COALESCE(cs.npsn, '')", role="c.role"),
            after=audit.json_sql(npsn="t.npsn", role="t.role"),
        )
        audit.record_many(
            cur,
            spec.action or "accounts.move",
            actor=actor,
            source=(
                f"{source} t JOIN {ACCOUNT} c ON c.id = t.account_id "
                f"{roster.join_sekolah('c.sekolah_id', 'cs')}"
            ),
            params=p,
            object_id="c.user_id",
            npsn="COALESCE(t.npsn, '')",
            kode_wilayah="COALESCE(t.kode_wilayah, '')",
            reason=spec.reason,
            before=spec.before,
            after=spec.after,
        )
        cur.execute(
            f"UPDATE {ACCOUNT} SET "
            f"sekolah_id = (SELECT t.sekolah_id FROM {source} t "
            f"WHERE t.account_id = {ACCOUNT}.id), "
            f"role = (SELECT t.role FROM {source} t WHERE t.account_id = {ACCOUNT}.id) "
            f"WHERE id IN (SELECT account_id FROM {source})",
            p,
        )
        n = max(cur.rowcount, 0)
        stream.emit_many(
            cur,
            stream.Kind.MOVED,
            f"SELECT account_id FROM {source}",
            {},
            actor=actor,
            reason=reason,
        )
    return n
