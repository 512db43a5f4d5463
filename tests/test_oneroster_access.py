"""Who may have OneRoster data: `akun services add --oneroster-org`, the operator portal's
package (the operator's own school only), and hostile requests to the REST API."""

import datetime as dt
import io
import json
import zipfile

import pytest

from akun.audit.models import AuditEvent
from akun.oneroster import project
from akun.oneroster.models import OrClient
from akun.sso.models import Service
from tests import builders
from tests import portal_support as ps
from tests.oneroster_spec_csv import check_package
from tests.oneroster_support import (
    CORE,
    DEMOGRAPHICS,
    ROSTER,
    basic,
    get,
    make_world,
    platform,
    reset_caches,
    token,
)

LAHIR = dt.date(2013, 1, 2)  # the birth date the tests' students had before the builders

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh():
    reset_caches()
    yield
    reset_caches()


def test_services_add_registers_a_platform_for_its_orgs(run_akun, client):
    make_world()
    r = run_akun(
        "services", "add", "LMS Cibodas", "--kind", "machine", "--scopes", "introspection",
        "--oneroster-org", "20104321", "--oneroster-org", "35", "--json",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["oneroster_orgs"] == "20104321,35"
    client_row = OrClient.objects.get(client_id=out["id"])
    assert client_row.orgs == ["20104321", "35"] and client_row.demographics is False
    svc = Service.objects.get(slug=out["slug"])
    assert CORE in svc.scopes and ROSTER in svc.scopes and DEMOGRAPHICS not in svc.scopes
    assert AuditEvent.objects.filter(action="oneroster.grant_access", object_id=svc.slug).exists()
    tok = token(client, out["id"], out["client_secret"])
    names = {u["sourcedId"] for u in get(client, tok, "/users").json()["users"]}
    assert {"siti0", "budi0"} <= names  # the school and the province


@pytest.mark.parametrize(
    "args, message",
    [
        (["--oneroster-org", "99999999"], "no school in the roster has NPSN"),
        (["--oneroster-org", "12"], "no school in the roster has region code"),
        (["--oneroster-org", "32'--"], "not an NPSN"),
        (["--oneroster-demographics"], "needs --oneroster-org"),
    ],
)
def test_services_add_refuses_and_registers_nothing(run_akun, args, message):
    make_world()
    r = run_akun("services", "add", "LMS", "--kind", "machine", "--scopes", "introspection", *args)
    assert r.returncode != 0 and message in r.stderr, r.stderr
    assert not Service.objects.exists() and not OrClient.objects.exists()


def test_oneroster_needs_a_machine_client(run_akun):
    make_world()
    r = run_akun(
        "services", "add", "Web", "--redirect-uri", "https://lms.example/cb",
        "--oneroster-org", "20104321",
    )  # fmt: skip
    assert r.returncode != 0 and "--kind machine" in r.stderr
    assert not Service.objects.exists()


def test_a_service_without_a_grant_reads_nothing(client):
    make_world()
    from akun.sso import actions

    svc, secret = actions.do_add_oidc_service(
        "Other", kind="machine", scopes=f"introspection {CORE}", actor="t"
    )
    tok = token(client, svc.application.client_id, secret, scope=CORE)
    r = get(client, tok, "/users")
    assert r.status_code == 403 and "forbidden" in r.content.decode()


def test_revoked_or_disabled_service_loses_access(client):
    make_world()
    cid, secret = platform(["20104321"])
    tok = token(client, cid, secret)
    assert get(client, tok, "/users").status_code == 200
    from akun.sso import actions

    actions.do_update_service(Service.objects.get(), active=False, actor="t")
    assert get(client, tok, "/users").status_code == 401


def test_hostile_requests(client):
    make_world()
    cid, secret = platform(["20104321"])
    tok = token(client, cid, secret)
    for params in (
        {"filter": "role='student' AND sourcedId='x' OR 1=1 --'"},
        {"filter": "givenName='" + "a" * 5000 + "'"},
        {"filter": "sourcedId~'%'; DROP TABLE oneroster_oruser; --"},
        {"limit": "-1"},
        {"limit": "1e9"},
        {"offset": "99999999999999999999"},
        {"orderBy": "sideways"},
        {"sort": "password"},
        {"fields": ","},
    ):
        r = get(client, tok, "/users", **params)
        assert r.status_code == 400, (params, r.status_code, r.content[:200])
        if r["Content-Type"] == "application/json":  # else the project's input guard's 400
            assert r.json()["imsx_codeMajor"] == "failure"
    # A NUL never reaches the API: the project's input guard answers 400 first.
    assert get(client, tok, "/users", filter="givenName='\x00'").status_code == 400
    # Quotes and wildcards in a value are data, not syntax.
    r = get(client, tok, "/users", filter="givenName~'%'")
    assert r.status_code == 200 and r["X-Total-Count"] == "0"
    r = get(client, tok, "/users", filter="familyName='O''Neil'")
    assert r.status_code == 200 and r["X-Total-Count"] == "0"
    # A forged cursor can only move within the client's own rows.
    r = get(client, tok, "/users", limit=2, offset=2, cursor="WzIsWyIiLCJidWRpMCJdXQ")
    assert r.status_code == 200
    assert all(u["primaryOrg"]["sourcedId"] == "npsn-20104321" for u in r.json()["users"])
    r = get(client, tok, "/users", limit=2, offset=2, cursor="!!not base64!!")
    assert r.status_code == 200
    # A huge limit is cut to the maximum; odd ids are simply unknown.
    assert get(client, tok, "/users", limit=10**8).status_code == 200
    for sid in ("../users", "x" * 500, "%00", "siti0%27", "siti0%00", "%ff%fe"):
        assert get(client, tok, f"/users/{sid}").status_code == 404, sid
        for sub in ("/classes/{}/students", "/schools/{}/classes/{}/students", "/terms/{}/classes"):
            assert get(client, tok, sub.format(sid, sid)).status_code == 404, (sub, sid)
    # Only GET (and HEAD): the rostering service is read-only.
    r = client.post("/ims/oneroster/rostering/v1p2/users", HTTP_AUTHORIZATION=f"Bearer {tok}")
    assert r.status_code == 405
    # A token of the Basic kind, or a client secret as a bearer token, is no token.
    assert get(client, secret, "/users").status_code == 401
    r = client.get("/ims/oneroster/rostering/v1p2/users", HTTP_AUTHORIZATION=basic(cid, secret))
    assert r.status_code == 401


def _portal_world():
    a = builders.school("20100001", kode_wilayah="320412", nama="SD NEGERI 1 CIBODAS")
    b = builders.school("20100002", kode_wilayah="320413", nama="SD NEGERI 2 LEMBANG")
    op = builders.operator(a)
    builders.student(
        a, "Siti Nurhaliza", "sitinurhaliza7", rombel="5A", nisn="0012345678", tanggal_lahir=LAHIR
    )
    builders.student(b, "Dewi Lestari", "dewilestari1", rombel="5A", tanggal_lahir=LAHIR)
    project.refresh()
    return a, b, op


def test_operator_downloads_own_schools_package_only(client):
    a, b, op = _portal_world()
    ps.sign_in(client, op)
    page = client.get("/operator/sekolah/20100001/unduh")
    assert b"dl-oneroster" in page.content
    r = client.get("/operator/sekolah/20100001/oneroster.zip")
    assert r.status_code == 200 and r["Content-Type"] == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content)))
    data = check_package(zf)
    assert {u["sourcedId"] for u in data["users"]} >= {"sitinurhaliza7"}
    assert "dewilestari1" not in {u["sourcedId"] for u in data["users"]}
    assert "NISN" not in json.dumps(data["users"]) and "demographics" not in data
    assert AuditEvent.objects.filter(action="oneroster.export_package", npsn="20100001").exists()
    assert client.get("/operator/sekolah/20100002/oneroster.zip").status_code == 404
    assert client.get("/operator/sekolah/99999999/oneroster.zip").status_code == 404


def test_regional_admin_and_strangers_get_no_package(client):
    a, b, op = _portal_world()
    assert client.get("/operator/sekolah/20100001/oneroster.zip").status_code == 302  # sign in
    admin = ps.dinas("3204")
    ps.sign_in(client, admin)
    assert client.get("/operator/sekolah/20100001/oneroster.zip").status_code == 404
    page = client.get("/operator/sekolah/20100001/unduh")
    assert page.status_code == 200 and b"dl-oneroster" not in page.content
