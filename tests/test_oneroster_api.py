"""OneRoster REST: what a platform sees, under its org grant and scopes."""

import pytest

from tests.oneroster_support import (
    CORE,
    DEMOGRAPHICS,
    ROSTER,
    get,
    make_world,
    platform,
    reset_caches,
    token,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh():
    reset_caches()
    yield
    reset_caches()


@pytest.fixture
def world():
    return make_world()


def test_school_client_sees_its_school_only(client, world):
    cid, secret = platform(["20104321"])
    tok = token(client, cid, secret)
    r = get(client, tok, "/users", limit=100)
    assert r.status_code == 200, r.content
    names = {u["sourcedId"] for u in r.json()["users"]}
    assert names == {"siti0", "siti1", "siti2", "siti3", "remo1", "dewi1"}
    assert r["X-Total-Count"] == "6"
    roles = {u["sourcedId"]: u["roles"][0]["role"] for u in r.json()["users"]}
    assert roles["remo1"] == "teacher" and roles["dewi1"] == "principal"
    assert roles["siti0"] == "student"
    # Another school's user, school, class: unknownobject, as if they did not exist.
    r = get(client, tok, "/users/budi0")
    assert r.status_code == 404
    assert (
        r.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
        == "unknownobject"
    )
    assert get(client, tok, "/schools/npsn-20504444").status_code == 404
    assert get(client, tok, "/schools/npsn-20504444/classes").status_code == 404
    assert get(client, tok, "/schools/npsn-20104321").status_code == 200


def test_classes_and_students(client, world):
    cid, secret = platform(["20104321"])
    tok = token(client, cid, secret)
    r = get(client, tok, "/schools/npsn-20104321/classes")
    assert r.status_code == 200, r.content
    classes = {c["classCode"]: c for c in r.json()["classes"]}
    assert set(classes) == {"5A", "5B", "6A"}
    five_a = classes["5A"]["sourcedId"]
    r = get(client, tok, f"/classes/{five_a}/students")
    assert {u["sourcedId"] for u in r.json()["users"]} == {"siti0", "siti1"}
    r = get(client, tok, "/users/siti2/classes")
    assert [c["classCode"] for c in r.json()["classes"]] == ["5B"]


def test_no_token_wrong_token_wrong_scope(client, world):
    r = get(client, None, "/users")
    assert r.status_code == 401 and r.json()["imsx_codeMajor"] == "failure"
    assert r["WWW-Authenticate"].startswith("Bearer")
    assert get(client, "not-a-token", "/users").status_code == 401
    cid, secret = platform(["20104321"])
    tok = token(client, cid, secret, scope=CORE)
    assert get(client, tok, "/users").status_code == 200
    r = get(client, tok, "/users/siti0/classes")  # sub-collections need roster.readonly
    assert r.status_code == 403
    assert get(client, tok, "/demographics").status_code == 403


def test_personal_data_only_when_allowed(client, world):
    cid, secret = platform(["20104321"])
    tok = token(client, cid, secret)
    u = get(client, tok, "/users/siti0").json()["user"]
    assert all(i["type"] != "NISN" for i in u["userIds"])
    assert "birthDate" not in str(u)
    # Demographics was not granted: the scope cannot even be asked for.
    r = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": DEMOGRAPHICS},
        HTTP_AUTHORIZATION=__import__("tests.oneroster_support").oneroster_support.basic(
            cid, secret
        ),
    )
    assert r.status_code == 400
    cid2, secret2 = platform(["20104321"], demographics=True, personal=["nisn"], name="LMS2")
    tok2 = token(client, cid2, secret2, scope=f"{CORE} {ROSTER} {DEMOGRAPHICS}")
    u = get(client, tok2, "/users/siti0").json()["user"]
    assert any(i["type"] == "NISN" for i in u["userIds"])
    d = get(client, tok2, "/demographics/siti0").json()["demographics"]
    assert d["birthDate"] == "2012-03-09" and d["sex"] == "female"


def test_filter_sort_fields_and_errors(client, world):
    cid, secret = platform(["20104321"])
    tok = token(client, cid, secret)
    r = get(client, tok, "/users", filter="role='student' AND givenName~'siti'", sort="familyName")
    assert r.status_code == 200, r.content
    assert r["X-Total-Count"] == "4"
    r = get(client, tok, "/users", fields="sourcedId,username")
    assert set(r.json()["users"][0]) == {"sourcedId", "username"}
    r = get(client, tok, "/users", fields="sourcedId,password")
    assert r.status_code == 400
    assert "invalid_selection_field" in r.content.decode()
    r = get(client, tok, "/users", filter="password='x'")
    assert r.status_code == 400 and "invalid_filter_field" in r.content.decode()
    r = get(client, tok, "/users", filter="role='student")
    assert r.status_code == 400
    r = get(client, tok, "/users", limit="0")
    assert r.status_code == 400


def test_paging_headers_and_deep_pages(client, world):
    cid, secret = platform(["20104321"])
    tok = token(client, cid, secret)
    seen = []
    offset = 0
    while True:
        r = get(client, tok, "/users", limit=2, offset=offset)
        assert r.status_code == 200
        batch = [u["sourcedId"] for u in r.json()["users"]]
        seen += batch
        assert r["X-Total-Count"] == "6"
        if 'rel="next"' not in r["Link"]:
            break
        offset += 2
    assert seen == sorted(seen) and len(seen) == 6 and len(set(seen)) == 6


def test_academic_sessions_follow_the_setting_or_the_date(client, world, settings):
    import datetime as dt

    from akun.core import clock

    cid, secret = platform(["20104321"])
    tok = token(client, cid, secret)
    settings.AKUN_ONEROSTER_SCHOOL_YEAR = 2025
    r = get(client, tok, "/academicSessions")
    by_id = {s["sourcedId"]: s for s in r.json()["academicSessions"]}
    assert set(by_id) == {"ta-2025-2026", "ta-2025-2026-s1", "ta-2025-2026-s2"}
    assert by_id["ta-2025-2026-s2"]["startDate"] == "2026-01-01"
    assert by_id["ta-2025-2026"]["schoolYear"] == "2026"
    settings.AKUN_ONEROSTER_SCHOOL_YEAR = 0
    clock.freeze(dt.datetime(2027, 3, 1, tzinfo=dt.UTC))  # January-June: the year began in 2026
    r = get(client, tok, "/terms")
    assert {s["sourcedId"] for s in r.json()["academicSessions"]} == {
        "ta-2026-2027-s1",
        "ta-2026-2027-s2",
    }
    r = get(client, tok, "/classes", limit=1)
    assert r.json()["classes"][0]["terms"][0]["sourcedId"] == "ta-2026-2027-s1"
