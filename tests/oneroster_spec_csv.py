"""A checker of OneRoster 1.2 CSV packages, written from the specification, not from Akun's
code: 1EdTech, "OneRoster: CSV Binding", version 1.2.1 (Final Release, 22 August 2023),
https://www.imsglobal.org/spec/oneroster/v1p2/bind/csv -- section 2 (the package: the
manifest, its properties, bulk/delta/absent; UTF-8, RFC 4180, no line breaks in a field, a
header row in the defined order, no file without data rows, status and dateLastModified blank
in bulk files and set in delta files) and section 3 (each file's columns, in order, which
are required, their vocabularies and formats).

The headers were transcribed by hand from those tables, and cross-checked against an
independent OneRoster 1.2 (Japan profile) CSV exporter found in the public code index, whose
headers match these column for column (it adds only its own `metadata.jp.*` columns).
"""

import csv
import io
import re
import zipfile

SPEC_FILES = (
    "academicSessions", "categories", "classes", "classResources", "courses",
    "courseResources", "demographics", "enrollments", "lineItemLearningObjectiveIds",
    "lineItems", "lineItemScoreScales", "orgs", "resources", "resultLearningObjectiveIds",
    "results", "resultScoreScales", "roles", "scoreScales", "userProfiles", "userResources",
    "users",
)  # fmt: skip

SPEC_COLUMNS = {
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

REQUIRED = {
    "academicSessions": ("sourcedId", "title", "type", "startDate", "endDate", "schoolYear"),
    "classes": (
        "sourcedId",
        "title",
        "courseSourcedId",
        "classType",
        "schoolSourcedId",
        "termSourcedIds",
    ),  # fmt: skip
    "courses": ("sourcedId", "title", "orgSourcedId"),
    "demographics": ("sourcedId",),
    "enrollments": ("sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"),
    "orgs": ("sourcedId", "name", "type"),
    "roles": ("sourcedId", "userSourcedId", "roleType", "role", "orgSourcedId"),
    "users": ("sourcedId", "enabledUser", "givenName", "familyName"),
}

ROLES = {
    "aide", "counselor", "districtAdministrator", "guardian", "parent", "principal", "proctor",
    "relative", "siteAdministrator", "student", "systemAdministrator", "teacher",
}  # fmt: skip
ENUMS = {
    ("academicSessions", "type"): {"gradingPeriod", "semester", "schoolYear", "term"},
    ("classes", "classType"): {"homeroom", "scheduled"},
    ("orgs", "type"): {"department", "district", "local", "national", "school", "state"},
    ("users", "enabledUser"): {"true", "false"},
    ("roles", "roleType"): {"primary", "secondary"},
    ("roles", "role"): ROLES,
    ("enrollments", "role"): {"administrator", "proctor", "student", "teacher"},
    ("enrollments", "primary"): {"", "true", "false"},
    ("demographics", "sex"): {"", "male", "female", "unspecified", "other"},
}
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z")
DATES = {
    ("academicSessions", "startDate"), ("academicSessions", "endDate"),
    ("demographics", "birthDate"), ("enrollments", "beginDate"), ("enrollments", "endDate"),
    ("roles", "beginDate"), ("roles", "endDate"),
}  # fmt: skip
# column -> the file its sourcedIds must be in (a list for the plural columns)
REFERENCES = {
    ("academicSessions", "parentSourcedId"): "academicSessions",
    ("classes", "courseSourcedId"): "courses",
    ("classes", "schoolSourcedId"): "orgs",
    ("classes", "termSourcedIds"): "academicSessions",
    ("courses", "schoolYearSourcedId"): "academicSessions",
    ("courses", "orgSourcedId"): "orgs",
    ("demographics", "sourcedId"): "users",
    ("enrollments", "classSourcedId"): "classes",
    ("enrollments", "schoolSourcedId"): "orgs",
    ("enrollments", "userSourcedId"): "users",
    ("orgs", "parentSourcedId"): "orgs",
    ("roles", "userSourcedId"): "users",
    ("roles", "orgSourcedId"): "orgs",
    ("users", "primaryOrgSourcedId"): "orgs",
}


def check_package(zf: zipfile.ZipFile, *, delta: bool = False) -> dict:
    """Assert the package follows the binding; return its rows per file."""
    names = set(zf.namelist())
    assert "manifest.csv" in names
    manifest_rows = _read(zf, "manifest.csv")
    assert manifest_rows[0] == ["propertyName", "value"]
    manifest = dict(manifest_rows[1:])
    assert manifest["manifest.version"] == "1.0"
    assert manifest["oneroster.version"] == "1.2"
    mode = "delta" if delta else "bulk"
    data = {}
    for f in SPEC_FILES:
        value = manifest[f"file.{f}"]
        assert value in ("absent", mode), (f, value)
        assert (value != "absent") == (f"{f}.csv" in names), f
        if value == "absent":
            continue
        assert f in SPEC_COLUMNS, f"{f}: a file this checker does not know"
        rows = _read(zf, f"{f}.csv")
        assert tuple(rows[0]) == SPEC_COLUMNS[f], f
        assert len(rows) > 1, f"{f}.csv has no data rows"
        data[f] = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert names <= {"manifest.csv"} | {f"{f}.csv" for f in data}
    for f, rows in data.items():
        ids = [r["sourcedId"] for r in rows]
        assert len(ids) == len(set(ids)), f"{f}: a sourcedId twice"
        for r in rows:
            for c in REQUIRED.get(f, ()):
                assert r[c], (f, c, r)
            if delta:
                assert r["status"] in ("active", "tobedeleted"), (f, r)
                assert DATETIME.fullmatch(r["dateLastModified"]), (f, r)
            else:
                assert r["status"] == "" and r["dateLastModified"] == "", (f, r)
            for (ff, c), allowed in ENUMS.items():
                if ff == f:
                    assert r[c] in allowed, (f, c, r[c])
            for ff, c in DATES:
                if ff == f and r[c]:
                    assert DATE.fullmatch(r[c]), (f, c, r[c])
            if f == "academicSessions":
                assert re.fullmatch(r"\d{4}", r["schoolYear"])
            if f == "users" and r["userIds"]:
                for part in r["userIds"].split(","):
                    assert re.fullmatch(r"\{[^:{}]+:[^{}]+\}", part), part
    if not delta:  # a delta may name objects it does not carry (they did not change)
        present = {f: {r["sourcedId"] for r in rows} for f, rows in data.items()}
        for (f, c), target in REFERENCES.items():
            for r in data.get(f, ()):
                for ref in filter(None, r[c].split(",")):
                    assert ref in present.get(target, set()), (f, c, ref)
    return data


def _read(zf: zipfile.ZipFile, name: str) -> list[list[str]]:
    raw = zf.read(name)
    text = raw.decode("utf-8")  # the binding: UTF-8 (a BOM is tolerated by readers)
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    for row in rows:
        for value in row:
            assert "\n" not in value and "\r" not in value, (name, value)
    return rows
