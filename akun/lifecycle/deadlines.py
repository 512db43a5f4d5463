"""Activation deadlines per issuance cohort, and the sweep that deactivates what nobody
activated in time.

Cohort = a range of issue runs (accounts.IssueRun ids). `deadline set --date D` without
--cohort takes every issue run after the last cohort's; `--cohort 3` or `--cohort 3-7`
names runs explicitly (setting it again changes the date).

The rule: an account of the cohort that is `issued` at the end of day D (Asia/Jakarta) and
has been since before then (state_changed_at < end of D) becomes `deactivated`. The second
half matters for accounts an operator reactivated after the deadline: they start afresh in
`issued` and are not swept again by the old deadline. Activated accounts are never touched
(the UPDATE only matches `issued`).

Audit: one audit row per run (who, when, which cohorts, counts per province) plus a stamp
per deactivated account (lifecycle.RunAccount: account, run), written by the same statement
as the UPDATE. A full audit row per account costs as much as the UPDATE itself (the audit
table has ten indexes) and would say nothing the run row does not; `history(account)` joins
stamps and runs for the helpdesk.
"""

import datetime as dt

from django.db import connection, transaction
from django.utils import timezone

from akun.accounts.api import Account, IssueRun
from akun.audit import api as audit
from akun.core import clock
from akun.lifecycle import conf, safety
from akun.lifecycle import sqlutil as q
from akun.lifecycle.base import RuleResult, finish_run, start_run
from akun.lifecycle.models import ActivationDeadline

RULE = "deadline"


class CohortError(ValueError):
    pass


def deadline_end(day: dt.date) -> dt.datetime:
    """The first instant after the deadline day, in the platform's time zone."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def parse_cohort(text: str) -> tuple[int, int]:
    try:
        if "-" in text:
            a, b = text.split("-", 1)
            first, last = int(a), int(b)
        else:
            first = last = int(text)
    except ValueError as e:
        raise CohortError(
            f"a cohort is an issue run or a range of them (3 or 3-7), not {text!r}"
        ) from e
    if first > last:
        raise CohortError(f"cohort {text}: the first run comes after the last")
    return first, last


def do_set_deadline(
    day: dt.date, *, cohort: str = "", actor: str, reason: str = ""
) -> ActivationDeadline:
    with transaction.atomic():
        # One writer at a time: cohorts must not overlap.
        existing = list(ActivationDeadline.objects.select_for_update().order_by("first_run"))
        if cohort:
            first, last = parse_cohort(cohort)
        else:
            after = max((d.last_run for d in existing), default=0)
            runs = IssueRun.objects.filter(pk__gt=after).order_by("pk")
            if not runs.exists():
                raise CohortError(
                    "every issue run already has a deadline; name one with --cohort RUN[-RUN]"
                )
            first, last = runs.first().pk, runs.last().pk
        same = next((d for d in existing if (d.first_run, d.last_run) == (first, last)), None)
        for d in existing:
            if d is not same and d.first_run <= last and first <= d.last_run:
                raise CohortError(f"cohort {first}-{last} overlaps cohort {d.cohort}")
        before = {"deadline": same.deadline.isoformat()} if same else None
        if same:
            same.deadline, same.set_by, same.set_at = day, actor, clock.now()
            same.save()
            obj = same
        else:
            obj = ActivationDeadline.objects.create(
                first_run=first, last_run=last, deadline=day, set_by=actor, set_at=clock.now()
            )
        audit.record(
            "lifecycle.deadline_set",
            actor=actor,
            object_type="activation_deadline",
            object_id=obj.cohort,
            reason=reason,
            before=before,
            after={"cohort": obj.cohort, "deadline": day.isoformat()},
        )
    return obj


def _condition(deadlines) -> tuple[str, dict]:
    parts, params = [], {}
    for i, d in enumerate(deadlines):
        parts.append(
            f"(a.issue_run BETWEEN %(f{i})s AND %(l{i})s AND a.state_changed_at < %(e{i})s)"
        )
        params.update(
            {f"f{i}": d.first_run, f"l{i}": d.last_run, f"e{i}": q.dt(deadline_end(d.deadline))}
        )
    return "a.state = 'issued' AND (" + " OR ".join(parts) + ")", params


def sweep(*, actor: str, dry_run: bool = False, batch_rows: int | None = None) -> RuleResult:
    result = RuleResult(RULE, dry_run=dry_run)
    due = list(ActivationDeadline.objects.filter(deadline__lt=clock.today()))
    if not due:
        return result
    cond, params = _condition(due)
    with connection.cursor() as cur:
        counts = q.by_province(
            cur,
            f"SELECT {q.PROV}, count(*) FROM {q.ACCOUNT} a {q.JOIN_SEKOLAH} WHERE {cond} "
            "GROUP BY 1",
            params,
        )
        if dry_run or not counts:
            result.add("deactivate", counts)
            return result
        totals = q.province_totals(cur)
    run = start_run(RULE, actor)
    gate = safety.gate(RULE, counts, totals, actor=actor)
    result.held = sorted(gate.blocked)
    where = f"{cond} AND {q.not_blocked(gate.blocked)}"
    with connection.cursor() as cur:
        ranges = q.id_ranges(cur, batch_rows or conf.batch_rows(), cond, params)
    for lo, hi in ranges:
        result.add("deactivate", _deactivate_range(where, params, lo, hi, actor, run.pk))
    gate.mark_used()
    cohorts = ", ".join(f"{d.cohort} ({d.deadline})" for d in due)
    finish_run(run, result, actor=actor, reason=f"activation deadline passed: cohorts {cohorts}")
    return result


_REASON = "activation deadline passed (run {run})"


def _deactivate_range(where, params, lo, hi, actor, run_id) -> dict[str, int]:
    """One batch: UPDATE the batch's accounts that match, stamp each with the run."""
    p = {**params, "lo": lo, "hi": hi, "now": q.dt(clock.now()), "run": int(run_id)}
    with transaction.atomic(), connection.cursor() as cur:
        if q.pg():
            # A lost batch on a crash is redone by the next run (the sweep is idempotent),
            # so this transaction need not wait for its WAL flush.
            cur.execute("SET LOCAL synchronous_commit = off")
            # The UPDATE re-checks its condition on rows changed concurrently (an activation
            # meanwhile is left alone); its RETURNING feeds the stamps and the counts.
            cur.execute(
                f"WITH upd AS (UPDATE {q.ACCOUNT} a SET state = 'deactivated', "
                "state_changed_at = %(now)s "
                f"WHERE a.id >= %(lo)s AND a.id < %(hi)s AND {where} "
                "RETURNING a.id, a.sekolah_id), "
                "ins AS (INSERT INTO lifecycle_runaccount (account_id, run_id) "
                "SELECT id, %(run)s FROM upd) "
                f"SELECT {q.PROV}, count(*) FROM upd LEFT JOIN {q.SEKOLAH} s "
                "ON s.sekolah_id = upd.sekolah_id GROUP BY 1",
                p,
            )
            return {str(prov or ""): int(n) for prov, n in cur.fetchall()}
        # SQLite: the IMMEDIATE transaction holds the write lock; select, then update.
        q.create_temp(cur, "lc_t", "account_id bigint, kode_wilayah text")
        cur.execute(
            f"INSERT INTO lc_t SELECT a.id, COALESCE(s.kode_wilayah, '') FROM {q.ACCOUNT} a "
            f"{q.JOIN_SEKOLAH} WHERE a.id >= %(lo)s AND a.id < %(hi)s AND {where}",
            p,
        )
        cur.execute(
            f"UPDATE {q.ACCOUNT} SET state = 'deactivated', state_changed_at = %(now)s "
            "WHERE id IN (SELECT account_id FROM lc_t)",
            p,
        )
        cur.execute(
            "INSERT INTO lifecycle_runaccount (account_id, run_id) "
            "SELECT account_id, %(run)s FROM lc_t",
            p,
        )
        counts = q.by_province(
            cur, "SELECT substr(kode_wilayah, 1, 2), count(*) FROM lc_t GROUP BY 1"
        )
        q.drop_temp(cur, "lc_t")
    return counts


def countdown(*, sekolah_id=None, kode_wilayah: str = "") -> list[dict]:
    """For the operators' pages: each cohort's deadline, the days left (negative once past)
    and how many accounts (of the school, or region prefix, or all) still wait for activation.
    """
    today = clock.today()
    rows = []
    for d in ActivationDeadline.objects.order_by("deadline", "first_run"):
        accounts = Account.objects.filter(
            state=Account.State.ISSUED, issue_run__gte=d.first_run, issue_run__lte=d.last_run
        )
        if sekolah_id is not None:
            accounts = accounts.filter(sekolah_id=sekolah_id)
        elif kode_wilayah:
            accounts = accounts.filter(sekolah__kode_wilayah__startswith=kode_wilayah)
        rows.append(
            {
                "cohort": d.cohort,
                "deadline": d.deadline,
                "days_left": (d.deadline - today).days,
                "passed": d.deadline < today,
                "not_activated": accounts.count(),
            }
        )
    return rows


def deadline_of(account) -> ActivationDeadline | None:
    """The deadline that applies to one account (None: no cohort deadline for it)."""
    if account.issue_run is None:
        return None
    return ActivationDeadline.objects.filter(
        first_run__lte=account.issue_run, last_run__gte=account.issue_run
    ).first()


def history(account) -> list[dict]:
    """The stamped runs that changed an account (mass sweeps), oldest first, with the run's
    rule, time, actor and reason (from its audit row)."""
    from akun.audit.api import AuditEvent
    from akun.lifecycle.models import Run, RunAccount

    run_ids = list(
        RunAccount.objects.filter(account_id=account.pk).values_list("run_id", flat=True)
    )
    reasons = dict(
        AuditEvent.objects.filter(
            object_type="lifecycle_run", object_id__in=[str(r) for r in run_ids]
        ).values_list("object_id", "reason")
    )
    return [
        {"run": r.pk, "rule": r.rule, "at": r.started_at, "actor": r.actor,
         "reason": reasons.get(str(r.pk), "")}
        for r in Run.objects.filter(pk__in=run_ids).order_by("started_at")
    ]  # fmt: skip
