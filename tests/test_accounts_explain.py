"""`akun accounts explain`: which rule, which roster row, which school, in id and en."""

import json
import uuid

import pytest

from akun.accounts import api
from akun.core import clock
from akun.roster.api import ImportRun, nik_hash
from tests import builders as roster


@pytest.fixture
def people():
    ImportRun.objects.create(
        pk=1, started_at=clock.now(), source="/data/dapodik-2026-11", actor="test"
    )
    sd, sd2 = (
        roster.sekolah("SD", npsn="20104321", nama="SD NEGERI 1 CIBODAS"),
        roster.sekolah("SD"),
    )
    smp, tk = roster.sekolah("SMP", npsn="20204321"), roster.sekolah("TK", npsn="69912345")
    p = {
        "grade5": roster.peserta_didik(sd, 5, nama="Siti", nisn="0091234567",
                                       nik_hash=nik_hash("3204123456780001")),
        "grade4": roster.peserta_didik(sd, 4, nama="Adik", nisn="0091234568"),
        "tk": roster.peserta_didik(tk, 1, nama="Balita", nisn="0091234569"),
        "gone": roster.peserta_didik(sd, 6, nama="Pindah", nisn="0091234570", departed=True),
    }  # fmt: skip
    t = roster.ptk(sd, induk=False, nama="Guru Dua", nik_hash=nik_hash("3204123456780002"))
    roster.ptk(sd2, ptk_id=t.ptk_id, induk=True, nama="Guru Dua")
    roster.ptk(smp, "Guru Mapel", ptk_id=t.ptk_id, induk=False, nama="Guru Dua")
    p["teacher"] = t
    p["janitor"] = roster.ptk(sd, "Penjaga Sekolah", nama="Pak Udin")
    api.issue_accounts(actor="test")
    return p


pytestmark = pytest.mark.django_db


def test_eligible_student_with_account(people):
    ex = api.explain(nisn="0091234567")
    text = ex.text()
    assert "Berhak: peserta didik kelas 5 di SD (aturan SD: kelas 5–6)" in text
    assert "20104321 SD NEGERI 1 CIBODAS" in text
    assert f"berkas peserta_didik.csv, id {people['grade5'].pk}" in text
    assert "import #1 /data/dapodik-2026-11" in text
    assert "Akun: siti1@sd.belajar.test (status issued" in text
    en = ex.text("en")
    assert "Eligible: student in grade 5 at SD (rule SD: grades 5–6)" in en
    d = ex.as_dict()
    assert d["rows"][0]["code"] == "student_eligible"
    assert d["rows"][0]["account"]["user_id"] == "siti1@sd.belajar.test"
    json.dumps(d, default=str)  # usable by web pages as it is


@pytest.mark.parametrize(
    "nisn,indonesian,english",
    [
        ("0091234568", "akun diberikan untuk kelas 5–6", "accounts are for grades 5–6"),
        ("0091234569", "PAUD tidak mendapat akun", "early-childhood"),
        ("0091234570", "tidak ada lagi di snapshot Dapodik terakhir", "no longer in the latest"),
    ],
)
def test_not_eligible_students(people, nisn, indonesian, english):
    ex = api.explain(nisn=nisn)
    assert ex.found and not ex.accounts
    assert indonesian in ex.text() and english in ex.text("en")
    assert "Tidak berhak" in ex.text()


def test_teacher_at_two_sds_and_an_smp_by_ptk_id_and_nik(people):
    t = people["teacher"]
    for ex in (api.explain(ptk_id=str(t.ptk_id)), api.explain(nik="3204123456780002")):
        text = ex.text()
        assert len(ex.rows) == 3 and len(ex.accounts) == 2
        assert "Berhak: Guru Kelas (pendidik) di SD, jenjang SD." in text
        assert "Berhak: Guru Mapel (pendidik) di SMP, jenjang SMP." in text
        assert "akun SD orang ini ada di sekolah induk" in text  # the non-main SD row
        assert "guru.smp.belajar.test" in text


def test_by_user_id_and_nik_of_a_student(people):
    by_uid = api.explain(user_id="SITI1@sd.belajar.test")
    assert by_uid.rows[0].record_id == str(people["grade5"].pk)
    assert api.explain(nik="3204123456780001").rows[0].record_id == str(people["grade5"].pk)


def test_tendik_and_not_found(people):
    text = api.explain(ptk_id=str(people["janitor"].ptk_id)).text()
    assert "Penjaga Sekolah adalah tenaga kependidikan" in text
    missing = api.explain(nisn="0000000000")
    assert not missing.found and "Tidak ditemukan" in missing.text()
    assert not api.explain(ptk_id=str(uuid.uuid4())).found


def test_eligible_without_account_yet(people):
    roster.peserta_didik(roster.sekolah("SMK"), 13, nama="Baru", nisn="0091234571")
    assert "akan diterbitkan pada penerbitan berikutnya" in api.explain(nisn="0091234571").text()


@pytest.mark.django_db(transaction=True)
def test_cli_explain(run_akun):
    sd = roster.sekolah("SD", npsn="20104321")
    roster.peserta_didik(sd, 4, nama="Adik", nisn="0091234568")
    r = run_akun("accounts", "explain", "--nisn", "0091234568")
    assert r.returncode == 0 and "kelas 4 di SD" in r.stdout
    r = run_akun("accounts", "explain", "--nisn", "0091234568", "--lang", "en")
    assert "grade 4 at SD" in r.stdout
    r = run_akun("accounts", "explain", "--nisn", "0091234568", "--json")
    assert json.loads(r.stdout)["rows"][0]["code"] == "grade_out_of_range"
    r = run_akun("accounts", "explain", "--user-id", "nobody1@sd.belajar.test")
    assert r.returncode != 0 and "Tidak ditemukan" in r.stdout
