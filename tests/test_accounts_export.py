"""The operator's CSV: BOM, the right columns, passwords only before activation, no formulas."""

import csv
import io

import pytest

from akun.accounts import api
from akun.accounts.export import neutralise
from akun.accounts.models import Account
from akun.audit.models import AuditEvent
from tests import builders as roster


@pytest.mark.parametrize(
    "value,expected",
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+62812", "'+62812"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Siti = guru", "Siti = guru"),
        ("", ""),
        (None, ""),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def read(export):
    assert export.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    return list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))


@pytest.fixture
def school():
    sd = roster.sekolah("SD", npsn="20104321")
    roster.peserta_didik(sd, 5, nama="=cmd|' /C calc'!A0", nisn="0091234567", rombel="5A")
    roster.peserta_didik(sd, 6, nama="Ni Made Ayu Déwi", nisn="0091234568", rombel="-6B")
    roster.peserta_didik(sd, 4, nama="Kelas Empat")  # no account
    roster.ptk(sd, "Kepala Sekolah", nama="@Bambang", nuptk="1234567890123456")
    roster.ptk(sd, "Guru Kelas", nama="Sri Wahyuni", nuptk="2234567890123456")
    other = roster.sekolah("SD", npsn="20104322")
    roster.peserta_didik(other, 5, nama="Lain Sekolah")
    api.issue_accounts(actor="test")
    return sd


@pytest.mark.django_db
def test_export_columns_passwords_and_injection_guard(school):
    active = Account.objects.get(nama="Sri Wahyuni")
    api.do_activate_account(active, raw_password="x-123456789", actor="self")
    export = api.export_accounts_csv("20104321", actor="op:1")
    rows = read(export)
    assert rows[0] == [
        "ID Pengguna", "Nama", "NISN/NUPTK", "Rombel", "Peran", "Kata Sandi Awal", "Status"
    ]  # fmt: skip
    body = {r[1]: r for r in rows[1:]}
    assert len(body) == export.rows == 4  # the other school and grade 4 are not there
    evil = body["'=cmd|' /C calc'!A0"]
    assert evil[2:5] == ["0091234567", "5A", "Peserta Didik"]
    assert evil[5] == api.get_initial_password(Account.objects.get(nama__startswith="=cmd"))
    assert body["Ni Made Ayu Déwi"][3] == "'-6B"
    head = body["'@Bambang"]
    assert (head[0].split("@")[1], head[2], head[4]) == (
        "admin.sd.belajar.test", "1234567890123456", "Admin Sekolah"
    )  # fmt: skip
    sri = body["Sri Wahyuni"]
    assert (sri[5], sri[6]) == ("", "active")  # activated: no initial password any more
    assert export.initial_passwords == 3
    for row in rows:
        assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in row)
    e = AuditEvent.objects.get(action="accounts.export")
    assert (e.actor, e.npsn, e.after) == (
        "op:1", "20104321", {"role": "all", "rows": 4, "initial_passwords": 3}
    )  # fmt: skip


@pytest.mark.django_db
def test_export_by_role(school):
    students = read(api.export_accounts_csv("20104321", role="peserta_didik", actor="op"))
    ptk = read(api.export_accounts_csv("20104321", role="ptk", actor="op"))
    assert {r[4] for r in students[1:]} == {"Peserta Didik"}
    assert {r[4] for r in ptk[1:]} == {"Admin Sekolah", "Guru"}
    assert AuditEvent.objects.filter(action="accounts.export").count() == 2


@pytest.mark.django_db(transaction=True)
def test_cli_export_to_file_and_stdout(run_akun, tmp_path):
    sd = roster.sekolah("SD", npsn="20104399")
    roster.peserta_didik(sd, 5, nama="+Plus")
    assert run_akun("accounts", "issue").returncode == 0
    out = tmp_path / "akun.csv"
    r = run_akun("accounts", "export", "--npsn", "20104399", "--role", "peserta_didik",
                 "--out", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"'+Plus" in data
    r = run_akun("accounts", "export", "--npsn", "20104399")
    assert "'+Plus" in r.stdout
    assert AuditEvent.objects.filter(action="accounts.export", npsn="20104399").count() == 2
    r = run_akun("accounts", "export", "--npsn", "99999999")
    assert r.returncode != 0 and "99999999" in r.stderr
