"""The deletion path: inactivity, notices and reminders, and the deletion itself.

Timeline of one DeletionSchedule: created (by the roster pass or the inactivity sweep) ->
notice e-mailed, `delete_on` = notice day + AKUN_DELETION_NOTICE_DAYS -> reminders
AKUN_DELETION_REMINDER_DAYS before -> on `delete_on`, deleted. The deletion date is counted
from the day the notice actually went out, so a late job never shortens the notice.

Exactly once: each (schedule, kind, days_before, recipient) is one Notice row under a unique
constraint, inserted with ON CONFLICT DO NOTHING; a sender claims rows before sending.
A job that runs late sends what is due once (a reminder whose day has passed is still sent
while the deletion is ahead; none after it), a job that runs twice finds nothing new.
"""

import datetime as dt
import logging

from django.conf import settings
from django.core import mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import translation

from akun.accounts import api as accounts_api
from akun.accounts.api import Account
from akun.audit import api as audit
from akun.audit.api import Action
from akun.core import clock
from akun.lifecycle import conf, safety
from akun.lifecycle import sqlutil as q
from akun.lifecycle.base import RuleResult, finish_run, start_run
from akun.lifecycle.models import DeletionSchedule, Notice

log = logging.getLogger("akun.lifecycle")

# A claimed notice not marked sent after this long is taken to be lost (sender died).
RECLAIM_AFTER = dt.timedelta(hours=1)


def months_before(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    m += 1
    for d in (day.day, 30, 29, 28):  # clamp 31 March - 1 month to 28/29 February
        try:
            return dt.date(y, m, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def inactivity_cutoff() -> dt.datetime:
    """Accounts whose last sign-in is before this are inactive."""
    from django.utils import timezone

    day = months_before(clock.today(), conf.inactivity_months())
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# --- Inactivity ------------------------------------------------------------------------


def _cancel_signed_in(cur, actor: str, run_id) -> int:
    """Inactivity schedules of accounts that signed in since: cancelled."""
    q.create_temp(cur, "lc_c", "schedule_id bigint, user_id text, npsn text, kode_wilayah text")
    cur.execute(
        "INSERT INTO lc_c SELECT ds.id, a.user_id, COALESCE(s.npsn, ''), "
        "COALESCE(s.kode_wilayah, '') FROM lifecycle_deletionschedule ds "
        f"{q.JOIN_ACCOUNT} {q.JOIN_SEKOLAH} "
        "WHERE ds.status = 'pending' AND ds.reason = 'inactive' "
        "AND a.last_login IS NOT NULL AND a.last_login > ds.created_at"
    )
    cur.execute(
        "UPDATE lifecycle_deletionschedule SET status = 'cancelled', closed_at = %(now)s, "
        "closed_run = %(run)s, closed_reason = 'signed in again' "
        "WHERE id IN (SELECT schedule_id FROM lc_c)",
        {"now": q.dt(clock.now()), "run": run_id},
    )
    n = cur.rowcount
    audit.record_many(
        cur,
        Action.LIFECYCLE_INACTIVITY_CANCEL,
        actor=actor,
        source="lc_c t",
        reason="'signed in again: deletion cancelled'",
        before=q.json_obj(deletion="'scheduled'"),
        after=q.json_obj(deletion="'cancelled'"),
    )
    q.drop_temp(cur, "lc_c")
    return max(n, 0)


def inactivity_sweep(*, actor: str, dry_run: bool = False) -> RuleResult:
    """Active accounts with no sign-in for AKUN_INACTIVITY_MONTHS: on the deletion path
    (not suspended: signing in again is how the person keeps the account)."""
    result = RuleResult("inactivity", dry_run=dry_run)
    cutoff = q.dt(inactivity_cutoff())
    where = (
        "a.state = 'active' AND COALESCE(a.last_login, a.activated_at, a.issued_at) < %(cutoff)s "
        "AND NOT EXISTS (SELECT 1 FROM lifecycle_deletionschedule ds "
        "WHERE ds.account_id = a.id AND ds.status = 'pending')"
    )
    p = {"cutoff": cutoff}
    with connection.cursor() as cur:
        counts = q.by_province(
            cur,
            f"SELECT {q.PROV}, count(*) FROM {q.ACCOUNTS} {q.JOIN_SEKOLAH} WHERE {where} "
            "GROUP BY 1",
            p,
        )
        if dry_run:
            result.add("schedule_inactive", counts)
            return result
        totals = q.province_totals(cur) if counts else {}
    run = start_run(result.rule, actor)
    gate = safety.gate(result.rule, counts, totals, actor=actor)
    result.held = sorted(gate.blocked)
    with transaction.atomic(), connection.cursor() as cur:
        cancelled = _cancel_signed_in(cur, actor, run.pk)
        if cancelled:
            result.counts[("cancel_signed_in", "*")] += cancelled
        q.create_temp(cur, "lc_i", "account_id bigint, user_id text, npsn text, kode_wilayah text")
        cur.execute(
            "INSERT INTO lc_i SELECT a.id, a.user_id, COALESCE(s.npsn, ''), "
            f"COALESCE(s.kode_wilayah, '') FROM {q.ACCOUNTS} {q.JOIN_SEKOLAH} "
            f"WHERE {where} AND {q.not_blocked(gate.blocked)}{q.for_update()}",
            p,
        )
        cur.execute(
            "INSERT INTO lifecycle_deletionschedule (account_id, reason, status, created_at, "
            "created_run, suspended, prior_state, closed_reason) "
            "SELECT account_id, 'inactive', 'pending', %(now)s, %(run)s, FALSE, 'active', '' "
            "FROM lc_i",
            {"now": q.dt(clock.now()), "run": run.pk},
        )
        audit.record_many(
            cur,
            Action.LIFECYCLE_INACTIVITY_SCHEDULE_DELETION,
            actor=actor,
            source="lc_i t",
            reason=f"'no sign-in for {conf.inactivity_months()} months'",
            before=q.json_obj(state="'active'"),
            after=q.json_obj(state="'active'", deletion="'scheduled'"),
        )
        result.add(
            "schedule_inactive",
            q.by_province(cur, "SELECT substr(kode_wilayah, 1, 2), count(*) FROM lc_i GROUP BY 1"),
        )
        q.drop_temp(cur, "lc_i")
        gate.mark_used()
    finish_run(run, result, actor=actor)
    return result


# --- Notices ---------------------------------------------------------------------------


def _due_notices_sql(today: dt.date) -> tuple[str, dict]:
    """(kind, days_before, schedule) rows that are due and not yet recorded, as one SELECT."""
    parts = [
        "SELECT ds.id AS schedule_id, 'notice' AS kind, %(nd)s AS days_before "
        "FROM lifecycle_deletionschedule ds WHERE ds.status = 'pending' "
        "AND ds.notice_at IS NOT NULL"
    ]
    params = {"nd": conf.notice_days(), "today": q.date(today)}
    for i, days in enumerate(conf.reminder_days()):
        params[f"r{i}"] = days
        params[f"rd{i}"] = q.date(today + dt.timedelta(days=days))
        parts.append(
            f"SELECT ds.id, 'reminder', %(r{i})s FROM lifecycle_deletionschedule ds "
            "WHERE ds.status = 'pending' AND ds.notice_at IS NOT NULL "
            f"AND ds.delete_on <= %(rd{i})s AND ds.delete_on > %(today)s"
        )
    return " UNION ALL ".join(parts), params


def _record_due(cur, today: dt.date) -> None:
    """Give pending schedules without a notice their notice day and deletion date, then
    record every due notice/reminder per recipient (ON CONFLICT DO NOTHING: once only)."""
    cur.execute(
        "UPDATE lifecycle_deletionschedule SET notice_at = %(now)s, delete_on = %(on)s "
        "WHERE status = 'pending' AND notice_at IS NULL",
        {"now": q.dt(clock.now()), "on": q.date(today + dt.timedelta(days=conf.notice_days()))},
    )
    due, params = _due_notices_sql(today)
    params["now"] = q.dt(clock.now())
    for to, address, extra in (
        ("account", "a.user_id", ""),
        ("recovery", "a.recovery_email", ""),
        # SMS only to a phone the holder verified with a code (identity's Akun Saya).
        ("sms", "a.recovery_phone", " AND a.recovery_phone_verified_at IS NOT NULL"),
    ):
        cur.execute(
            "INSERT INTO lifecycle_notice (schedule_id, kind, days_before, recipient, address, "
            f"created_at) SELECT due.schedule_id, due.kind, due.days_before, '{to}', {address}, "
            f"%(now)s FROM ({due}) due JOIN lifecycle_deletionschedule ds "
            f"ON ds.id = due.schedule_id {q.JOIN_ACCOUNT} "
            f"WHERE {address} <> '' AND a.state <> 'deleted'{extra} "
            "ON CONFLICT (schedule_id, kind, days_before, recipient) DO NOTHING",
            params,
        )


def _claim(limit: int) -> list[int]:
    now = clock.now()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "UPDATE lifecycle_notice SET claimed_at = %(now)s WHERE id IN ("
            "SELECT id FROM lifecycle_notice WHERE sent_at IS NULL AND (claimed_at IS NULL "
            f"OR claimed_at < %(stale)s) ORDER BY id LIMIT {int(limit)}"
            f"{' FOR UPDATE SKIP LOCKED' if q.pg() else ''}) RETURNING id",
            {"now": q.dt(now), "stale": q.dt(now - RECLAIM_AFTER)},
        )
        return [r[0] for r in cur.fetchall()]


def _render(notice: Notice, account: Account, schedule: DeletionSchedule) -> tuple[str, str]:
    """Subject and body: Indonesian first, then English, in one message."""
    ctx = {
        "account": account,
        "schedule": schedule,
        "notice": notice,
        "delete_on": schedule.delete_on,
        "days_left": (schedule.delete_on - clock.today()).days,
        "reason": schedule.reason,
        "to_recovery": notice.recipient == Notice.To.RECOVERY,
        "inactivity_months": conf.inactivity_months(),
    }
    subjects, bodies = [], []
    for lang in ("id", "en"):
        with translation.override(lang):
            subjects.append(
                render_to_string(f"lifecycle/email/{notice.kind}_subject.txt", ctx).strip()
            )
            bodies.append(render_to_string(f"lifecycle/email/{notice.kind}.txt", ctx))
    return " / ".join(subjects), "\n\n-----\n\n".join(b.strip() for b in bodies) + "\n"


def _render_sms(notice: Notice, account: Account, schedule: DeletionSchedule) -> str:
    """One short text: Indonesian first, then English."""
    ctx = {
        "account": account,
        "delete_on": schedule.delete_on,
        "days_left": (schedule.delete_on - clock.today()).days,
        "reason": schedule.reason,
        "reminder": notice.kind == Notice.Kind.REMINDER,
    }
    parts = []
    for lang in ("id", "en"):
        with translation.override(lang):
            text = render_to_string("lifecycle/sms/notice.txt", ctx)
            parts.append(" ".join(text.split()))
    return " / ".join(parts)


def _send_sms(notices: list[tuple[Notice, str]]) -> set[int]:
    """Through the SMS sender (akun.core.sms); a failed one stays claimed and is retried after
    RECLAIM_AFTER (no double send: it was never marked sent)."""
    from akun.core.sms import send_sms

    failed = set()
    for n, text in notices:
        try:
            send_sms(n.address, text)
        except Exception:
            log.exception("lifecycle notice %s: SMS to %s failed", n.pk, n.address)
            failed.add(n.pk)
    return failed


def send_notices(*, actor: str, dry_run: bool = False, chunk: int = 500) -> RuleResult:
    result = RuleResult("notices", dry_run=dry_run)
    today = clock.today()
    if dry_run:
        due, params = _due_notices_sql(today)
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM lifecycle_deletionschedule WHERE status = 'pending' "
                "AND notice_at IS NULL"
            )
            result.counts[("notice_new", "*")] += cur.fetchone()[0]
            cur.execute(
                f"SELECT count(*) FROM ({due}) due WHERE NOT EXISTS (SELECT 1 FROM "
                "lifecycle_notice n WHERE n.schedule_id = due.schedule_id AND n.kind = due.kind "
                "AND n.days_before = due.days_before)",
                params,
            )
            result.counts[("reminder_due", "*")] += cur.fetchone()[0]
        return result
    run = start_run(result.rule, actor)
    with transaction.atomic(), connection.cursor() as cur:
        _record_due(cur, today)
    sent = sent_sms = 0
    while ids := _claim(chunk):
        notices = list(Notice.objects.filter(pk__in=ids).select_related("schedule"))
        accounts = Account.objects.in_bulk([n.schedule.account_id for n in notices])
        messages, sms, done = [], [], []
        for n in notices:
            account = accounts.get(n.schedule.account_id)
            if account is None or account.state == Account.State.DELETED or not n.address:
                done.append(n.pk)  # nothing to send to any more
                continue
            if n.recipient == Notice.To.SMS:
                sms.append((n, _render_sms(n, account, n.schedule)))
                done.append(n.pk)
                continue
            subject, body = _render(n, account, n.schedule)
            messages.append(
                mail.EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [n.address])
            )
            done.append(n.pk)
        with mail.get_connection() as conn:
            conn.send_messages(messages)
        failed = _send_sms(sms)
        Notice.objects.filter(pk__in=[pk for pk in done if pk not in failed]).update(
            sent_at=clock.now()
        )
        sent += len(messages)
        sent_sms += len(sms) - len(failed)
        for n in notices:
            if n.pk not in failed:
                result.counts[(f"sent_{n.kind}", "*")] += 1
    log.info("lifecycle notices: %s e-mails and %s SMS sent", sent, sent_sms)
    finish_run(run, result, actor=actor)
    return result


# --- Deletion --------------------------------------------------------------------------


def run_deletions(*, actor: str, dry_run: bool = False) -> RuleResult:
    """Schedules whose day has come (and whose notice went out): personal data removed from
    the account, user ID kept reserved, the audit kept -- as accounts' do_delete_account,
    set-based."""
    result = RuleResult("deletions", dry_run=dry_run)
    where = (
        "ds.status = 'pending' AND ds.delete_on <= %(today)s AND NOT EXISTS ("
        "SELECT 1 FROM lifecycle_notice n WHERE n.schedule_id = ds.id AND n.kind = 'notice' "
        "AND n.sent_at IS NULL)"
    )
    p = {"today": q.date(clock.today()), "now": q.dt(clock.now())}
    with connection.cursor() as cur:
        if dry_run:
            result.add(
                "delete",
                q.by_province(
                    cur,
                    f"SELECT {q.PROV}, count(*) FROM lifecycle_deletionschedule ds "
                    f"{q.JOIN_ACCOUNT} {q.JOIN_SEKOLAH} WHERE {where} "
                    "GROUP BY 1",
                    p,
                ),
            )
            return result
    run = start_run(result.rule, actor)
    p["run"] = run.pk
    with transaction.atomic(), connection.cursor() as cur:
        q.create_temp(
            cur,
            "lc_d",
            "schedule_id bigint, account_id bigint, user_id text, npsn text, kode_wilayah text, "
            "state text, reason text",
        )
        cur.execute(
            "INSERT INTO lc_d SELECT ds.id, a.id, a.user_id, COALESCE(s.npsn, ''), "
            "COALESCE(s.kode_wilayah, ''), a.state, ds.reason FROM lifecycle_deletionschedule ds "
            f"{q.JOIN_ACCOUNT} {q.JOIN_SEKOLAH} WHERE {where}"
            f"{q.for_update()}",
            p,
        )
        # As accounts' do_delete_account, set-based (TRANSITIONS: not twice).
        accounts_api.transition_many(
            "delete",
            accounts_api.rows_of("lc_d"),
            actor=actor,
            audit_rows=accounts_api.AuditRows(action=Action.LIFECYCLE_DELETE, reason="t.reason"),
        )
        cur.execute(
            "UPDATE lifecycle_deletionschedule SET status = 'done', closed_at = %(now)s, "
            "closed_run = %(run)s, closed_reason = 'deleted' "
            "WHERE id IN (SELECT schedule_id FROM lc_d)",
            p,
        )
        # The recovery address in the notice log is personal data too.
        cur.execute(
            "UPDATE lifecycle_notice SET address = '' WHERE recipient IN ('recovery', 'sms') "
            "AND schedule_id IN (SELECT schedule_id FROM lc_d)"
        )
        result.add(
            "delete",
            q.by_province(cur, "SELECT substr(kode_wilayah, 1, 2), count(*) FROM lc_d GROUP BY 1"),
        )
        q.drop_temp(cur, "lc_d")
    finish_run(run, result, actor=actor)
    return result


def do_cancel_deletion(account: Account, *, actor: str, reason: str) -> DeletionSchedule:
    """An admin takes an account off the deletion path (and undoes the pass's suspension)."""
    from akun.accounts.api import do_unsuspend_account

    with transaction.atomic():
        schedule = DeletionSchedule.objects.select_for_update().get(
            account_id=account.pk, status=DeletionSchedule.Status.PENDING
        )
        schedule.status = DeletionSchedule.Status.CANCELLED
        schedule.closed_at = clock.now()
        schedule.closed_reason = reason
        schedule.save()
        account.refresh_from_db()
        if schedule.suspended and account.state == Account.State.SUSPENDED:
            do_unsuspend_account(account, actor=actor, reason=f"deletion cancelled: {reason}")
        audit.record(
            Action.LIFECYCLE_CANCEL_DELETION,
            actor=actor,
            object_type="account",
            object_id=account.user_id,
            reason=reason,
            before={"deletion": "scheduled", "reason": schedule.reason},
            after={"deletion": "cancelled"},
        )
    return schedule


def pending_deletion(account: Account) -> DeletionSchedule | None:
    return DeletionSchedule.objects.filter(
        account_id=account.pk, status=DeletionSchedule.Status.PENDING
    ).first()
