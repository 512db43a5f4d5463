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

Speed (PostgreSQL): no index of the accounts table names `state`, so a state change can be
a HOT update (new row version on the same page, no index entry), but only where the page
has room for it: fillfactor 80 leaves a fifth of each page free, so one transaction can
give at most about a fifth of a page's rows a new version there; the rest went to other
pages and into all four indexes (measured: 44% HOT). So the sweep walks the table in
physical order (ranges of pages) and, when more than a fifth of the accounts are to change,
does each range in up to ROUNDS transactions, each taking the rows whose line pointer
number falls in its round (a fifth of each page); once a round has committed, the next
one's read of the page prunes the old versions and frees their space: ~100% HOT, a third
of the WAL. A last UPDATE over the whole table takes whatever a concurrent update moved
meanwhile (only if some account counted at the start is not done), so the result is
exactly that of one UPDATE.
"""

import datetime as dt
import math

from django.db import connection, transaction
from django.utils import timezone

from akun.accounts import api as accounts_api
from akun.accounts.api import Account, IssueRun
from akun.audit import api as audit
from akun.audit.api import Action
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
            Action.LIFECYCLE_DEADLINE_SET,
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
        # One scan: what the sweep would do, and the safety stop's base (province totals).
        cur.execute(
            f"SELECT {q.PROV}, count(*) FILTER (WHERE {cond}), count(*) FROM {q.ACCOUNTS} "
            f"{q.JOIN_SEKOLAH} WHERE a.state <> 'deleted' GROUP BY 1",
            params,
        )
        rows = cur.fetchall()
    counts = {str(p or ""): int(n) for p, n, _ in rows if n}
    totals = {str(p or ""): int(t) for p, _, t in rows}
    if dry_run or not counts:
        result.add("deactivate", counts)
        return result
    run = start_run(RULE, actor)
    gate = safety.gate(RULE, counts, totals, actor=actor)
    result.held = sorted(gate.blocked)
    where = f"{cond} AND {q.not_blocked(gate.blocked)}"
    batch = batch_rows or conf.batch_rows()
    if q.pg():
        rounds = rounds_for(sum(counts.values()) / max(1, sum(totals.values())))
        for part in _physical_batches(batch):
            result.add("deactivate", _deactivate_pg(where, part, params, run.pk, rounds, actor))
        # The matching set only shrinks (activations; nothing becomes `issued` with an old
        # state_changed_at), so if every account counted above is done, none was missed.
        # Otherwise one UPDATE of the whole table takes rows that a concurrent update moved
        # behind the walk (or finds that they were activated).
        wanted = sum(n for prov, n in counts.items() if prov not in gate.blocked)
        if result.total("deactivate") < wanted:
            result.add("deactivate", _deactivate_pg(where, "TRUE", params, run.pk, 1, actor))
    else:
        with connection.cursor() as cur:
            ranges = q.id_ranges(cur, batch, cond, params)
        for lo, hi in ranges:
            result.add("deactivate", _deactivate_range(where, params, lo, hi, actor, run.pk))
    gate.mark_used()
    cohorts = ", ".join(f"{d.cohort} ({d.deadline})" for d in due)
    finish_run(run, result, actor=actor, reason=f"activation deadline passed: cohorts {cohorts}")
    return result


_REASON = "activation deadline passed (run {run})"
# Transactions per range of pages: each changes at most ~1/ROUNDS of a page's rows, which
# fits the page's free space (fillfactor 80: a fifth), so the new versions are HOT.
ROUNDS = 5


def _physical_batches(batch_rows: int) -> list[str]:
    """Conditions on `a.ctid`: ranges of pages of ~batch_rows accounts in table order, the
    last one open-ended (pages added meanwhile)."""
    with connection.cursor() as cur:
        relpages, reltuples, pages = accounts_api.table_pages(cur)
    per_page = reltuples / relpages if relpages > 0 and reltuples > 0 else 10
    step = max(1, int(batch_rows / per_page))
    parts = [
        f"a.ctid >= '({lo},0)'::tid AND a.ctid < '({lo + step},0)'::tid"
        for lo in range(0, pages, step)
    ]
    last = len(parts) * step
    return [*parts, f"a.ctid >= '({last},0)'::tid"]


def _deactivate_pg(where, part, params, run_id, rounds: int, actor: str) -> dict[str, int]:
    """One range of pages in `rounds` transactions, each taking the matching rows whose line
    pointer number modulo `rounds` is its own. Each is a TID range scan: reading a page
    prunes what the previous round left dead (a TID scan by address would not). The
    whole-table part is a plain UPDATE."""
    conds = [f"{part} AND {where}"]
    if part != "TRUE" and rounds > 1:
        conds = [
            f"{part} AND {where} AND (a.ctid::text::point)[1]::int %% {rounds} = {r}"
            for r in range(rounds)
        ]
    counts: dict[str, int] = {}
    for cond in conds:
        for prov, n in _deactivate_pg_once(cond, params, run_id, actor):
            counts[prov] = counts.get(prov, 0) + n
    return counts


def rounds_for(share: float) -> int:
    """Rounds so that each changes at most a fifth of a page's rows, if the rows to change
    are spread evenly: all of them 5, 40% 2, a fifth or less 1."""
    return max(1, min(ROUNDS, math.ceil(share * ROUNDS - 1e-9)))


# The stamp per account (lifecycle's own table), written by the statement of the change.
_STAMP = "INSERT INTO lifecycle_runaccount (account_id, run_id) SELECT id, %(run)s FROM changed"


def _deactivate(where, params, run_id, actor) -> dict[str, int]:
    """accounts' transition_many: state, the change events and the stamps in one statement
    (PostgreSQL), audited by the run's row (PER_RUN). It re-checks its condition on rows
    changed concurrently (an activation meanwhile is left alone)."""
    change = accounts_api.transition_many(
        "deactivate",
        accounts_api.where(where, params),
        actor=actor,
        reason=_REASON.format(run=run_id),
        audit_rows=accounts_api.PER_RUN,
        also=(_STAMP,),
        params={"run": int(run_id)},
    )
    return change.by_province


def _deactivate_pg_once(where, params, run_id, actor) -> list[tuple[str, int]]:
    with transaction.atomic():
        if q.pg():
            # A lost batch on a crash is redone by the next run (the sweep is idempotent),
            # so this transaction need not wait for its WAL flush.
            with connection.cursor() as cur:
                cur.execute("SET LOCAL synchronous_commit = off")
        return list(_deactivate(where, params, run_id, actor).items())


def _deactivate_range(where, params, lo, hi, actor, run_id) -> dict[str, int]:
    """SQLite: one batch of ids; the IMMEDIATE transaction holds the write lock."""
    with transaction.atomic():
        return _deactivate(f"a.id >= %(lo)s AND a.id < %(hi)s AND {where}",
                           {**params, "lo": lo, "hi": hi}, run_id, actor)  # fmt: skip


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
