"""The OneRoster objects as JSON (OneRoster 1.2 REST binding): which projection columns each
collection reads, which fields it may be filtered and sorted on, and its serializer.

Personal data of minors: NISN goes out (in userIds) only to a service allowed the `nisn`
personal claim; birth date only through demographics (its own scope, off unless the service
was registered with --oneroster-demographics). NIK is never stored, so never sent.
"""

import dataclasses
import datetime as dt
from collections.abc import Callable

from django.utils.dateparse import parse_date, parse_datetime

from akun.oneroster import sessions
from akun.oneroster.models import OrClass, OrCourse, OrEnrollment, OrOrg, OrUser
from akun.oneroster.project import MINISTRY
from akun.oneroster.query import Field

BASE = "/ims/oneroster/rostering/v1p2"


def stamp(value) -> str:
    """A dateLastModified in the spec's form: UTC, with a Z."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def day(value) -> str:
    if isinstance(value, str):
        value = parse_date(value[:10])
    return value.isoformat()


def grade(n) -> str:
    return f"{int(n):02d}"


@dataclasses.dataclass
class Context:
    """What a serializer needs of the request: the site's base URL and what the client may
    receive."""

    base: str  # https://host/ims/oneroster/rostering/v1p2
    nisn: bool = False
    birth_date: bool = False

    def ref(self, kind: str, path: str, sid: str) -> dict:
        return {"href": f"{self.base}/{path}/{sid}", "sourcedId": sid, "type": kind}

    def org(self, sid: str) -> dict:
        return self.ref("org", "orgs", sid)


COMMON = {
    "sourcedId": Field("sourced_id"),
    "status": Field("status"),
    "dateLastModified": Field("date_last_modified", "datetime"),
}
COMMON_COLUMNS = ["sourced_id", "status", "date_last_modified"]


@dataclasses.dataclass
class Resource:
    key: str  # the collection's JSON key ("users")
    single: str  # a single object's JSON key ("user")
    table: str
    columns: list[str]
    fields: dict[str, Field]
    output: tuple[str, ...]  # every field it may put out (for `fields=`)
    serialize: Callable[[dict, Context], dict]
    where: str = ""  # a condition every row of this collection meets


def _org(r, c: Context) -> dict:
    out = {
        "sourcedId": r["sourced_id"],
        "status": r["status"],
        "dateLastModified": stamp(r["date_last_modified"]),
        "name": r["name"],
        "type": r["type"],
        "identifier": r["identifier"],
    }
    if r["parent_sourced_id"]:
        out["parent"] = c.org(r["parent_sourced_id"])
    return out


def _course(r, c: Context) -> dict:
    return {
        "sourcedId": r["sourced_id"],
        "status": r["status"],
        "dateLastModified": stamp(r["date_last_modified"]),
        "title": r["title"],
        "schoolYear": c.ref(
            "academicSession", "academicSessions", sessions.school_year().sourced_id
        ),
        "courseCode": r["course_code"],
        "grades": [grade(r["grade"])],
        "org": c.org(r["school_sourced_id"]),
    }


def _class(r, c: Context) -> dict:
    return {
        "sourcedId": r["sourced_id"],
        "status": r["status"],
        "dateLastModified": stamp(r["date_last_modified"]),
        "title": r["title"],
        "classCode": r["rombel"],
        "classType": "homeroom",
        "grades": [grade(r["grade"])],
        "course": c.ref("course", "courses", r["course_sourced_id"]),
        "school": c.org(r["school_sourced_id"]),
        "terms": [c.ref("academicSession", "terms", t.sourced_id) for t in sessions.terms()],
    }


def _user(r, c: Context) -> dict:
    out = {
        "sourcedId": r["sourced_id"],
        "status": r["status"],
        "dateLastModified": stamp(r["date_last_modified"]),
        "username": r["username"],
        "userIds": [{"type": "akun", "identifier": r["username"]}],
        "enabledUser": "true" if r["enabled"] else "false",
        "givenName": r["given_name"],
        "familyName": r["family_name"],
        "roles": [],
        "email": r["username"],
    }
    if r["nisn"] and c.nisn:
        out["userIds"].append({"type": "NISN", "identifier": r["nisn"]})
    school = r["school_sourced_id"]
    if school:
        out["roles"] = [{"roleType": "primary", "role": r["role"], "org": c.org(school)}]
        out["primaryOrg"] = c.org(school)
    else:  # a deleted account's school is gone: the national org stands in (roles: 1..n)
        out["roles"] = [{"roleType": "primary", "role": r["role"], "org": c.org(MINISTRY)}]
    if r["grade"] is not None:
        out["grades"] = [grade(r["grade"])]
    return out


def _enrollment(r, c: Context) -> dict:
    return {
        "sourcedId": r["sourced_id"],
        "status": r["status"],
        "dateLastModified": stamp(r["date_last_modified"]),
        "user": c.ref("user", "users", r["user_sourced_id"]),
        "class": c.ref("class", "classes", r["class_sourced_id"]),
        "school": c.org(r["school_sourced_id"]),
        "role": r["role"],
    }


SEX = {"L": "male", "P": "female"}


def _demographics(r, c: Context) -> dict:
    out = {
        "sourcedId": r["sourced_id"],
        "status": r["status"],
        "dateLastModified": stamp(r["date_last_modified"]),
    }
    if c.birth_date and r["birth_date"]:
        out["birthDate"] = day(r["birth_date"])
    out["sex"] = SEX.get(r["sex"], "unspecified")
    return out


ORG_FIELDS = {
    **COMMON,
    "name": Field("name"),
    "type": Field("type"),
    "identifier": Field("identifier"),
    "parent.sourcedId": Field("parent_sourced_id"),
}
USER_FIELDS = {
    **COMMON,
    "username": Field("username"),
    "email": Field("username"),
    "givenName": Field("given_name"),
    "familyName": Field("family_name"),
    "role": Field("role"),
    "enabledUser": Field("enabled", "bool"),
    "primaryOrg.sourcedId": Field("school_sourced_id"),
}
USER_COLUMNS = COMMON_COLUMNS + [
    "role", "username", "given_name", "family_name", "enabled", "school_sourced_id", "grade",
    "nisn",
]  # fmt: skip
USER_OUTPUT = (
    "sourcedId", "status", "dateLastModified", "username", "userIds", "enabledUser",
    "givenName", "familyName", "roles", "email", "primaryOrg", "grades",
)  # fmt: skip


def _users(key, single, where="") -> Resource:
    return Resource(
        key, single, OrUser._meta.db_table, USER_COLUMNS, USER_FIELDS, USER_OUTPUT, _user, where
    )


RESOURCES = {
    "orgs": Resource(
        "orgs",
        "org",
        OrOrg._meta.db_table,
        COMMON_COLUMNS + ["name", "type", "identifier", "parent_sourced_id"],
        ORG_FIELDS,
        ("sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parent"),
        _org,
    ),
    "courses": Resource(
        "courses",
        "course",
        OrCourse._meta.db_table,
        COMMON_COLUMNS + ["title", "course_code", "grade", "school_sourced_id"],
        {
            **COMMON,
            "title": Field("title"),
            "courseCode": Field("course_code"),
            "grades": Field("grade", "grade"),
            "org.sourcedId": Field("school_sourced_id"),
        },
        (
            "sourcedId",
            "status",
            "dateLastModified",
            "title",
            "schoolYear",
            "courseCode",
            "grades",
            "org",
        ),  # fmt: skip
        _course,
    ),
    "classes": Resource(
        "classes",
        "class",
        OrClass._meta.db_table,
        COMMON_COLUMNS + ["title", "rombel", "grade", "course_sourced_id", "school_sourced_id"],
        {
            **COMMON,
            "title": Field("title"),
            "classCode": Field("rombel"),
            "grades": Field("grade", "grade"),
            "course.sourcedId": Field("course_sourced_id"),
            "school.sourcedId": Field("school_sourced_id"),
        },
        (
            "sourcedId",
            "status",
            "dateLastModified",
            "title",
            "classCode",
            "classType",
            "grades",
            "course",
            "school",
            "terms",
        ),  # fmt: skip
        _class,
    ),
    "users": _users("users", "user"),
    "enrollments": Resource(
        "enrollments",
        "enrollment",
        OrEnrollment._meta.db_table,
        COMMON_COLUMNS + ["user_sourced_id", "class_sourced_id", "school_sourced_id", "role"],
        {
            **COMMON,
            "role": Field("role"),
            "user.sourcedId": Field("user_sourced_id"),
            "class.sourcedId": Field("class_sourced_id"),
            "school.sourcedId": Field("school_sourced_id"),
        },
        ("sourcedId", "status", "dateLastModified", "user", "class", "school", "role"),
        _enrollment,
    ),
    "demographics": Resource(
        "demographics",
        "demographics",
        OrUser._meta.db_table,
        COMMON_COLUMNS + ["birth_date", "sex"],
        COMMON,
        ("sourcedId", "status", "dateLastModified", "birthDate", "sex"),
        _demographics,
    ),
}
RESOURCES["schools"] = dataclasses.replace(RESOURCES["orgs"], where="type = 'school'")
RESOURCES["students"] = _users("users", "user", "role = 'student'")
RESOURCES["teachers"] = _users("users", "user", "role = 'teacher'")


# --- academic sessions (not in the database: akun.oneroster.sessions) -----------------------


def session_dict(s: sessions.Session, c: Context) -> dict:
    out = {
        "sourcedId": s.sourced_id,
        "status": "active",
        "dateLastModified": stamp(s.date_last_modified),
        "title": s.title,
        "startDate": s.start.isoformat(),
        "endDate": s.end.isoformat(),
        "type": s.type,
        "schoolYear": s.school_year,
    }
    if s.parent:
        out["parent"] = c.ref("academicSession", "academicSessions", s.parent)
    if s.children:
        out["children"] = [c.ref("academicSession", "academicSessions", k) for k in s.children]
    return out


SESSION_FIELDS = (
    "sourcedId", "status", "dateLastModified", "title", "startDate", "endDate", "type",
    "schoolYear", "parent", "children",
)  # fmt: skip
SESSION_FILTER = {
    "sourcedId": "sourcedId", "status": "status", "dateLastModified": "dateLastModified",
    "title": "title", "type": "type", "schoolYear": "schoolYear", "startDate": "startDate",
    "endDate": "endDate",
}  # fmt: skip
