"""Keep the OneRoster projection (akun.oneroster.models) up to date, set-based.

`refresh()` recomputes the objects of every account (a full pass, `akun oneroster refresh`)
or of some accounts (the change-stream consumer, with the events' time): each table is
upserted from one INSERT ... SELECT, and a row's dateLastModified moves only when one of its
columns really changed, so a delta (`dateLastModified>'...'`) lists what changed and nothing
else. Objects that are gone are never deleted: they turn `tobedeleted` (the spec's way to
tell a platform to remove them), with the time they went.
"""

import datetime as dt
import uuid

from django.db import connection, transaction

from akun.accounts.api import Account, accounts_sql
from akun.core import clock
from akun.oneroster.models import (
    ACTIVE,
    TOBEDELETED,
    OrClass,
    OrCourse,
    OrEnrollment,
    OrOrg,
    OrUser,
)
from akun.roster.api import JENIS_PTK_KEPALA, peserta_didik_sql, ptk_sql, sekolah_sql

ORG = OrOrg._meta.db_table
COURSE = OrCourse._meta.db_table
CLASS = OrClass._meta.db_table
USER = OrUser._meta.db_table
ENROLLMENT = OrEnrollment._meta.db_table

MINISTRY = "kemendikdasmen"  # the national org's sourcedId
# uuid5 namespace of class sourcedIds (derived from NPSN, grade and rombel name: stable).
CLASS_NAMESPACE = uuid.UUID("6f3b2a0e-8a51-5d7e-9c1a-4b0e6a1d2c37")

# Heads of school are `principal`, operators `siteAdministrator` (the spec's role names).
ROLE_SQL = (
    f"CASE a.role WHEN '{Account.Role.PESERTA_DIDIK}' THEN 'student' "
    f"WHEN '{Account.Role.PENDIDIK}' THEN 'teacher' "
    f"ELSE CASE WHEN p.jenis_ptk = '{JENIS_PTK_KEPALA}' THEN 'principal' "
    "ELSE 'siteAdministrator' END END"
)
GONE_STATES = (Account.State.DEACTIVATED, Account.State.DELETED)
ENABLED_STATES = (Account.State.ACTIVE, Account.State.ISSUED)


def school_sid(npsn: str) -> str:
    return f"npsn-{npsn}"


def region_sid(kode: str) -> str:
    return f"wilayah-{kode}"


def course_sid(npsn: str, grade: int) -> str:
    return f"npsn-{npsn}-kelas-{int(grade)}"


def class_sid(npsn: str, grade: int, rombel: str) -> str:
    return "rombel-" + str(uuid.uuid5(CLASS_NAMESPACE, f"{npsn}|{int(grade)}|{rombel}"))


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _distinct(a: str, b: str) -> str:
    return f"{a} IS DISTINCT FROM {b}" if _pg() else f"{a} IS NOT {b}"


def _at(value: dt.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _in_list(column: str, values, prefix: str) -> tuple[str, dict]:
    params = {f"{prefix}{i}": v for i, v in enumerate(values)}
    if not params:
        return "1 = 0", {}
    return f"{column} IN ({', '.join('%(' + k + ')s' for k in params)})", params


def _upsert(cur, table: str, columns: list[str], select_sql: str, params: dict) -> int:
    """INSERT the SELECT's rows (columns: sourced_id, then `columns`, in that order) with
    dateLastModified %(at)s; a row that exists is updated only where a column differs."""
    cols = ["sourced_id", *columns]
    names = ", ".join(cols)
    changed = _distinct(
        "(" + ", ".join(f"{table}.{c}" for c in columns) + ")",
        "(" + ", ".join(f"excluded.{c}" for c in columns) + ")",
    )
    sets = ", ".join(f"{c} = excluded.{c}" for c in [*columns, "date_last_modified"])
    cur.execute(
        f"INSERT INTO {table} ({names}, date_last_modified) "
        f"SELECT {names}, %(at)s FROM ({select_sql}) src WHERE 1 = 1 "
        f"ON CONFLICT (sourced_id) DO UPDATE SET {sets} WHERE {changed}",
        params,
    )
    return cur.rowcount


def _name_parts() -> tuple[str, str]:
    """givenName (the first word) and familyName (the rest; a one-word name in both, as
    Indonesian documents do) of a.nama."""
    pos = "strpos(a.nama, ' ')" if _pg() else "instr(a.nama, ' ')"
    given = f"CASE WHEN {pos} > 0 THEN substr(a.nama, 1, {pos} - 1) ELSE a.nama END"
    family = f"CASE WHEN {pos} > 0 THEN substr(a.nama, {pos} + 1) ELSE a.nama END"
    return given, family


class Accounts:
    """Which accounts a refresh covers: a list of ids, or a SQL query of ids (one column)
    with its parameters -- e.g. every account whose roster record an import changed."""

    def __init__(self, ids=None, *, sql: str = "", params: dict | None = None):
        self.ids = None if ids is None else sorted({int(a) for a in ids})
        self.sql = sql
        self.params = params or {}

    def where(self, column: str, prefix: str) -> tuple[str, dict]:
        if self.sql:
            return f"{column} IN ({self.sql})", dict(self.params)
        return _in_list(column, self.ids, prefix)


def _accounts_where(account_ids) -> tuple[str, dict]:
    where = f"a.person_type <> '{Account.PersonType.STAFF}'"
    if account_ids is None:
        return where, {}
    cond, params = account_ids.where("a.id", "acc")
    return f"{where} AND {cond}", params


def _new_classes(cur, account_ids) -> None:
    """Class rows for the rombels these accounts' students are in (sourcedIds are uuid5 of
    the natural key, computed here; few rows, so Python is fine)."""
    where, params = _accounts_where(account_ids)
    cur.execute(
        f"SELECT DISTINCT s.npsn, s.kode_wilayah, pd.tingkat_pendidikan, pd.rombel "
        f"FROM {accounts_sql('a')} "
        f"JOIN {peserta_didik_sql('pd')} ON pd.peserta_didik_id = a.person_id "
        f"JOIN {sekolah_sql('s')} ON s.sekolah_id = pd.sekolah_id "
        f"WHERE {where} AND a.person_type = '{Account.PersonType.PESERTA_DIDIK}' "
        f"AND pd.departed_at IS NULL AND pd.rombel <> '' "
        f"AND NOT EXISTS (SELECT 1 FROM {CLASS} c WHERE c.npsn = s.npsn "
        f"AND c.grade = pd.tingkat_pendidikan AND c.rombel = pd.rombel)",
        params,
    )
    rows = cur.fetchall()
    now = clock.now()
    OrClass.objects.bulk_create(
        [
            OrClass(
                sourced_id=class_sid(npsn, grade, rombel),
                status=TOBEDELETED,  # set from its enrollments below
                date_last_modified=now,
                npsn=npsn,
                kode_wilayah=kode,
                school_sourced_id=school_sid(npsn),
                course_sourced_id=course_sid(npsn, grade),
                grade=grade,
                rombel=rombel,
                title=rombel,
            )
            for npsn, kode, grade, rombel in rows
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )


def _users(cur, account_ids, at) -> int:
    where, params = _accounts_where(account_ids)
    given, family = _name_parts()
    gone = ", ".join(f"'{s}'" for s in GONE_STATES)
    enabled = ", ".join(f"'{s}'" for s in ENABLED_STATES)
    select = (
        "SELECT a.local_part AS sourced_id, "
        f"CASE WHEN a.state IN ({gone}) OR s.npsn IS NULL THEN '{TOBEDELETED}' "
        f"ELSE '{ACTIVE}' END AS status, "
        "COALESCE(s.npsn, '') AS npsn, COALESCE(s.kode_wilayah, '') AS kode_wilayah, "
        f"a.id AS account_id, {ROLE_SQL} AS role, a.user_id AS username, "
        f"{given} AS given_name, {family} AS family_name, "
        f"CASE WHEN a.state IN ({enabled}) THEN 1 = 1 ELSE 1 = 0 END AS enabled, "
        "CASE WHEN s.npsn IS NULL THEN '' ELSE 'npsn-' || s.npsn END AS school_sourced_id, "
        "pd.tingkat_pendidikan AS grade, COALESCE(c.sourced_id, '') AS class_sourced_id, "
        "COALESCE(pd.nisn, '') AS nisn, "
        "COALESCE(pd.tanggal_lahir, p.tanggal_lahir) AS birth_date, "
        "COALESCE(pd.jenis_kelamin, p.jenis_kelamin, '') AS sex "
        f"FROM {accounts_sql('a')} "
        f"LEFT JOIN {sekolah_sql('s')} ON s.sekolah_id = a.sekolah_id "
        f"LEFT JOIN {peserta_didik_sql('pd')} ON a.person_type = "
        f"'{Account.PersonType.PESERTA_DIDIK}' AND pd.peserta_didik_id = a.person_id "
        f"LEFT JOIN {ptk_sql('p')} ON a.person_type = '{Account.PersonType.PTK}' "
        "AND p.ptk_id = a.person_id AND p.sekolah_id = a.sekolah_id "
        f"LEFT JOIN {CLASS} c ON pd.departed_at IS NULL AND c.npsn = s.npsn "
        "AND c.grade = pd.tingkat_pendidikan AND c.rombel = pd.rombel "
        f"WHERE {where}"
    )
    columns = [
        "status", "npsn", "kode_wilayah", "account_id", "role", "username", "given_name",
        "family_name", "enabled", "school_sourced_id", "grade", "class_sourced_id", "nisn",
        "birth_date", "sex",
    ]  # fmt: skip
    return _upsert(cur, USER, columns, select, {**params, "at": at})


def _users_where(account_ids, alias: str = "u") -> tuple[str, dict]:
    if account_ids is None:
        return "1 = 1", {}
    return account_ids.where(f"{alias}.account_id", "uacc")


def _enrollments(cur, account_ids, at) -> int:
    where, params = _users_where(account_ids)
    select = (
        "SELECT u.class_sourced_id || '.' || u.sourced_id AS sourced_id, "
        f"'{ACTIVE}' AS status, u.npsn, u.kode_wilayah, u.sourced_id AS user_sourced_id, "
        "u.class_sourced_id, u.school_sourced_id, 'student' AS role "
        f"FROM {USER} u WHERE {where} AND u.role = 'student' AND u.status = '{ACTIVE}' "
        "AND u.class_sourced_id <> ''"
    )
    columns = [
        "status", "npsn", "kode_wilayah", "user_sourced_id", "class_sourced_id",
        "school_sourced_id", "role",
    ]  # fmt: skip
    n = _upsert(cur, ENROLLMENT, columns, select, {**params, "at": at})
    # Enrollments these users no longer have: a move, a departure, a deactivation.
    uwhere, uparams = _users_where(account_ids, "u2")
    cur.execute(
        f"UPDATE {ENROLLMENT} SET status = '{TOBEDELETED}', date_last_modified = %(at)s "
        f"WHERE status = '{ACTIVE}' AND user_sourced_id IN "
        f"(SELECT u2.sourced_id FROM {USER} u2 WHERE {uwhere}) "
        f"AND NOT EXISTS (SELECT 1 FROM {USER} u WHERE u.sourced_id = "
        f"{ENROLLMENT}.user_sourced_id AND u.class_sourced_id = {ENROLLMENT}.class_sourced_id "
        f"AND u.status = '{ACTIVE}')",
        {**uparams, "at": at},
    )
    return n + cur.rowcount


def _class_status(cur, account_ids, at) -> None:
    """A class is active while it has an active enrollment; its course while it has an
    active class."""
    if account_ids is None:
        touched, params = "1 = 1", {}
    else:
        uwhere, params = _users_where(account_ids, "u")
        touched = (
            f"sourced_id IN (SELECT e.class_sourced_id FROM {ENROLLMENT} e "
            f"JOIN {USER} u ON u.sourced_id = e.user_sourced_id WHERE {uwhere})"
        )
    live = (
        f"EXISTS (SELECT 1 FROM {ENROLLMENT} e WHERE e.class_sourced_id = {CLASS}.sourced_id "
        f"AND e.status = '{ACTIVE}')"
    )
    want = f"CASE WHEN {live} THEN '{ACTIVE}' ELSE '{TOBEDELETED}' END"
    cur.execute(
        f"UPDATE {CLASS} SET status = {want}, date_last_modified = %(at)s "
        f"WHERE {touched} AND status <> {want}",
        {**params, "at": at},
    )
    # Courses: one per school and grade that has (or had) a class.
    select = (
        "SELECT c.course_sourced_id AS sourced_id, "
        f"MIN(c.status) AS status, "  # 'active' < 'tobedeleted'
        "c.npsn, MAX(c.kode_wilayah) AS kode_wilayah, MAX(c.school_sourced_id) AS "
        "school_sourced_id, c.grade, 'Kelas ' || c.grade AS title, "
        "c.npsn || '-' || c.grade AS course_code "
        f"FROM {CLASS} c GROUP BY c.course_sourced_id, c.npsn, c.grade"
    )
    if account_ids is not None:
        select = select.replace(
            "GROUP BY",
            f"WHERE c.course_sourced_id IN (SELECT course_sourced_id FROM {CLASS} WHERE "
            f"{touched}) GROUP BY",
        )
    columns = ["status", "npsn", "kode_wilayah", "school_sourced_id", "grade", "title"]
    _upsert(cur, COURSE, [*columns, "course_code"], select, {**params, "at": at})


def _orgs(cur, npsns, at) -> None:
    """The ministry, the provinces and regencies/cities, and the schools (all of them, or
    these NPSNs and their regions)."""
    if npsns is None:
        where, params = "1 = 1", {}
    else:
        where, params = _in_list("s.npsn", sorted(npsns), "np")
    # A school's present row wins over a departed one with the same NPSN.
    present = (
        f"(s.departed_at IS NULL OR NOT EXISTS (SELECT 1 FROM {sekolah_sql('s2')} "
        "WHERE s2.npsn = s.npsn AND s2.departed_at IS NULL))"
    )
    schools = (
        "SELECT 'npsn-' || s.npsn AS sourced_id, "
        f"CASE WHEN MIN(CASE WHEN s.departed_at IS NULL THEN 0 ELSE 1 END) = 0 "
        f"THEN '{ACTIVE}' ELSE '{TOBEDELETED}' END AS status, "
        "s.npsn, MAX(s.kode_wilayah) AS kode_wilayah, 'school' AS type, MAX(s.nama) AS name, "
        "s.npsn AS identifier, 'wilayah-' || substr(MAX(s.kode_wilayah), 1, 4) AS "
        f"parent_sourced_id FROM {sekolah_sql('s')} WHERE {where} AND {present} GROUP BY s.npsn"
    )
    columns = ["status", "npsn", "kode_wilayah", "type", "name", "identifier", "parent_sourced_id"]
    _upsert(cur, ORG, columns, schools, {**params, "at": at})
    for digits, kind, name_col, parent in (
        (2, "state", "provinsi", f"'{MINISTRY}'"),
        (4, "district", "kabupaten_kota", "'wilayah-' || substr(MAX(s.kode_wilayah), 1, 2)"),
    ):
        regions = (
            f"SELECT 'wilayah-' || substr(s.kode_wilayah, 1, {digits}) AS sourced_id, "
            f"'{ACTIVE}' AS status, '' AS npsn, substr(s.kode_wilayah, 1, {digits}) AS "
            f"kode_wilayah, '{kind}' AS type, MAX(s.{name_col}) AS name, "
            f"substr(s.kode_wilayah, 1, {digits}) AS identifier, {parent} AS parent_sourced_id "
            f"FROM {sekolah_sql('s')} WHERE {where} AND s.departed_at IS NULL "
            f"GROUP BY substr(s.kode_wilayah, 1, {digits})"
        )
        _upsert(cur, ORG, columns, regions, {**params, "at": at})
    ministry = (
        f"SELECT '{MINISTRY}' AS sourced_id, '{ACTIVE}' AS status, '' AS npsn, "
        "'' AS kode_wilayah, 'national' AS type, "
        "'Kementerian Pendidikan Dasar dan Menengah' AS name, 'ID' AS identifier, "
        "'' AS parent_sourced_id"
    )
    _upsert(cur, ORG, columns, ministry, {"at": at})


def refresh(account_ids=None, *, at: dt.datetime | None = None) -> int:
    """Recompute the objects of these accounts (ids, an Accounts, or None: every account and
    school). Rows that change get dateLastModified `at` (default now). Returns the users
    changed."""
    stamp = _at(at or clock.now())
    if account_ids is not None and not isinstance(account_ids, Accounts):
        account_ids = Accounts(account_ids)
        if not account_ids.ids:
            return 0
    with transaction.atomic(), connection.cursor() as cur:
        _new_classes(cur, account_ids)
        changed = _users(cur, account_ids, stamp)
        _enrollments(cur, account_ids, stamp)
        _class_status(cur, account_ids, stamp)
        if account_ids is None:
            _orgs(cur, None, stamp)
        else:
            wanted, params = account_ids.where("account_id", "o")
            cur.execute(f"SELECT DISTINCT npsn FROM {USER} WHERE {wanted} AND npsn <> ''", params)
            npsns = {r[0] for r in cur.fetchall()}
            if npsns:
                _orgs(cur, npsns, stamp)
    return changed


def refresh_after_import(run_id: int) -> int:
    """After a roster import: the accounts of the people whose record the import changed or
    marked departed (a new rombel or grade changes no account, so the change stream does not
    tell), and the schools it changed."""
    changed = "(r.changed_run_id = %(run)s OR r.departed_run_id = %(run)s)"
    sql = (
        f"SELECT a.id FROM {accounts_sql('a')} JOIN {peserta_didik_sql('r')} "
        f"ON r.peserta_didik_id = a.person_id WHERE {changed} UNION "
        f"SELECT a.id FROM {accounts_sql('a')} JOIN {ptk_sql('r')} ON r.ptk_id = a.person_id "
        f"WHERE {changed}"
    )
    n = refresh(Accounts(sql=sql, params={"run": run_id}))
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"SELECT DISTINCT npsn FROM {sekolah_sql('r')} WHERE {changed}", {"run": run_id}
        )
        npsns = {row[0] for row in cur.fetchall()}
        if npsns:
            _orgs(cur, npsns, _at(clock.now()))
    return n
