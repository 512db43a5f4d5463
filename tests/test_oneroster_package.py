"""The OneRoster 1.2 CSV package: checked against the binding's column definitions (1EdTech
OneRoster CSV Binding 1.2.1, section 3), bulk and delta, the CLI and the portal download."""

import csv
import datetime as dt
import io
import zipfile

import pytest

from akun.accounts.api import do_deactivate_account
from akun.core import clock
from akun.oneroster import package, project
from tests.oneroster_spec_csv import SPEC_COLUMNS, SPEC_FILES, check_package
from tests.oneroster_support import make_world, reset_caches

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh():
    reset_caches()
    yield
    reset_caches()


def _zip(org, **kw) -> zipfile.ZipFile:
    buf = io.BytesIO()
    package.write_package(buf, org=org, **kw)
    return zipfile.ZipFile(io.BytesIO(buf.getvalue()))


def _rows(zf, name):
    return list(csv.DictReader(io.TextIOWrapper(zf.open(f"{name}.csv"), encoding="utf-8")))


def test_our_columns_are_the_spec_columns():
    for name, columns in package.COLUMNS.items():
        assert columns == SPEC_COLUMNS[name], name
    assert set(package.MANIFEST_FILES) == set(SPEC_FILES)


def test_school_bulk_package_is_valid_and_holds_the_school_only():
    make_world()
    zf = _zip("20104321")
    check_package(zf)
    manifest = dict(csv.reader(io.TextIOWrapper(zf.open("manifest.csv"), encoding="utf-8")))
    assert manifest["oneroster.version"] == "1.2" and manifest["file.users"] == "bulk"
    assert manifest["file.demographics"] == "absent" and "demographics.csv" not in zf.namelist()
    users = {u["sourcedId"]: u for u in _rows(zf, "users")}
    assert set(users) == {"siti0", "siti1", "siti2", "siti3", "remo1", "dewi1"}
    assert users["siti0"]["status"] == "" and users["siti0"]["dateLastModified"] == ""
    assert "NISN" not in users["siti0"]["userIds"]
    orgs = {o["sourcedId"]: o for o in _rows(zf, "orgs")}
    # The school, and the regions and ministry above it (its parents resolve).
    assert set(orgs) == {"npsn-20104321", "wilayah-3204", "wilayah-32", "kemendikdasmen"}
    assert orgs["npsn-20104321"]["parentSourcedId"] == "wilayah-3204"
    roles = {r["userSourcedId"]: r["role"] for r in _rows(zf, "roles")}
    assert roles["dewi1"] == "principal" and roles["remo1"] == "teacher"
    assert len(_rows(zf, "enrollments")) == 4


def test_personal_data_only_on_request():
    make_world()
    zf = _zip("20104321", demographics=True, nisn=True)
    check_package(zf)
    demo = {d["sourcedId"]: d for d in _rows(zf, "demographics")}
    assert demo["siti0"]["birthDate"] == "2012-03-09"
    assert "{NISN:" in {u["sourcedId"]: u for u in _rows(zf, "users")}["siti0"]["userIds"]


def test_delta_has_the_changes_only_with_status_and_time():
    w = make_world()
    since = clock.now()
    clock.freeze(since + dt.timedelta(minutes=5))
    do_deactivate_account(w.students[2], actor="t", reason="pindah")
    project.refresh([w.students[2].pk])
    zf = _zip("20104321", since=since)
    check_package(zf, delta=True)
    users = _rows(zf, "users")
    assert [(u["sourcedId"], u["status"]) for u in users] == [("siti2", "tobedeleted")]
    assert users[0]["dateLastModified"].startswith(str((since + dt.timedelta(minutes=5)).year))
    enr = _rows(zf, "enrollments")
    assert [e["status"] for e in enr] == ["tobedeleted"]
    manifest = dict(csv.reader(io.TextIOWrapper(zf.open("manifest.csv"), encoding="utf-8")))
    assert manifest["file.users"] == "delta" and manifest["file.orgs"] == "absent"


def test_province_package_and_bad_org():
    make_world()
    zf = _zip("35")
    check_package(zf)
    assert {u["sourcedId"] for u in _rows(zf, "users")} == {"budi0", "budi1"}
    with pytest.raises(package.PackageError):
        _zip("3'; DROP TABLE x; --")


def test_cli_export_writes_the_zip(run_akun, tmp_path):
    make_world()
    out = tmp_path / "p.zip"
    r = run_akun("oneroster", "export", "--org", "20104321", "--out", str(out))
    assert r.returncode == 0, r.stderr
    check_package(zipfile.ZipFile(out))
    r = run_akun("oneroster", "export", "--org", "x", "--out", str(tmp_path / "bad.zip"))
    assert r.returncode != 0 and not (tmp_path / "bad.zip").exists()
    r = run_akun("oneroster", "export", "--org", "32", "--delta", "nonsense", "--out", str(out))
    assert r.returncode != 0
