"""OneRoster 1.2 rostering REST endpoints (read only) at /ims/oneroster/rostering/v1p2/.

Every request: a bearer token of a service registered for OneRoster (client credentials)
with a scope the endpoint accepts (401 / 403 otherwise, in the spec's imsx status form),
then only the objects under the orgs the service was granted: anything else is
`unknownobject` (404), whether it exists or not.
"""

import json
import time
from urllib.parse import urlencode

from django.conf import settings
from django.db import connections
from django.http import HttpResponse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_safe

from akun.core.replica import read_from_replica, replica_alias
from akun.oneroster import query, sessions
from akun.oneroster.actions import CORE, DEMOGRAPHICS, NATIONAL, ROSTER
from akun.oneroster.models import OrClient
from akun.oneroster.project import MINISTRY
from akun.oneroster.query import QueryError
from akun.oneroster.resources import (
    BASE,
    RESOURCES,
    SESSION_FIELDS,
    SESSION_FILTER,
    Context,
    session_dict,
    stamp,
)
from akun.sso.api import service_of_client, verify_bearer

READ = frozenset({CORE, ROSTER})  # the collections and single objects
ROSTER_ONLY = frozenset({ROSTER})  # the sub-collections (links between objects)
DEMO = frozenset({DEMOGRAPHICS})


def error(status: int, minor: str, description: str) -> HttpResponse:
    body = {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_CodeMinor": {
            "imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": minor}
            ]
        },
    }
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="oneroster"'
    response["Cache-Control"] = "no-store"
    return response


class Denied(Exception):
    def __init__(self, response):
        self.response = response


# --- the client -------------------------------------------------------------------------------

_clients: dict[str, tuple[float, OrClient | None, tuple]] = {}
CLIENT_SECONDS = 10


def _client(client_id: str):
    hit = _clients.get(client_id)
    now = time.monotonic()
    if hit is not None and now - hit[0] < CLIENT_SECONDS:
        return hit[1], hit[2]
    client = OrClient.objects.filter(client_id=client_id).first()
    svc = service_of_client(client_id)
    personal = tuple(svc.personal_claims) if svc else ()
    _clients[client_id] = (now, client, personal)
    return client, personal


def forget_clients() -> None:
    _clients.clear()


class Caller:
    def __init__(self, request, accepted: frozenset):
        token = verify_bearer(request) if "HTTP_AUTHORIZATION" in request.META else None
        if token is None:
            raise Denied(error(401, "unauthorisedrequest", "a valid bearer token is needed"))
        scopes = set(token.scope.split())
        if not scopes & accepted:
            raise Denied(error(403, "forbidden", "the token has no scope for this endpoint"))
        client, personal = _client(token.application.client_id)
        if client is None or not client.orgs:
            raise Denied(error(403, "forbidden", "this client is not registered for OneRoster"))
        self.orgs = tuple(client.orgs)
        self.context = Context(
            base=request.build_absolute_uri(BASE),
            nisn="nisn" in personal,
            birth_date=client.demographics and DEMOGRAPHICS in scopes,
        )

    def scope_sql(self, params: dict) -> str:
        """The rows under the granted orgs: one school's NPSN, or a region's code prefix."""
        if NATIONAL in self.orgs:
            return "1 = 1"
        parts = []
        for i, org in enumerate(self.orgs):
            if len(org) == 8:
                params[f"o{i}"] = org
                parts.append(f"npsn = %(o{i})s")
            else:
                params[f"o{i}"] = org + "%"
                parts.append(f"kode_wilayah LIKE %(o{i})s")
        return "(" + " OR ".join(parts) + ")"


def endpoint(accepted: frozenset):
    def wrap(view):
        @require_safe
        def wrapper(request, *args, **kwargs):
            try:
                caller = Caller(request, accepted)  # the token: on the primary, never late
                # The roster itself from the replica when there is one (it tolerates lag;
                # the primary answers when the replica does not).
                return read_from_replica(lambda r: view(r, caller, *args, **kwargs))(request)
            except Denied as d:
                return d.response
            except QueryError as e:
                return error(400, e.minor, e.description)

        wrapper.__name__ = view.__name__
        return wrapper

    return wrap


# --- reading --------------------------------------------------------------------------------


def _fields(request, output) -> tuple[str, ...] | None:
    raw = request.GET.get("fields", "")
    if not raw:
        return None
    names = tuple(f.strip() for f in raw.split(",") if f.strip())
    bad = [n for n in names if n not in output]
    if bad or not names:
        raise QueryError("invalid_selection_field", f"unknown fields: {', '.join(bad)}")
    return names


def _select(obj: dict, names) -> dict:
    return obj if names is None else {k: obj[k] for k in names if k in obj}


def _json(body: dict, status: int = 200) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type="application/json",
    )
    response["Cache-Control"] = "no-store"
    return response


def _links(request, total: int, limit: int, offset: int, next_key) -> str:
    def url(off, cursor=None):
        q = {k: v for k, v in request.GET.items() if k not in ("offset", "limit", "cursor")}
        q.update({"limit": limit, "offset": off})
        if cursor:
            q["cursor"] = cursor
        return f"<{request.build_absolute_uri(request.path)}?{urlencode(q)}>"

    last = max(0, (total - 1) // limit * limit) if total else 0
    links = [f'{url(0)}; rel="first"', f'{url(last)}; rel="last"']
    if offset + limit < total:
        cursor = query.encode_cursor(offset + limit, next_key) if next_key else None
        links.append(f'{url(offset + limit, cursor)}; rel="next"')
    if offset > 0:
        links.append(f'{url(max(0, offset - limit))}; rel="prev"')
    return ", ".join(links)


def collection(request, caller: Caller, name: str, where: str = "", params=None):
    """A page of a collection (a resource from RESOURCES), under the caller's orgs and
    `where` (a parent's condition)."""
    res = RESOURCES[name]
    params = dict(params or {})
    limit = min(query.whole(request, "limit", 100, 1), _max_limit())
    offset = query.whole(request, "offset", 0, 0)
    names = _fields(request, res.output)
    conds = [caller.scope_sql(params)]
    if res.where:
        conds.append(res.where)
    if where:
        conds.append(where)
    text = request.GET.get("filter", "")
    if text:
        conds.append(query.filter_sql(text, res.fields, params))
    sort_name = request.GET.get("sort", "") or "sourcedId"
    sort = res.fields.get(sort_name)
    if sort is None or sort.kind == "grade":
        raise QueryError("invaliddata", f"cannot sort on {sort_name!r}")
    order = request.GET.get("orderBy", "asc")
    if order not in ("asc", "desc"):
        raise QueryError("invaliddata", "orderBy is asc or desc")
    col = sort.column
    sig = query.signature(name, caller.orgs, " AND ".join(conds), params, col, order)
    total = query.cached_count(sig, lambda: _count(res.table, conds, params))

    key = None
    if offset and sort.kind == "text":
        key = query.decode_cursor(request.GET.get("cursor", ""), offset)
        key = key or query.KEYS.get(sig, offset)
    direction = "DESC" if order == "desc" else "ASC"
    page_conds = list(conds)
    skip = offset
    if key is not None:
        params["k0"], params["k1"] = key
        op = "<" if order == "desc" else ">"
        if col == "sourced_id":
            page_conds.append(f"sourced_id {op} %(k1)s")
        else:
            page_conds.append(f"({col}, sourced_id) {op} (%(k0)s, %(k1)s)")
        skip = 0
    columns = list(dict.fromkeys(res.columns + ([col] if col not in res.columns else [])))
    sql = (
        f"SELECT {', '.join(columns)} FROM {res.table} WHERE {' AND '.join(page_conds)} "
        f"ORDER BY {col} {direction}, sourced_id {direction} LIMIT {int(limit)}"
        + (f" OFFSET {int(skip)}" if skip else "")
    )
    with connections[replica_alias()].cursor() as cur:
        cur.execute(sql, params)
        rows = [dict(zip(columns, r, strict=True)) for r in cur.fetchall()]
    next_key = None
    if rows and sort.kind == "text":  # other kinds page with OFFSET (types in a cursor)
        next_key = [rows[-1][col], rows[-1]["sourced_id"]]
        query.KEYS.put(sig, offset + len(rows), next_key)
    ctx = caller.context
    body = {res.key: [_select(res.serialize(r, ctx), names) for r in rows]}
    response = _json(body)
    response["X-Total-Count"] = str(total)
    response["Link"] = _links(request, total, limit, offset, next_key)
    return response


def _max_limit() -> int:
    return settings.AKUN_ONEROSTER_MAX_LIMIT


def _count(table: str, conds: list[str], params: dict) -> int:
    with connections[replica_alias()].cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {table} WHERE {' AND '.join(conds)}", params)
        return cur.fetchone()[0]


def _one(caller: Caller, name: str, sourced_id: str) -> dict | None:
    res = RESOURCES[name]
    # Ours are short and printable; a NUL (%00 in the path) would make PostgreSQL fail.
    if len(sourced_id) > 100 or not sourced_id.isprintable():
        return None
    params = {"sid": sourced_id}
    conds = [caller.scope_sql(params), "sourced_id = %(sid)s"]
    if res.where:
        conds.append(res.where)
    with connections[replica_alias()].cursor() as cur:
        cur.execute(
            f"SELECT {', '.join(res.columns)} FROM {res.table} WHERE {' AND '.join(conds)}",
            params,
        )
        row = cur.fetchone()
    return None if row is None else dict(zip(res.columns, row, strict=True))


def single(request, caller: Caller, name: str, sourced_id: str):
    res = RESOURCES[name]
    names = _fields(request, res.output)
    row = _one(caller, name, sourced_id)
    if row is None:
        return error(404, "unknownobject", f"no {res.single} {sourced_id!r} here")
    return _json({res.single: _select(res.serialize(row, caller.context), names)})


def _unknown(kind: str, sourced_id: str):
    return error(404, "unknownobject", f"no {kind} {sourced_id!r} here")


# --- academic sessions ------------------------------------------------------------------------


def _sessions(request, caller: Caller, items, single_id=None):
    names = _fields(request, SESSION_FIELDS)
    ctx = caller.context
    objs = [session_dict(s, ctx) for s in items]
    if single_id is not None:
        found = [o for o in objs if o["sourcedId"] == single_id]
        if not found:
            return _unknown("academicSession", single_id)
        return _json({"academicSession": _select(found[0], names)})
    text = request.GET.get("filter", "")
    if text:
        groups = query.parse_filter(text)
        for group in groups:
            for field, _op, _value in group:
                if field not in SESSION_FILTER:
                    raise QueryError("invalid_filter_field", f"cannot filter on {field!r}")
        objs = [o for o in objs if any(all(_match(o, p) for p in g) for g in groups)]
    sort = request.GET.get("sort", "") or "sourcedId"
    if sort not in SESSION_FILTER:
        raise QueryError("invaliddata", f"cannot sort on {sort!r}")
    order = request.GET.get("orderBy", "asc")
    if order not in ("asc", "desc"):
        raise QueryError("invaliddata", "orderBy is asc or desc")
    objs.sort(key=lambda o: (o.get(sort) or "", o["sourcedId"]), reverse=order == "desc")
    limit = min(query.whole(request, "limit", 100, 1), _max_limit())
    offset = query.whole(request, "offset", 0, 0)
    page = objs[offset : offset + limit]
    response = _json({"academicSessions": [_select(o, names) for o in page]})
    response["X-Total-Count"] = str(len(objs))
    response["Link"] = _links(request, len(objs), limit, offset, None)
    return response


def _match(obj: dict, predicate) -> bool:
    field, op, value = predicate
    have = str(obj.get(field, ""))
    if field == "dateLastModified":
        have, value = _norm_time(have), _norm_time(value)
    return {
        "=": have == value,
        "!=": have != value,
        ">": have > value,
        ">=": have >= value,
        "<": have < value,
        "<=": have <= value,
        "~": value.lower() in have.lower(),
    }[op]


def _norm_time(text: str) -> str:
    parsed = parse_datetime(text)
    if parsed is None:
        raise QueryError("invalid_filter_field", f"dateLastModified: not a date-time: {text!r}")
    return stamp(parsed)


# --- the endpoints ----------------------------------------------------------------------------


def _school_or_none(caller: Caller, sid: str):
    row = _one(caller, "schools", sid)
    return row


def _class_or_none(caller: Caller, sid: str):
    return _one(caller, "classes", sid)


@endpoint(READ)
def academic_sessions(request, caller):
    return _sessions(request, caller, sessions.current())


@endpoint(READ)
def academic_session(request, caller, sid):
    return _sessions(request, caller, sessions.current(), sid)


@endpoint(READ)
def terms(request, caller):
    return _sessions(request, caller, sessions.terms())


@endpoint(READ)
def term(request, caller, sid):
    return _sessions(request, caller, sessions.terms(), sid)


@endpoint(READ)
def grading_periods(request, caller):
    return _sessions(request, caller, [])  # Akun has no grading periods


@endpoint(READ)
def grading_period(request, caller, sid):
    return _sessions(request, caller, [], sid)


def _list(name):
    @endpoint(DEMO if name == "demographics" else READ)
    def view(request, caller):
        return collection(request, caller, name)

    view.__name__ = f"list_{name}"
    return view


def _get(name):
    @endpoint(DEMO if name == "demographics" else READ)
    def view(request, caller, sid):
        return single(request, caller, name, sid)

    view.__name__ = f"get_{name}"
    return view


LIST = {name: _list(name) for name in RESOURCES}
GET = {name: _get(name) for name in RESOURCES}


@endpoint(ROSTER_ONLY)
def term_classes(request, caller, sid):
    if sid not in {t.sourced_id for t in sessions.terms()}:
        return _unknown("term", sid)
    return collection(request, caller, "classes")  # every class runs both semesters


@endpoint(ROSTER_ONLY)
def term_grading_periods(request, caller, sid):
    if sid not in {t.sourced_id for t in sessions.terms()}:
        return _unknown("term", sid)
    return _sessions(request, caller, [])


@endpoint(ROSTER_ONLY)
def course_classes(request, caller, sid):
    if _one(caller, "courses", sid) is None:
        return _unknown("course", sid)
    return collection(request, caller, "classes", "course_sourced_id = %(p)s", {"p": sid})


@endpoint(ROSTER_ONLY)
def class_students(request, caller, sid):
    if _class_or_none(caller, sid) is None:
        return _unknown("class", sid)
    return collection(request, caller, "students", "class_sourced_id = %(p)s", {"p": sid})


@endpoint(ROSTER_ONLY)
def class_teachers(request, caller, sid):
    if _class_or_none(caller, sid) is None:
        return _unknown("class", sid)
    # Dapodik's export says which school a teacher teaches at, not which rombel.
    return collection(request, caller, "teachers", "1 = 0")


def _user_classes(name):
    @endpoint(ROSTER_ONLY)
    def view(request, caller, sid):
        row = _one(caller, name, sid)
        if row is None:
            return _unknown("user", sid)
        with connections[replica_alias()].cursor() as cur:
            cur.execute(
                "SELECT class_sourced_id FROM oneroster_oruser WHERE sourced_id = %s", [sid]
            )
            current = (cur.fetchone() or [""])[0]
        return collection(request, caller, "classes", "sourced_id = %(p)s", {"p": current})

    view.__name__ = f"{name}_classes"
    return view


user_classes = _user_classes("users")
student_classes = _user_classes("students")
teacher_classes = _user_classes("teachers")


def _school_sub(name, column="school_sourced_id"):
    @endpoint(ROSTER_ONLY)
    def view(request, caller, sid):
        if _school_or_none(caller, sid) is None:
            return _unknown("school", sid)
        return collection(request, caller, name, f"{column} = %(p)s", {"p": sid})

    view.__name__ = f"school_{name}"
    return view


school_classes = _school_sub("classes")
school_courses = _school_sub("courses")
school_enrollments = _school_sub("enrollments")
school_students = _school_sub("students")
school_teachers = _school_sub("teachers")


@endpoint(ROSTER_ONLY)
def school_terms(request, caller, sid):
    if _school_or_none(caller, sid) is None:
        return _unknown("school", sid)
    return _sessions(request, caller, sessions.terms())


def _school_class(caller, school, klass):
    row = _class_or_none(caller, klass)
    return row if row is not None and row["school_sourced_id"] == school else None


@endpoint(ROSTER_ONLY)
def school_class_enrollments(request, caller, sid, cid):
    if _school_class(caller, sid, cid) is None:
        return _unknown("class", cid)
    return collection(request, caller, "enrollments", "class_sourced_id = %(p)s", {"p": cid})


@endpoint(ROSTER_ONLY)
def school_class_students(request, caller, sid, cid):
    if _school_class(caller, sid, cid) is None:
        return _unknown("class", cid)
    return collection(request, caller, "students", "class_sourced_id = %(p)s", {"p": cid})


@endpoint(ROSTER_ONLY)
def school_class_teachers(request, caller, sid, cid):
    if _school_class(caller, sid, cid) is None:
        return _unknown("class", cid)
    return collection(request, caller, "teachers", "1 = 0")


def not_found(request, rest=""):
    return error(404, "unknownobject", "no such endpoint in the OneRoster rostering service")


assert MINISTRY  # the national org is referenced by users whose school is gone
