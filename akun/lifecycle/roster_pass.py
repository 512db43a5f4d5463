"""After each roster import: accounts follow the people in the roster.

The pass compares, set-based, what the roster now says each person should have (the
eligibility rules of akun.accounts, as SQL: one row per person and jenjang with school and
role) with the accounts that exist:

- new eligibility (a student now at SMP, a PTK now also at an SMA): `issue_accounts`, which
  issues exactly what is missing;
- an account whose person still has it at the same jenjang but at another school or with
  another role (a PTK who moved SD -> SD, a teacher who became head): it *follows*: school
  and role change, the user ID does not (see docs/lifecycle.md, "Role changes");
- an account whose person no longer has that jenjang: put on the deletion path with the
  reason -- `moved_level` (the person has an account at another jenjang now; the old one
  stays usable so they can move their data), or `school_closed`, `departed`, `not_eligible`
  (the account is also suspended);
- a person who comes back before the deletion: the schedule is cancelled and a suspension
  this pass made is undone -- the same account, same user ID. Someone first marked
  `departed` who turns up at another jenjang is re-marked `moved_level` and unsuspended.

Incremental: the pass remembers (RosterMark) up to which import run it has looked, and then
compares only the people that later imports touched -- a roster row of theirs (any of a
PTK's rows) added, changed or departed, or a row of a school where they have a roster row
or an account -- plus the accounts whose deletion schedule was closed since (cancelled: the
full pass would schedule them again). For everybody else the full pass would find nothing
to do: their accounts are as the last pass left them. No mark (the first pass), `full=True`
or `akun lifecycle run roster --full` (after a change of the eligibility rules): the full
comparison. A pass that the safety stop held somewhere keeps the old mark, so the held
people are looked at again. A pass issues only to the people of its comparison who lack an
account, by id (a scoped pass: the whole roster after a deletion, since a deleted account no
longer names its person, whose jenjang it has freed; any pass: the whole roster when more
than ISSUE_BY_LIST_UP_TO people lack one, as before the first issuance).
"""

import datetime as dt
import logging

from django.db import connection, transaction
from django.db.models import Max, Min

from akun.accounts import api as accounts_api
from akun.accounts.api import issue_accounts
from akun.audit import api as audit
from akun.audit.api import Action
from akun.core import clock
from akun.lifecycle import safety
from akun.lifecycle import sqlutil as q
from akun.lifecycle.base import RuleResult, finish_run, start_run
from akun.lifecycle.models import DeletionSchedule, RosterMark
from akun.roster import api as roster_api
from akun.roster.api import ImportRun, graduation_sql, level_change_sql, open_window

log = logging.getLogger("akun.lifecycle")

RULE = "roster"
ROSTER_REASONS = ("moved_level", "departed", "school_closed", "not_eligible")
_MATCH = "d.person_type = a.person_type AND d.person_id = a.person_id AND d.jenjang = a.jenjang"
_PERSON = "a.person_id IS NOT NULL AND a.person_type IN ('peserta_didik', 'ptk')"
MARK = "roster"
# Schedules closed shortly before the last pass started may have committed after it read
# them: looked at again (few rows; the pass is idempotent).
CLOSED_MARGIN = dt.timedelta(days=1)


def _import_runs_done() -> int:
    """The highest import run id up to which every import run has finished, so that their
    roster changes are committed (0: none). Imports apply one at a time, but a later one can
    start while an earlier one still waits or runs; a killed one stays `running` until the
    next import marks it failed."""
    running = ImportRun.objects.filter(status=ImportRun.Status.RUNNING).aggregate(n=Min("pk"))
    if running["n"] is not None:
        return running["n"] - 1
    return ImportRun.objects.aggregate(n=Max("pk"))["n"] or 0


def _build_scope(cur, after: int, closed_since) -> None:
    """lc_p: the people whose accounts this pass must look at (see the module doc)."""
    q.create_temp(
        cur,
        "lc_p",
        f"person_type text, person_id {q.uuid_type()}, PRIMARY KEY (person_id, person_type)",
    )
    cur.execute(
        f"INSERT INTO lc_p {roster_api.touched_people_sql()} "
        f"UNION SELECT a.person_type, a.person_id FROM {q.ACCOUNTS} "
        f"WHERE {_PERSON} AND a.sekolah_id IN ({roster_api.schools_changed_sql()}) "
        "UNION SELECT a.person_type, a.person_id FROM lifecycle_deletionschedule ds "
        f"{q.JOIN_ACCOUNT} "
        f"WHERE ds.closed_at >= %(since)s AND ds.status = 'cancelled' AND {_PERSON}",
        {"after": after, "since": q.dt(closed_since)},
    )
    cur.execute("ANALYZE lc_p")


def _scoped(sql: str, column: str, person_type: str) -> str:
    """Eligibility's SQL for the people of lc_p only: its key-range hook (`column >= %(lo)s`)
    becomes a semi-join, before any per-person window, so the rules stay those of
    akun.accounts.eligibility (and tests compare both)."""
    hook = f"{column} >= %(lo)s"
    if sql.count(hook) != 1:
        raise RuntimeError(f"eligibility SQL has no single {hook!r}: update _scoped()")
    return sql.replace(
        hook, f"{column} IN (SELECT person_id FROM lc_p WHERE person_type = '{person_type}')"
    )


def desired_sql(scoped: bool) -> tuple[str, str]:
    """(students, ptk): eligibility's queries for everybody, or for the people of lc_p."""
    students = accounts_api.students_sql(without_account=False, lo=scoped)
    ptk = accounts_api.ptk_sql(without_account=False, lo=scoped)
    if scoped:
        students = _scoped(students, "pd.peserta_didik_id", "peserta_didik")
        ptk = _scoped(ptk, "p.ptk_id", "ptk")
    return students, ptk


def _build_desired(cur, scoped: bool) -> None:
    u = q.uuid_type()
    q.create_temp(
        cur,
        "lc_desired",
        f"person_type text, person_id {u}, jenjang text, sekolah_id {u}, role text",
    )
    students, ptk = desired_sql(scoped)
    cur.execute(
        "INSERT INTO lc_desired SELECT 'peserta_didik', x.peserta_didik_id, x.jenjang, "
        f"x.sekolah_id, '{accounts_api.PESERTA_DIDIK}' FROM ({students}) x"
    )
    role = " ".join(f"WHEN {rank} THEN '{r}'" for rank, r in accounts_api.RANK_ROLE.items())
    cur.execute(
        "INSERT INTO lc_desired SELECT 'ptk', x.ptk_id, x.jenjang, x.sekolah_id, "
        f"CASE x.top_rank {role} END FROM ({ptk}) x"
    )
    cur.execute("CREATE INDEX lc_desired_person ON lc_desired (person_id, person_type, jenjang)")
    cur.execute("ANALYZE lc_desired")


def _build_follow(cur, lock: str) -> None:
    u = q.uuid_type()
    q.create_temp(
        cur,
        "lc_f",
        f"account_id bigint PRIMARY KEY, user_id text, npsn text, kode_wilayah text, "
        f"old_npsn text, old_role text, sekolah_id {u}, role text",
    )
    cur.execute(
        "INSERT INTO lc_f SELECT a.id, a.user_id, COALESCE(ns.npsn, ''), "
        "COALESCE(ns.kode_wilayah, ''), COALESCE(s.npsn, ''), a.role, d.sekolah_id, d.role "
        f"FROM {q.ACCOUNTS} JOIN lc_desired d ON {_MATCH} {q.JOIN_SEKOLAH} "
        f"{roster_api.join_sekolah('d.sekolah_id', 'ns')} "
        f"WHERE a.state <> 'deleted' AND {_PERSON} "
        f"AND (a.sekolah_id IS NULL OR a.sekolah_id <> d.sekolah_id OR a.role <> d.role){lock}"
    )


def _build_back(cur, lock: str) -> None:
    """Pending roster schedules whose person is eligible again: same jenjang (back) or, for a
    departure, another one (moved)."""
    q.create_temp(
        cur,
        "lc_b",
        "schedule_id bigint, account_id bigint, user_id text, npsn text, kode_wilayah text, "
        "old_state text, new_state text, what text",
    )
    cur.execute(
        "INSERT INTO lc_b SELECT ds.id, a.id, a.user_id, COALESCE(s.npsn, ''), "
        "COALESCE(s.kode_wilayah, ''), a.state, "
        "CASE WHEN ds.suspended AND a.state = 'suspended' THEN ds.prior_state ELSE a.state END, "
        f"CASE WHEN EXISTS (SELECT 1 FROM lc_desired d WHERE {_MATCH}) THEN 'back' "
        "ELSE 'moved' END "
        f"FROM lifecycle_deletionschedule ds {q.JOIN_ACCOUNT} "
        f"{q.JOIN_SEKOLAH} "
        f"WHERE ds.status = 'pending' AND ds.reason IN {q.in_list(ROSTER_REASONS)} "
        f"AND a.state <> 'deleted' AND ("
        f"EXISTS (SELECT 1 FROM lc_desired d WHERE {_MATCH}) OR (ds.reason <> 'moved_level' "
        "AND EXISTS (SELECT 1 FROM lc_desired d WHERE d.person_type = a.person_type "
        f"AND d.person_id = a.person_id))){lock}"
    )


def _build_gone(cur, lock: str, scoped: bool) -> None:
    q.create_temp(
        cur,
        "lc_g",
        "account_id bigint PRIMARY KEY, user_id text, npsn text, kode_wilayah text, "
        "state text, reason text, suspend boolean",
    )
    reason = (
        "CASE WHEN EXISTS (SELECT 1 FROM lc_desired d WHERE d.person_type = a.person_type "
        "AND d.person_id = a.person_id) THEN 'moved_level' "
        "WHEN s.departed_at IS NOT NULL THEN 'school_closed' "
        "WHEN a.person_type = 'peserta_didik' AND NOT "
        f"{roster_api.in_roster_sql('peserta_didik', 'a.person_id')} THEN 'departed' "
        "WHEN a.person_type = 'ptk' AND NOT "
        f"{roster_api.in_roster_sql('ptk', 'a.person_id')} THEN 'departed' "
        "ELSE 'not_eligible' END"
    )
    # Follow and back join lc_desired, which holds only the scope's people; gone is what
    # is *not* there, so it reads the scope's accounts (by the person index) explicitly.
    accounts = q.ACCOUNTS
    if scoped:
        accounts = (
            f"lc_p p JOIN {q.ACCOUNTS} ON a.person_type = p.person_type "
            "AND a.person_id = p.person_id"
        )
    cur.execute(
        f"INSERT INTO lc_g SELECT account_id, user_id, npsn, kode_wilayah, state, reason, "
        "CASE WHEN reason <> 'moved_level' AND state IN ('issued', 'active') THEN TRUE "
        "ELSE FALSE END FROM ("
        "SELECT a.id AS account_id, a.user_id, COALESCE(s.npsn, '') AS npsn, "
        f"COALESCE(s.kode_wilayah, '') AS kode_wilayah, a.state, {reason} AS reason "
        f"FROM {accounts} {q.JOIN_SEKOLAH} "
        f"WHERE a.state <> 'deleted' AND {_PERSON} "
        f"AND NOT EXISTS (SELECT 1 FROM lc_desired d WHERE {_MATCH}) "
        "AND NOT EXISTS (SELECT 1 FROM lifecycle_deletionschedule ds "
        f"WHERE ds.account_id = a.id AND ds.status = 'pending'){lock}) x"
    )


# Gone accounts that a rollover window expects: a student's old-level account after a level
# change (SD -> grade 7, SMP -> grade 10), and a graduate's (gone in a graduating grade).
_EXPECTED_SQL = (
    "SELECT substr(g.kode_wilayah, 1, 2), count(*) FROM lc_g g "
    f"{accounts_api.join_account('g.account_id', 'a')} "
    f"JOIN {roster_api.peserta_didik_sql('pd')} ON pd.peserta_didik_id = a.person_id "
    "WHERE a.person_type = 'peserta_didik' AND ("
    f"(g.reason = 'moved_level' AND pd.departed_at IS NULL AND {level_change_sql('a', 'pd')}) "
    f"OR (g.reason = 'departed' AND pd.departed_at IS NOT NULL AND {graduation_sql('pd')})) "
    "GROUP BY 1"
)


def _counts(cur, sql: str) -> dict[str, int]:
    return q.by_province(cur, sql)


def _issue_count_sql() -> str:
    """What issue_accounts would issue (the whole roster), per province."""
    parts = [
        f"SELECT x.sekolah_id FROM ({accounts_api.students_sql()}) x",
        f"SELECT x.sekolah_id FROM ({accounts_api.ptk_sql()}) x",
    ]
    return (
        f"SELECT {q.PROV}, count(*) FROM ("
        + " UNION ALL ".join(parts)
        + f") d {roster_api.join_sekolah('d.sekolah_id')} GROUP BY 1"
    )


def _mark(dry_run: bool) -> RosterMark:
    if dry_run:
        return RosterMark.objects.filter(name=MARK).first() or RosterMark(name=MARK)
    # The row lock makes passes take turns: each reads the mark the previous one left.
    mark, _ = RosterMark.objects.select_for_update().get_or_create(name=MARK)
    return mark


# Past this many people without an account, issue_accounts walks the whole roster range by
# range (a pass before the first issuance): cheaper than a list of millions of ids.
ISSUE_BY_LIST_UP_TO = 200_000


def _to_issue(cur, since) -> dict[str, list[str]] | None:
    """Whom issue_accounts must look at: the people of lc_desired who lack an account
    somewhere they are eligible ({} if nobody). None -- the whole roster -- if they are more
    than ISSUE_BY_LIST_UP_TO, or if the pass is scoped (`since` given) and an account was
    deleted since (deletion frees the person's jenjang, and the deleted account no longer
    says whose it was; the audit says when). An unscoped pass's lc_desired is the whole
    roster, so its list is exactly what whole-roster issuance would find: one anti-join
    instead of the eligibility query again for every range of the roster (a national first
    pass spent 9.8 min there finding nobody)."""
    if since is not None and audit.recorded_since(
        cur, (Action.ACCOUNTS_DELETE, Action.LIFECYCLE_DELETE), since
    ):
        return None
    if q.pg():
        cur.execute("SET LOCAL work_mem = '256MB'")  # the anti-join's hash in memory (this pass)
    cur.execute(
        "SELECT DISTINCT d.person_type, CAST(d.person_id AS text) FROM lc_desired d "
        f"WHERE NOT EXISTS (SELECT 1 FROM {q.ACCOUNTS} WHERE {_MATCH} "
        f"AND a.state <> 'deleted') LIMIT {ISSUE_BY_LIST_UP_TO + 1}"
    )
    rows = cur.fetchall()
    if len(rows) > ISSUE_BY_LIST_UP_TO:
        return None
    people: dict[str, list[str]] = {}
    for person_type, person_id in rows:
        people.setdefault(person_type, []).append(person_id)
    return people


def roster_pass(
    *,
    actor: str,
    dry_run: bool = False,
    issue: bool = True,
    import_run: int | None = None,
    full: bool = False,
) -> RuleResult:
    result = RuleResult(RULE, dry_run=dry_run)
    run = None if dry_run else start_run(RULE, actor)
    issue_after = issue and not dry_run
    with transaction.atomic(), connection.cursor() as cur:
        if q.pg():
            # Compiling each statement costs more than it saves on these joins.
            cur.execute("SET LOCAL jit = off")
        lock = "" if dry_run else q.for_update()
        mark = _mark(dry_run)
        started = clock.now()
        # Read before the roster: every import up to it has committed what it changed.
        upto = _import_runs_done()
        scoped = not full and mark.import_run is not None
        if scoped:
            after, since = mark.import_run, (mark.passed_at or started) - CLOSED_MARGIN
            _build_scope(cur, after, since)
            reason = f"roster changes of import runs after #{after} (up to #{upto})"
        else:
            reason = f"all of the roster (import runs up to #{upto})"
        log.info("roster pass: %s", reason)
        _build_desired(cur, scoped)
        people = None  # issue for the whole roster
        if issue and (scoped or not dry_run):
            people = _to_issue(cur, since if scoped else None)
        if dry_run and issue:
            if people is None and scoped:
                sql = _issue_count_sql()
            else:  # lc_desired is who issuance will look at
                sql = (
                    f"SELECT {q.PROV}, count(*) FROM "
                    f"lc_desired d {roster_api.join_sekolah('d.sekolah_id')} "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {q.ACCOUNTS} WHERE {_MATCH} "
                    "AND a.state <> 'deleted') GROUP BY 1"
                )
            result.add("issue", _counts(cur, sql))
        issue_after = issue_after and people != {}
        _build_back(cur, lock)
        _build_follow(cur, lock)
        _build_gone(cur, lock, scoped)
        prov = "substr(kode_wilayah, 1, 2)"
        result.add("back", _counts(cur, f"SELECT {prov}, count(*) FROM lc_b GROUP BY 1"))
        result.add("follow", _counts(cur, f"SELECT {prov}, count(*) FROM lc_f GROUP BY 1"))
        gone = _counts(cur, f"SELECT {prov}, count(*) FROM lc_g GROUP BY 1")
        if dry_run:
            for reason_ in ROSTER_REASONS:
                result.add(
                    f"schedule_{reason_}",
                    _counts(
                        cur,
                        f"SELECT {prov}, count(*) FROM lc_g WHERE reason = '{reason_}' GROUP BY 1",
                    ),
                )
        else:
            # Inside a rollover window graduations and level changes are expected: the
            # stop counts the rest.
            window = open_window()
            if window and gone:
                expected = _counts(cur, _EXPECTED_SQL)
                result.add("rollover_expected", expected)
                gone = {p_: n - expected.get(p_, 0) for p_, n in gone.items()}
                gone = {p_: n for p_, n in gone.items() if n > 0}
            # The safety stop's base (every account) is read only when something would go.
            totals = q.province_totals(cur) if gone else {}
            gate = safety.gate(RULE, gone, totals, actor=actor)
            result.held = sorted(gate.blocked)
            if gate.blocked:
                cur.execute(f"DELETE FROM lc_g WHERE {prov} IN {q.in_list(gate.blocked)}")
            _apply(cur, run.pk, actor, result)
            gate.mark_used()
            # The mark moves only past finished work: not past held people (the next pass
            # sees them again), nor before the issuance below has succeeded.
            mark.run_id = run.pk
            if not gate.blocked and not issue_after:
                mark.import_run, mark.passed_at = upto, started
            mark.save()
        for t in ("lc_desired", "lc_f", "lc_b", "lc_g", "lc_p"):
            q.drop_temp(cur, t)
    if issue_after:
        # After the comparison, which never depends on the accounts issued now (they are
        # exactly what lc_desired wants). Only when needed, and for the scope's people when
        # the pass is scoped: whole-roster issuance is not cheap.
        issued = issue_accounts(actor=actor, people=people)
        with connection.cursor() as cur:
            result.add(
                "issue",
                _counts(
                    cur,
                    f"SELECT {q.PROV}, count(*) FROM {q.ACCOUNTS} {q.JOIN_SEKOLAH} "
                    f"WHERE a.issue_run = {int(issued.run_id)} GROUP BY 1",
                ),
            )
        if not result.held:
            # Unless another pass has taken the mark since.
            RosterMark.objects.filter(name=MARK, run_id=run.pk).update(
                import_run=upto, passed_at=started
            )
    if run:
        finish_run(run, result, actor=actor, reason=reason)
    return result


def _apply(cur, run_id: int, actor: str, result: RuleResult) -> None:
    p = {"now": q.dt(clock.now()), "run": run_id}
    # Back (or moved on): cancel / re-mark the schedule, undo this pass's own suspension.
    cur.execute(
        "UPDATE lifecycle_deletionschedule SET status = 'cancelled', closed_at = %(now)s, "
        "closed_run = %(run)s, closed_reason = 'back in the roster' "
        "WHERE id IN (SELECT schedule_id FROM lc_b WHERE what = 'back')",
        p,
    )
    cur.execute(
        "UPDATE lifecycle_deletionschedule SET reason = 'moved_level', suspended = FALSE "
        "WHERE id IN (SELECT schedule_id FROM lc_b WHERE what = 'moved')",
    )
    # accounts' unsuspend, as TRANSITIONS has it (back to active if ever activated).
    back = dict(
        action=Action.LIFECYCLE_ROSTER_BACK,
        reason=(
            "CASE WHEN t.what = 'back' THEN 'back in the roster: deletion cancelled' "
            "ELSE 'now at another jenjang: kept until deletion to move data' END"
        ),
    )
    deletion = "CASE WHEN t.what = 'back' THEN 'cancelled' ELSE 'scheduled' END"
    accounts_api.transition_many(
        "unsuspend",
        accounts_api.rows_of("lc_b", "t.new_state <> t.old_state"),
        actor=actor,
        audit_rows=accounts_api.AuditRows(
            **back,
            before=q.json_obj(state="c.state_before"),
            after=q.json_obj(state="c.state_after", deletion=deletion),
        ),
    )
    audit.record_many(  # the schedule changed, the state did not
        cur,
        actor=actor,
        source="lc_b t WHERE t.new_state = t.old_state",
        before=q.json_obj(state="t.old_state"),
        after=q.json_obj(state="t.new_state", deletion=deletion),
        **back,
    )
    # Follow: school and role, user ID unchanged.
    accounts_api.move_many(
        "lc_f",
        actor=actor,
        audit_rows=accounts_api.AuditRows(
            action=Action.LIFECYCLE_ROSTER_FOLLOW,
            reason=(
                "CASE WHEN t.old_role <> t.role AND t.old_npsn <> t.npsn THEN 'moved school, "
                "role changed' WHEN t.old_role <> t.role THEN 'role changed' "
                "ELSE 'moved school' END"
            ),
            before=q.json_obj(npsn="t.old_npsn", role="t.old_role"),
            after=q.json_obj(npsn="t.npsn", role="t.role"),
        ),
    )
    # Gone: on the deletion path; suspended unless it is a move to another jenjang.
    cur.execute(
        "INSERT INTO lifecycle_deletionschedule (account_id, reason, status, created_at, "
        "created_run, suspended, prior_state, closed_reason) "
        "SELECT account_id, reason, 'pending', %(now)s, %(run)s, suspend, state, '' FROM lc_g",
        p,
    )
    scheduled = dict(action=Action.LIFECYCLE_ROSTER_SCHEDULE_DELETION, reason="t.reason")
    accounts_api.transition_many(
        "suspend",
        accounts_api.rows_of("lc_g", "t.suspend"),
        actor=actor,
        audit_rows=accounts_api.AuditRows(
            **scheduled,
            before=q.json_obj(state="c.state_before"),
            after=q.json_obj(state="c.state_after", deletion="'scheduled'"),
        ),
    )
    audit.record_many(  # not suspended: a move to another jenjang, or already suspended
        cur,
        actor=actor,
        source="lc_g t WHERE NOT t.suspend",
        before=q.json_obj(state="t.state"),
        after=q.json_obj(state="t.state", deletion="'scheduled'"),
        **scheduled,
    )
    # The person moved to another level: downstream hears of it (the account stays usable).
    accounts_api.record_events(
        cur,
        accounts_api.EventKind.MOVED,
        "SELECT account_id FROM lc_g WHERE reason = 'moved_level'",
        {},
        actor=actor,
    )
    prov = "substr(kode_wilayah, 1, 2)"
    for reason in ROSTER_REASONS:
        result.add(
            f"schedule_{reason}",
            _counts(cur, f"SELECT {prov}, count(*) FROM lc_g WHERE reason = '{reason}' GROUP BY 1"),
        )


__all__ = ["DeletionSchedule", "ROSTER_REASONS", "roster_pass"]
