"""The OneRoster 1.2 CSV package (bulk or delta): manifest.csv and one CSV per object type in
a zip, as Microsoft SDS, ClassLink and LMSs import it.

Columns and rules: 1EdTech OneRoster CSV Binding 1.2.1, section 3 (the header order is
fixed; UTF-8; a file with no data rows is left out and named `absent` in the manifest; in
bulk files `status` and `dateLastModified` are blank, in delta files they are set). The zip
is written as it goes, each file's rows read from the database in chunks (a server-side
cursor on PostgreSQL), so memory stays bounded however big the org is.
"""

import csv
import dataclasses
import datetime as dt
import io
import zipfile

from django.db import connection, transaction

from akun.audit.api import Action, record
from akun.oneroster import sessions
from akun.oneroster.models import ACTIVE
from akun.oneroster.project import CLASS, COURSE, ENROLLMENT, MINISTRY, ORG, USER
from akun.oneroster.resources import day, grade, stamp

# 1EdTech OneRoster CSV Binding 1.2.1, section 3: every file of the package, header order.
COLUMNS = {
    "academicSessions": (
        "sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate",
        "parentSourcedId", "schoolYear",
    ),
    "classes": (
        "sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId",
        "classCode", "classType", "location", "schoolSourcedId", "termSourcedIds", "subjects",
        "subjectCodes", "periods",
    ),
    "courses": (
        "sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title", "courseCode",
        "grades", "orgSourcedId", "subjects", "subjectCodes",
    ),
    "demographics": (
        "sourcedId", "status", "dateLastModified", "birthDate", "sex",
        "americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
        "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces",
        "hispanicOrLatinoEthnicity", "countryOfBirthCode", "stateOfBirthAbbreviation",
        "cityOfBirth", "publicSchoolResidenceStatus",
    ),
    "enrollments": (
        "sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId",
        "userSourcedId", "role", "primary", "beginDate", "endDate",
    ),
    "orgs": (
        "sourcedId", "status", "dateLastModified", "name", "type", "identifier",
        "parentSourcedId",
    ),
    "roles": (
        "sourcedId", "status", "dateLastModified", "userSourcedId", "roleType", "role",
        "beginDate", "endDate", "orgSourcedId", "userProfileSourcedId",
    ),
    "users": (
        "sourcedId", "status", "dateLastModified", "enabledUser", "username", "userIds",
        "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone",
        "agentSourcedIds", "grades", "password", "userMasterIdentifier", "resourceSourcedIds",
        "preferredGivenName", "preferredMiddleName", "preferredFamilyName",
        "primaryOrgSourcedId", "pronouns",
    ),
}  # fmt: skip
# Every file the manifest names (section 2 of the binding); the ones Akun has no data for
# are `absent`.
MANIFEST_FILES = (
    "academicSessions", "categories", "classes", "classResources", "courses",
    "courseResources", "demographics", "enrollments", "lineItemLearningObjectiveIds",
    "lineItems", "lineItemScoreScales", "orgs", "resources", "resultLearningObjectiveIds",
    "results", "resultScoreScales", "roles", "scoreScales", "userProfiles", "userResources",
    "users",
)  # fmt: skip
CHUNK = 2000
SEX = {"L": "male", "P": "female"}


class PackageError(ValueError):
    pass


@dataclasses.dataclass
class Result:
    counts: dict  # file -> rows
    org: str
    delta: bool


def _scope(org: str, params: dict) -> str:
    org = org.strip()
    if len(org) == 8 and org.isalnum():
        params["org"] = org
        return "npsn = %(org)s"
    if org.isdigit() and len(org) in (2, 4):
        params["org"] = org + "%"
        return "kode_wilayah LIKE %(org)s"
    raise PackageError(f"not an NPSN (8 characters) or a region code (2 or 4 digits): {org!r}")


def _rows(sql: str, params: dict):
    """Rows in chunks, from a server-side cursor on PostgreSQL (in the caller's transaction)."""
    cur = connection.chunked_cursor()
    try:
        cur.execute(sql, params)
        while True:
            chunk = cur.fetchmany(CHUNK)
            if not chunk:
                return
            yield from chunk
    finally:
        cur.close()


def _clean(value) -> str:
    """A CSV value: the binding allows no line breaks inside a field."""
    if value is None:
        return ""
    text = str(value)
    return text.replace("\r", " ").replace("\n", " ") if ("\n" in text or "\r" in text) else text


class _Writer:
    def __init__(self, zf: zipfile.ZipFile, delta: bool):
        self.zf = zf
        self.delta = delta
        self.counts: dict[str, int] = {}

    def write(self, name: str, rows) -> None:
        """One CSV, written only if it has a row (files without rows are not permitted)."""
        rows = iter(rows)
        first = next(rows, None)
        if first is None:
            self.counts[name] = 0
            return
        n = 0
        with self.zf.open(f"{name}.csv", "w", force_zip64=True) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            out = csv.writer(text, lineterminator="\r\n")
            out.writerow(COLUMNS[name])
            for row in _chain(first, rows):
                values = dict(row)
                if not self.delta:  # bulk: status and dateLastModified blank
                    values["status"] = ""
                    values["dateLastModified"] = ""
                out.writerow([_clean(values.get(c)) for c in COLUMNS[name]])
                n += 1
            text.flush()
            text.detach()
        self.counts[name] = n


def _chain(first, rest):
    yield first
    yield from rest


def _since(delta, params, alias="") -> str:
    prefix = f"{alias}." if alias else ""
    if delta is None:
        return f"{prefix}status = '{ACTIVE}'"
    params["since"] = connection.ops.adapt_datetimefield_value(delta)
    return f"{prefix}date_last_modified > %(since)s"


def write_package(
    out, *, org: str, since: dt.datetime | None = None, demographics=False, nisn=False
) -> Result:
    """Write the package of `org` (an NPSN or a region code) to the binary file `out`: bulk,
    or the delta of the objects changed after `since`."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    delta = since is not None
    with (
        transaction.atomic(),
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
    ):
        w = _Writer(zf, delta)
        w.write("academicSessions", _sessions(since))
        w.write("orgs", _orgs(org, since))
        w.write("courses", _courses(org, since))
        w.write("classes", _classes(org, since))
        w.write("users", _users(org, since, nisn))
        w.write("roles", _roles(org, since))
        w.write("enrollments", _enrollments(org, since))
        if demographics:
            w.write("demographics", _demographics(org, since))
        mode = "delta" if delta else "bulk"
        manifest = [
            ("manifest.version", "1.0"),
            ("oneroster.version", "1.2"),
            *[(f"file.{f}", mode if w.counts.get(f) else "absent") for f in MANIFEST_FILES],
            ("source.systemName", "Akun"),
            ("source.systemCode", org),
        ]
        with zf.open("manifest.csv", "w") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            out_csv = csv.writer(text, lineterminator="\r\n")
            out_csv.writerow(("propertyName", "value"))
            out_csv.writerows(manifest)
            text.flush()
            text.detach()
    return Result(w.counts, org, delta)


def _sessions(since):
    terms = [t.sourced_id for t in sessions.terms()]
    for s in sessions.current():
        if since is not None and s.date_last_modified <= since:
            continue
        yield {
            "sourcedId": s.sourced_id,
            "status": ACTIVE,
            "dateLastModified": stamp(s.date_last_modified),
            "title": s.title,
            "type": s.type,
            "startDate": s.start.isoformat(),
            "endDate": s.end.isoformat(),
            "parentSourcedId": s.parent,
            "schoolYear": s.school_year,
        }
    assert terms  # classes name both semesters


def _orgs(org, since):
    params: dict = {}
    scope = _scope(org, params)
    # The schools and regions in the org, and the regions and ministry above it (their
    # parentSourcedIds must resolve in the package).
    above = [MINISTRY]
    code = org if org.isdigit() and len(org) in (2, 4) else None
    if code is None:
        with connection.cursor() as cur:
            cur.execute(f"SELECT kode_wilayah FROM {ORG} WHERE npsn = %s", [org])
            hit = cur.fetchone()
            code = hit[0] if hit else ""
    for n in (2, 4):
        if code and len(code) >= n and code[:n] != org:
            above.append(f"wilayah-{code[:n]}")
    for i, sid in enumerate(above):
        params[f"a{i}"] = sid
    above_sql = ", ".join(f"%(a{i})s" for i in range(len(above)))
    sql = (
        "SELECT sourced_id, status, date_last_modified, name, type, identifier, "
        f"parent_sourced_id FROM {ORG} WHERE ({scope} OR sourced_id IN ({above_sql})) "
        f"AND {_since(since, params)} ORDER BY sourced_id"
    )
    for sid, status, dlm, name, kind, ident, parent in _rows(sql, params):
        yield {
            "sourcedId": sid,
            "status": status,
            "dateLastModified": stamp(dlm),
            "name": name,
            "type": kind,
            "identifier": ident,
            "parentSourcedId": parent,
        }


def _courses(org, since):
    params: dict = {}
    year = sessions.school_year().sourced_id
    sql = (
        "SELECT sourced_id, status, date_last_modified, title, course_code, grade, "
        f"school_sourced_id FROM {COURSE} WHERE {_scope(org, params)} "
        f"AND {_since(since, params)} ORDER BY sourced_id"
    )
    for sid, status, dlm, title, code, g, school in _rows(sql, params):
        yield {
            "sourcedId": sid,
            "status": status,
            "dateLastModified": stamp(dlm),
            "schoolYearSourcedId": year,
            "title": title,
            "courseCode": code,
            "grades": grade(g),
            "orgSourcedId": school,
        }


def _classes(org, since):
    params: dict = {}
    terms = ",".join(t.sourced_id for t in sessions.terms())
    sql = (
        "SELECT sourced_id, status, date_last_modified, title, grade, course_sourced_id, "
        f"rombel, school_sourced_id FROM {CLASS} WHERE {_scope(org, params)} "
        f"AND {_since(since, params)} ORDER BY sourced_id"
    )
    for sid, status, dlm, title, g, course, rombel, school in _rows(sql, params):
        yield {
            "sourcedId": sid,
            "status": status,
            "dateLastModified": stamp(dlm),
            "title": title,
            "grades": grade(g),
            "courseSourcedId": course,
            "classCode": rombel,
            "classType": "homeroom",
            "schoolSourcedId": school,
            "termSourcedIds": terms,
        }


def _users(org, since, nisn):
    params: dict = {}
    sql = (
        "SELECT sourced_id, status, date_last_modified, enabled, username, given_name, "
        f"family_name, grade, school_sourced_id, nisn FROM {USER} WHERE {_scope(org, params)} "
        f"AND {_since(since, params)} ORDER BY sourced_id"
    )
    for sid, status, dlm, enabled, username, given, family, g, school, n in _rows(sql, params):
        ids = [f"{{akun:{username}}}"]
        if nisn and n:
            ids.append(f"{{NISN:{n}}}")
        yield {
            "sourcedId": sid,
            "status": status,
            "dateLastModified": stamp(dlm),
            "enabledUser": "true" if enabled else "false",
            "username": username,
            "userIds": ",".join(ids),
            "givenName": given,
            "familyName": family,
            "email": username,
            "grades": grade(g) if g is not None else "",
            "primaryOrgSourcedId": school or MINISTRY,
        }


def _roles(org, since):
    params: dict = {}
    sql = (
        "SELECT sourced_id, status, date_last_modified, role, school_sourced_id "
        f"FROM {USER} WHERE {_scope(org, params)} AND {_since(since, params)} "
        "ORDER BY sourced_id"
    )
    for sid, status, dlm, role, school in _rows(sql, params):
        yield {
            "sourcedId": f"{sid}.role",
            "status": status,
            "dateLastModified": stamp(dlm),
            "userSourcedId": sid,
            "roleType": "primary",
            "role": role,
            "orgSourcedId": school or MINISTRY,
        }


def _enrollments(org, since):
    params: dict = {}
    sql = (
        "SELECT sourced_id, status, date_last_modified, class_sourced_id, school_sourced_id, "
        f"user_sourced_id, role FROM {ENROLLMENT} WHERE {_scope(org, params)} "
        f"AND {_since(since, params)} ORDER BY sourced_id"
    )
    for sid, status, dlm, klass, school, user, role in _rows(sql, params):
        yield {
            "sourcedId": sid,
            "status": status,
            "dateLastModified": stamp(dlm),
            "classSourcedId": klass,
            "schoolSourcedId": school,
            "userSourcedId": user,
            "role": role,
        }


def _demographics(org, since):
    params: dict = {}
    sql = (
        f"SELECT sourced_id, status, date_last_modified, birth_date, sex FROM {USER} "
        f"WHERE {_scope(org, params)} AND {_since(since, params)} ORDER BY sourced_id"
    )
    for sid, status, dlm, born, sex in _rows(sql, params):
        yield {
            "sourcedId": sid,
            "status": status,
            "dateLastModified": stamp(dlm),
            "birthDate": day(born) if born else "",
            "sex": SEX.get(sex, "unspecified"),
        }


@transaction.atomic
def do_export_package(
    out,
    *,
    org: str,
    since: dt.datetime | None = None,
    demographics: bool = False,
    nisn: bool = False,
    actor: str,
) -> Result:
    """Write the package and record who took which org's data (personal data included or
    not) in the audit log."""
    result = write_package(out, org=org, since=since, demographics=demographics, nisn=nisn)
    record(
        Action.ONEROSTER_EXPORT_PACKAGE,
        actor=actor,
        object_type="oneroster_package",
        object_id=org,
        after={
            "delta_since": since.isoformat() if since else None,
            "counts": result.counts,
            "demographics": demographics,
            "nisn": nisn,
        },
        npsn=org if len(org) == 8 else "",
        kode_wilayah=org if org.isdigit() and len(org) < 8 else "",
    )
    return result
