"""Every OneRoster endpoint against 1EdTech's own OpenAPI document (vendored in
tests/oneroster_openapi, see its README), with a maintained validator (openapi-core): bodies,
the X-Total-Count header, the error responses (401, 403, 404, 400), and the Link header's
form (RFC 8288; the document describes the links, not the header)."""

import json
import re
from pathlib import Path

import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from tests.oneroster_support import (
    BASE,
    CORE,
    DEMOGRAPHICS,
    ROSTER,
    make_world,
    platform,
    reset_caches,
    token,
)

pytestmark = pytest.mark.django_db(transaction=True)

DOC = (
    Path(__file__).parent
    / "oneroster_openapi"
    / "onerosterv1p2rostersservice_openapi3_v1p0.extract.json"
)


@pytest.fixture(scope="module")
def openapi():
    spec = json.loads(DOC.read_text())
    spec["servers"] = [{"url": f"http://testserver{BASE}"}]
    return OpenAPI.from_dict(spec)  # checks the document itself too


@pytest.fixture(autouse=True)
def _fresh():
    reset_caches()
    yield
    reset_caches()


LINK = re.compile(r'<http://testserver/[^>]+>; rel="(first|last|next|prev)"')


def check(openapi, client, tok, path, status=200, **params):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {tok}"} if tok else {}
    r = client.get(BASE + path, params, **headers)
    assert r.status_code == status, (path, r.status_code, r.content[:300])
    request = MockRequest(
        "http://testserver", "get", BASE + path, args={k: str(v) for k, v in params.items()}
    )
    response = MockResponse(
        r.content,
        status_code=r.status_code,
        headers=dict(r.items()),
        content_type=r["Content-Type"],
    )
    openapi.validate_response(request, response)
    if status == 200 and "X-Total-Count" in r:
        links = [part.strip() for part in r["Link"].split(",")]
        assert all(LINK.fullmatch(part) for part in links), r["Link"]
        assert {LINK.fullmatch(p).group(1) for p in links} >= {"first", "last"}
    return r


def test_every_operation_of_the_document_answers_valid_responses(openapi, client):
    w = make_world()
    cid, secret = platform(["20104321"], demographics=True, personal=["nisn"])
    tok = token(client, cid, secret, scope=f"{CORE} {ROSTER} {DEMOGRAPHICS}")
    classes = check(openapi, client, tok, "/classes").json()["classes"]
    klass = next(c["sourcedId"] for c in classes if c["classCode"] == "5A")
    course = classes[0]["course"]["sourcedId"]
    enrollment = check(openapi, client, tok, "/enrollments").json()["enrollments"][0]["sourcedId"]
    terms = check(openapi, client, tok, "/terms").json()["academicSessions"]
    term = terms[0]["sourcedId"]
    school = "npsn-20104321"
    ids = {
        "sourcedId": None,  # per path below
        "classSourcedId": klass,
        "courseSourcedId": course,
        "schoolSourcedId": school,
        "studentSourcedId": "siti0",
        "teacherSourcedId": "remo1",
        "termSourcedId": term,
        "userSourcedId": "siti0",
    }
    singles = {
        "academicSessions": term,
        "classes": klass,
        "courses": course,
        "demographics": "siti0",
        "enrollments": enrollment,
        "orgs": school,
        "schools": school,
        "students": "siti0",
        "teachers": "remo1",
        "terms": term,
        "users": "dewi1",
    }
    spec = json.loads(DOC.read_text())
    seen = 0
    for template in spec["paths"]:
        if template == "/gradingPeriods/{sourcedId}":
            # Akun has no grading periods: the one answer is unknownobject, checked below.
            check(openapi, client, tok, "/gradingPeriods/none", 404)
            seen += 1
            continue
        root = template.split("/")[1]
        values = {**ids, "sourcedId": singles.get(root)}
        path = re.sub(r"\{(\w+)\}", lambda m, v=values: v[m.group(1)], template)
        r = check(openapi, client, tok, path)
        if "X-Total-Count" in r:
            check(openapi, client, tok, path, limit=1, offset=1, sort="sourcedId", orderBy="desc")
        seen += 1
    assert seen == len(spec["paths"]) == 41
    assert w.students


def test_errors_are_the_documents_error_form(openapi, client):
    make_world()
    check(openapi, client, None, "/users", 401)
    check(openapi, client, "forged", "/users/siti0", 401)
    cid, secret = platform(["20104321"])
    core_only = token(client, cid, secret, scope=CORE)
    check(openapi, client, core_only, "/users/siti0/classes", 403)
    check(openapi, client, core_only, "/demographics", 403)
    tok = token(client, cid, secret)
    check(openapi, client, tok, "/users/budi0", 404)  # another school's
    check(openapi, client, tok, "/schools/npsn-20504444", 404)
    check(openapi, client, tok, "/classes/rombel-nope", 404)
    check(openapi, client, tok, "/users", 400, filter="nope='x'")
    check(openapi, client, tok, "/users", 400, fields="nope")
    check(openapi, client, tok, "/users", 400, sort="nope")
    check(openapi, client, tok, "/users", 200, filter="dateLastModified>'2000-01-01T00:00:00Z'")


def test_the_validator_bites(openapi):
    """The document and validator refuse what the spec forbids (so the passes above mean
    something): a user without its required fields, an unknown field, a bad count header."""
    from openapi_core.validation.response.exceptions import (
        DataValidationError,
        HeaderValidationError,
    )

    request = MockRequest("http://testserver", "get", BASE + "/users")
    good = {
        "sourcedId": "x",
        "status": "active",
        "dateLastModified": "2026-01-01T00:00:00.000Z",
        "enabledUser": "true",
        "givenName": "A",
        "familyName": "B",
        "roles": [
            {
                "roleType": "primary",
                "role": "student",
                "org": {"href": "http://testserver/o", "sourcedId": "o", "type": "org"},
            }
        ],
    }
    ok = json.dumps({"users": [good]}).encode()
    openapi.validate_response(request, MockResponse(ok, headers={"X-Total-Count": "1"}))
    for bad_user in ({"sourcedId": "x"}, {**good, "nik": "3204"}, {**good, "roles": []}):
        body = json.dumps({"users": [bad_user]}).encode()
        with pytest.raises(DataValidationError):
            openapi.validate_response(request, MockResponse(body))
    with pytest.raises(HeaderValidationError):
        openapi.validate_response(request, MockResponse(ok, headers={"X-Total-Count": "many"}))
