import csv
import datetime as dt
import uuid

import pytest
from django.db import connection

from akun.audit.models import AuditEvent
from akun.core import clock
from akun.roster.importing import ImportProblem, RosterImport, SafetyStop
from akun.roster.models import ImportRun, PesertaDidik, Ptk, Sekolah
from tests.roster_files import Snapshot, uid

pytestmark = pytest.mark.django_db


def do_import(directory, **kwargs):
    kwargs.setdefault("actor", "test")
    return RosterImport(directory, **kwargs).run()


def rejects(result):
    with open(result.report_path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def roster_state():
    """Everything an import may change, to prove that a refused import changed nothing."""
    return tuple(
        sorted(map(repr, model.objects.values_list())) for model in (Sekolah, PesertaDidik, Ptk)
    )


def test_first_import_adds_every_record(tmp_path):
    snap = Snapshot()
    result = do_import(snap.write(tmp_path / "s"))
    assert result.status == ImportRun.Status.APPLIED
    assert (result.counts["sekolah"].added, result.counts["peserta_didik"].added) == (3, 30)
    assert result.counts["ptk"].added == 9
    pd = PesertaDidik.objects.get(nisn="0000000001")
    assert pd.nama == "Siswa Nomor 1"
    assert pd.tanggal_lahir == dt.date(2014, 3, 9)
    assert pd.sekolah.npsn == "20100000"
    assert Ptk.objects.filter(operator_sekolah=True).count() == 3
    assert AuditEvent.objects.filter(action="roster.import").count() == 1


def test_same_snapshot_twice_changes_nothing_and_says_so(tmp_path, run_akun):
    d = Snapshot().write(tmp_path / "s")
    first = do_import(d)
    before = roster_state()
    changed_runs = set(PesertaDidik.objects.values_list("changed_run_id", flat=True))
    second = do_import(d)
    assert second.status == ImportRun.Status.UNCHANGED
    assert all(c.added == c.changed == c.departed == 0 for c in second.counts.values())
    assert second.counts["peserta_didik"].unchanged == 30
    assert roster_state() == before
    assert set(PesertaDidik.objects.values_list("changed_run_id", flat=True)) == changed_runs
    assert first.run.pk != second.run.pk


def test_tolerant_reading_bom_semicolon_cp1252_quotes_spaces_capitals_dates(tmp_path):
    snap = Snapshot(schools=1, students_per_school=4, ptk_per_school=2)
    s = snap.sekolah[0]
    s.update(nama="SD NEGERI 1, CIBODAS", bentuk_pendidikan=" sd ", status_sekolah="NEGERI")
    a, b, c, d = snap.peserta_didik
    a.update(nama="  Ma’ruf   Amin ", tanggal_lahir="09/03/2014", jenis_kelamin="l")
    b.update(nama="Siti\nNurhaliza", tanggal_lahir="09-03-2014", program="Reguler")
    c.update(nama="Désirée", nisn=" 0012345678 ")
    d.update(peserta_didik_id=d["peserta_didik_id"].upper())
    snap.ptk[1].update(jenis_ptk="guru kelas", no_hp="+6281234567890")
    directory = tmp_path / "messy"
    snap.write(directory, delimiter=";", encoding="cp1252")
    # sekolah.csv as UTF-8 with a byte-order mark and Excel-style capitals in the header.
    with (directory / "sekolah.csv").open("w", encoding="utf-8-sig", newline="") as f:
        f.write(";".join(k.upper() for k in s) + "\r\n")
        f.write(";".join(f'"{v}"' for v in s.values()) + "\r\n")
    result = do_import(directory)
    assert result.total_rejected == 0, rejects(result)
    school = Sekolah.objects.get()
    assert (school.nama, school.bentuk_pendidikan, school.status_sekolah) == (
        "SD NEGERI 1, CIBODAS",
        "SD",
        "Negeri",
    )
    names = set(PesertaDidik.objects.values_list("nama", flat=True))
    assert {"Ma’ruf Amin", "Siti Nurhaliza", "Désirée"} <= names
    assert PesertaDidik.objects.filter(tanggal_lahir=dt.date(2014, 3, 9)).count() == 4
    assert PesertaDidik.objects.get(nama="Désirée").nisn == "0012345678"
    assert PesertaDidik.objects.filter(jenis_kelamin="L", nama="Ma’ruf Amin").exists()
    assert Ptk.objects.filter(jenis_ptk="Guru Kelas", no_hp="081234567890").exists()


@pytest.mark.parametrize(
    "file,field,value,reason_part",
    [
        ("sekolah", "npsn", "2010000", "leading zero"),
        ("sekolah", "npsn", "2.01E+07", "scientific notation"),
        ("sekolah", "bentuk_pendidikan", "UNIVERSITAS", "must be one of"),
        ("sekolah", "status_sekolah", "Campuran", "must be one of"),
        ("sekolah", "kode_wilayah", "990412", "no province code"),
        ("peserta_didik", "nisn", "9.12345E+09", "scientific notation"),
        ("peserta_didik", "nisn", "123456789", "leading zero"),
        ("peserta_didik", "nik", "320400000000001", "16 digits"),
        ("peserta_didik", "tanggal_lahir", "31/02/2010", "real calendar date"),
        ("peserta_didik", "tanggal_lahir", "1850-01-01", "not plausible"),
        ("peserta_didik", "tanggal_lahir", "March 3rd", "YYYY-MM-DD"),
        ("peserta_didik", "tingkat_pendidikan", "14", "from 1 to 13"),
        ("peserta_didik", "tingkat_pendidikan", "0", "from 1 to 13"),
        ("peserta_didik", "program", "paket_d", "must be one of"),
        ("peserta_didik", "jenis_kelamin", "X", "must be one of"),
        ("peserta_didik", "peserta_didik_id", "not-a-uuid", "UUID"),
        ("peserta_didik", "nama", "", "required"),
        ("peserta_didik", "tempat_lahir", "x" * 101, "longer than 100"),
        ("ptk", "nuptk", "12345", "16 digits"),
        ("ptk", "nip", "1985013120100120", "18 digits"),
        ("ptk", "jenis_ptk", "Astronaut", "must be one of"),
        ("ptk", "ptk_induk", "maybe", "1 or 0"),
        ("ptk", "email", "budi at gmail", "e-mail"),
        ("ptk", "no_hp", "8.12346E+10", "scientific notation"),
    ],
)
def test_a_bad_field_rejects_its_row_only(tmp_path, file, field, value, reason_part):
    snap = Snapshot()
    rows = getattr(snap, file)
    target = rows[1]
    target[field] = value
    result = do_import(snap.write(tmp_path / "s"))
    report = [r for r in rejects(result) if r["file"] == f"{file}.csv"]
    assert len(report) == 1, report
    (r,) = report
    assert r["file"] == f"{file}.csv"
    assert r["line"] == "3"  # header is line 1, the second row is line 3
    assert r["field"] == field
    assert reason_part in r["reason"]
    if field in ("nik", "tanggal_lahir"):
        assert value not in r["value"]  # personal data is not copied into the report
    assert result.counts[file].rejected == 1
    model = {"sekolah": Sekolah, "peserta_didik": PesertaDidik, "ptk": Ptk}[file]
    # the other rows of the same file are imported
    expected = len(rows) - 1
    assert model.objects.count() == expected
    if file == "sekolah":  # that school's people are held back with a reason, not lost
        held = [r for r in rejects(result) if r["file"] != "sekolah.csv"]
        assert len(held) == 10 + 3
        assert all(
            r["reason"] == "the row of this school in sekolah.csv was rejected" for r in held
        )


def test_cross_row_problems_duplicates_shared_nisn_unknown_school(tmp_path):
    snap = Snapshot()
    pd = snap.peserta_didik
    pd.append(dict(pd[0]))  # exact duplicate row: line 32
    pd[5]["nisn"] = pd[6]["nisn"]  # one NISN on two students: both rejected
    pd[7]["sekolah_id"] = uid(999999)  # a school not in sekolah.csv
    snap.ptk.append(dict(snap.ptk[0]))  # duplicate assignment
    snap.sekolah.append(dict(snap.sekolah[2], sekolah_id=uid(4242)))  # an NPSN used twice
    result = do_import(snap.write(tmp_path / "s"))
    by_file = {}
    for r in rejects(result):
        by_file.setdefault(r["file"], []).append(r)
    pd_rejects = {int(r["line"]): r for r in by_file["peserta_didik.csv"]}
    assert sorted(pd_rejects) == [7, 8, 9, *range(22, 32), 32]
    assert "line 2" in pd_rejects[32]["reason"]
    assert pd_rejects[7]["field"] == "nisn" and pd_rejects[8]["field"] == "nisn"
    assert "not in sekolah.csv" in pd_rejects[9]["reason"]
    # ptk lines 8-10 are at the school with the shared NPSN, line 11 repeats line 2
    assert sorted(int(r["line"]) for r in by_file["ptk.csv"]) == [8, 9, 10, 11]
    # both schools with the shared NPSN are rejected; so are the rows pointing at them
    assert sorted(r["line"] for r in by_file["sekolah.csv"]) == ["4", "5"]
    assert result.counts["peserta_didik"].rejected == 4 + 10
    assert PesertaDidik.objects.filter(nisn=pd[6]["nisn"]).count() == 0


def test_rejected_row_keeps_the_record_instead_of_departing_it(tmp_path):
    snap = Snapshot()
    do_import(snap.write(tmp_path / "v1"))
    kept = snap.peserta_didik[3]
    kept["tanggal_lahir"] = "31/02/2014"
    result = do_import(snap.write(tmp_path / "v2"))
    assert result.counts["peserta_didik"].rejected == 1
    assert result.counts["peserta_didik"].departed == 0
    record = PesertaDidik.objects.get(pk=kept["peserta_didik_id"])
    assert record.departed_at is None
    assert record.tanggal_lahir == dt.date(2014, 3, 9)  # the previous good value stays


def test_deltas_added_changed_departed_and_return(tmp_path):
    snap = Snapshot(schools=2, students_per_school=50, ptk_per_school=5)
    do_import(snap.write(tmp_path / "v1"))
    snap.peserta_didik[0]["nama"] = "Nama Diperbaiki"
    snap.peserta_didik[1]["tingkat_pendidikan"] = "6"
    gone = snap.peserta_didik.pop(2)
    snap.peserta_didik.append(dict(snap.peserta_didik[3], peserta_didik_id=uid(777), nisn=""))
    snap.ptk[1]["operator_sekolah"] = "0"
    clock.freeze(dt.datetime(2026, 7, 1, tzinfo=dt.UTC))
    v2 = do_import(snap.write(tmp_path / "v2"))
    c = v2.counts["peserta_didik"]
    assert (c.added, c.changed, c.departed, c.unchanged) == (1, 2, 1, 97)
    assert (v2.counts["ptk"].changed, v2.counts["ptk"].unchanged) == (1, 9)
    assert v2.counts["sekolah"].unchanged == 2
    departed = PesertaDidik.objects.get(pk=gone["peserta_didik_id"])
    assert departed.departed_at == dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    assert departed.departed_run_id == v2.run.pk
    assert PesertaDidik.objects.get(pk=snap.peserta_didik[0]["peserta_didik_id"]).nama == (
        "Nama Diperbaiki"
    )
    # The student comes back: the same record, present again, history kept.
    snap.peserta_didik.append(gone)
    v3 = do_import(snap.write(tmp_path / "v3"))
    assert v3.counts["peserta_didik"].changed == 1
    back = PesertaDidik.objects.get(pk=gone["peserta_didik_id"])
    assert back.departed_at is None
    assert back.first_run_id == departed.first_run_id
    assert PesertaDidik.objects.count() == 101  # nothing was ever deleted


def test_safety_stop_platform_wide(tmp_path):
    snap = Snapshot(schools=2, students_per_school=100, ptk_per_school=2)
    do_import(snap.write(tmp_path / "v1"))
    before = roster_state()
    del snap.peserta_didik[:30]  # 30 of 206 records: 14.6%
    with pytest.raises(SafetyStop) as stop:
        do_import(snap.write(tmp_path / "v2"))
    assert "--allow-mass-departure" in str(stop.value)
    assert "Nothing was applied" in str(stop.value)
    assert roster_state() == before
    assert ImportRun.objects.order_by("-pk").first().status == ImportRun.Status.STOPPED
    result = do_import(tmp_path / "v2", allow_mass_departure=True)
    assert result.counts["peserta_didik"].departed == 30
    assert PesertaDidik.objects.filter(departed_at__isnull=False).count() == 30


def test_safety_stop_for_one_province_and_configurable_share(tmp_path):
    snap = Snapshot(schools=20, students_per_school=20, ptk_per_school=1)
    # Move one school to Bali: losing it is 1/20 of the platform but all of the province.
    snap.sekolah[3]["kode_wilayah"] = "510101"
    do_import(snap.write(tmp_path / "v1"))
    sid = snap.sekolah[3]["sekolah_id"]
    snap.sekolah.pop(3)
    snap.peserta_didik = [r for r in snap.peserta_didik if r["sekolah_id"] != sid]
    snap.ptk = [r for r in snap.ptk if r["sekolah_id"] != sid]
    snap.write(tmp_path / "v2")
    with pytest.raises(SafetyStop) as stop:
        do_import(tmp_path / "v2", max_departure_share=0.10)
    assert "province 51 Bali" in str(stop.value)
    assert "on the platform" not in str(stop.value)
    result = do_import(tmp_path / "v2", max_departure_share=1.0)
    assert result.counts["sekolah"].departed == 1


def test_region_snapshot_leaves_other_regions_alone(tmp_path):
    snap = Snapshot(schools=4, students_per_school=5, ptk_per_school=1)
    do_import(snap.write(tmp_path / "all"))
    # A snapshot of province 33 only, with one of its students gone.
    in33 = {s["sekolah_id"] for s in snap.sekolah if s["kode_wilayah"].startswith("33")}
    snap.sekolah = [s for s in snap.sekolah if s["sekolah_id"] in in33]
    snap.peserta_didik = [r for r in snap.peserta_didik if r["sekolah_id"] in in33][1:]
    snap.ptk = [r for r in snap.ptk if r["sekolah_id"] in in33]
    result = do_import(snap.write(tmp_path / "r33"), region="33", allow_mass_departure=True)
    assert result.counts["peserta_didik"].departed == 1
    assert result.counts["sekolah"].departed == 0
    assert Sekolah.objects.filter(departed_at__isnull=True).count() == 4


def test_region_snapshot_cannot_take_a_number_held_in_another_region(tmp_path):
    snap = Snapshot(schools=4, students_per_school=5, ptk_per_school=1)
    do_import(snap.write(tmp_path / "all"))
    in33 = {s["sekolah_id"] for s in snap.sekolah if s["kode_wilayah"].startswith("33")}
    holder = next(r for r in snap.peserta_didik if r["sekolah_id"] not in in33)
    school_holder = next(s for s in snap.sekolah if s["sekolah_id"] not in in33)
    snap.sekolah = [s for s in snap.sekolah if s["sekolah_id"] in in33]
    snap.peserta_didik = [r for r in snap.peserta_didik if r["sekolah_id"] in in33]
    snap.ptk = [r for r in snap.ptk if r["sekolah_id"] in in33]
    claimant = snap.peserta_didik[2]
    claimant["nisn"] = holder["nisn"]  # the NISN of a live student of province 32
    snap.sekolah[1]["npsn"] = school_holder["npsn"]  # the NPSN of a live school of 32
    result = do_import(snap.write(tmp_path / "r33"), region="33")
    by_file = {r["file"]: r for r in rejects(result)}
    pd_reject = by_file["peserta_didik.csv"]
    assert (pd_reject["line"], pd_reject["field"]) == ("4", "nisn")
    assert holder["peserta_didik_id"] in pd_reject["reason"]
    assert "belongs to another record" in pd_reject["reason"]
    assert by_file["sekolah.csv"]["field"] == "npsn"
    # Both stored records keep what they had; nobody holds a number twice.
    assert PesertaDidik.objects.get(pk=holder["peserta_didik_id"]).nisn == holder["nisn"]
    assert PesertaDidik.objects.get(pk=claimant["peserta_didik_id"]).nisn != holder["nisn"]
    assert PesertaDidik.objects.filter(nisn=holder["nisn"], departed_at=None).count() == 1
    assert Sekolah.objects.filter(npsn=school_holder["npsn"], departed_at=None).count() == 1
    assert result.counts["peserta_didik"].departed == 0


def test_a_rejected_row_keeps_its_number_from_a_newcomer(tmp_path):
    snap = Snapshot()
    do_import(snap.write(tmp_path / "v1"))
    kept = snap.peserta_didik[3]
    kept["tanggal_lahir"] = "31/02/2014"  # rejected: the stored record stays, with its NISN
    newcomer = dict(snap.peserta_didik[4], peserta_didik_id=uid(888), nisn=kept["nisn"])
    snap.peserta_didik[4]["nisn"] = "0000009999"
    snap.peserta_didik.append(newcomer)
    result = do_import(snap.write(tmp_path / "v2"))
    reasons = {r["line"]: r for r in rejects(result)}
    assert reasons[str(len(snap.peserta_didik) + 1)]["field"] == "nisn"
    assert not PesertaDidik.objects.filter(pk=newcomer["peserta_didik_id"]).exists()
    assert PesertaDidik.objects.filter(nisn=kept["nisn"], departed_at=None).count() == 1


def test_a_departed_records_number_may_be_taken_by_a_new_record(tmp_path):
    # Dapodik re-registers a student under a new peserta_didik_id: the old record departs.
    snap = Snapshot()
    do_import(snap.write(tmp_path / "v1"))
    old = snap.peserta_didik.pop(3)
    snap.peserta_didik.append(dict(old, peserta_didik_id=uid(889)))
    result = do_import(snap.write(tmp_path / "v2"))
    assert result.counts["peserta_didik"].rejected == 0
    assert (result.counts["peserta_didik"].added, result.counts["peserta_didik"].departed) == (
        1,
        1,
    )
    assert PesertaDidik.objects.get(nisn=old["nisn"], departed_at=None).pk == uuid.UUID(uid(889))


def test_nik_is_never_stored_but_can_be_found_by_hash(tmp_path):
    from akun.roster.api import nik_hash

    snap = Snapshot(schools=1)
    nik = snap.peserta_didik[0]["nik"]
    do_import(snap.write(tmp_path / "s"))
    assert PesertaDidik.objects.get(nik_hash=nik_hash(nik)).nisn == snap.peserta_didik[0]["nisn"]
    with connection.cursor() as cursor:
        for table in ("roster_pesertadidik", "roster_ptk", "audit_auditevent"):
            cursor.execute(f"SELECT * FROM {table}")
            assert nik not in repr(cursor.fetchall())


@pytest.mark.parametrize(
    "breakage,message",
    [
        ("missing-file", "ptk.csv: file not found"),
        ("missing-column", "peserta_didik.csv: missing column 'rombel'"),
        ("misspelt-column", "is 'tangal_lahir' a misspelling?"),
        ("empty-file", "sekolah.csv: the file is empty"),
        ("header-only", "peserta_didik.csv: the file has a header but no rows"),
    ],
)
def test_file_level_problem_changes_nothing(tmp_path, breakage, message):
    snap = Snapshot()
    do_import(snap.write(tmp_path / "v1"))
    before = roster_state()
    snap.peserta_didik[0]["nama"] = "Changed Name"
    d = snap.write(tmp_path / "v2")
    pd = d / "peserta_didik.csv"
    if breakage == "missing-file":
        (d / "ptk.csv").unlink()
    elif breakage == "missing-column":
        lines = pd.read_text().splitlines()
        pd.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n")
    elif breakage == "misspelt-column":
        pd.write_text(pd.read_text().replace("tanggal_lahir", "tangal_lahir", 1))
    elif breakage == "empty-file":
        (d / "sekolah.csv").write_text("")
    elif breakage == "header-only":
        pd.write_text(pd.read_text().splitlines()[0] + "\n")
    with pytest.raises(ImportProblem) as problem:
        do_import(d)
    assert message in str(problem.value)
    assert roster_state() == before


@pytest.mark.django_db(transaction=True)
def test_cli_exit_status_and_summary(tmp_path, run_akun):
    snap = Snapshot()
    d = snap.write(tmp_path / "v1")
    ok = run_akun("roster", "import", str(d))
    assert ok.returncode == 0, ok.stderr
    assert "peserta_didik.csv" in ok.stdout and "Applied as import" in ok.stdout
    again = run_akun("roster", "import", str(d))
    assert again.returncode == 0
    assert "No changes" in again.stdout
    (d / "ptk.csv").write_text("ptk_id,nama\n1,x\n")
    broken = run_akun("roster", "import", str(d))
    assert broken.returncode == 2
    assert "ptk.csv: missing column 'nuptk'" in broken.stderr
    assert "The roster is unchanged" in broken.stderr
    snap.peserta_didik = snap.peserta_didik[:5]
    stop = run_akun("roster", "import", str(snap.write(tmp_path / "v2")))
    assert stop.returncode == 3
    assert "--allow-mass-departure" in stop.stderr
    # No personal data in what the command prints.
    for out in (ok, again, broken, stop):
        for row in snap.peserta_didik:
            assert row["nik"] not in out.stdout + out.stderr
            assert row["tanggal_lahir"] not in out.stdout + out.stderr


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("point", ["after-staging", "after-merge-peserta_didik"])
def test_killed_import_leaves_the_previous_roster(tmp_path, run_akun, point):
    snap = Snapshot(schools=3, students_per_school=40)
    first = run_akun("roster", "import", str(snap.write(tmp_path / "v1")))
    assert first.returncode == 0, first.stderr
    before = roster_state()
    for row in snap.peserta_didik[:20]:
        row["nama"] += " Baru"
    snap.sekolah[0]["nama"] = "SD BARU"
    killed = run_akun(
        "roster", "import", str(snap.write(tmp_path / "v2")), hook=("import-fault", point)
    )
    assert killed.returncode == -9, killed.stderr
    assert f"fault injected at {point}" in killed.stderr
    assert roster_state() == before
    # The next import finds the dead run, marks it, and applies the snapshot.
    after = run_akun("roster", "import", str(tmp_path / "v2"))
    assert after.returncode == 0, after.stderr
    statuses = list(ImportRun.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["applied", "failed", "applied"]
    assert PesertaDidik.objects.filter(nama__endswith=" Baru").count() == 20


def test_roster_imported_signal_after_a_change_only(tmp_path, django_capture_on_commit_callbacks):
    from akun.roster.api import roster_imported

    seen = []

    def receiver(sender, run, **kwargs):
        seen.append(run.pk)

    roster_imported.connect(receiver)
    try:
        d = Snapshot(schools=1).write(tmp_path / "s")
        with django_capture_on_commit_callbacks(execute=True):
            first = do_import(d)
        with django_capture_on_commit_callbacks(execute=True):
            do_import(d)
    finally:
        roster_imported.disconnect(receiver)
    assert seen == [first.run.pk]


@pytest.mark.parametrize(
    "form,program,grade,ok",
    [
        ("SD", "reguler", "6", True),
        ("SD", "reguler", "7", False),
        ("SMP", "reguler", "6", False),
        ("SMK", "reguler", "13", True),
        ("SMA", "reguler", "13", False),
        ("SDLB", "reguler", "7", False),
        ("SLB", "reguler", "12", True),
        ("PKBM", "paket_b", "8", True),
        ("PKBM", "paket_b", "10", False),
        ("PKBM", "reguler", "8", False),
        ("SD", "paket_a", "5", False),
        ("TK", "reguler", "1", False),
    ],
)
def test_grade_and_programme_must_exist_at_the_school_form(tmp_path, form, program, grade, ok):
    snap = Snapshot(schools=1, students_per_school=3)
    snap.sekolah[0]["bentuk_pendidikan"] = form
    for row in snap.peserta_didik:
        row.update(tingkat_pendidikan="6" if form == "SD" else grade, program="reguler")
    snap.peserta_didik[1].update(tingkat_pendidikan=grade, program=program)
    if form != "SD":
        for row in (snap.peserta_didik[0], snap.peserta_didik[2]):
            row.update(tingkat_pendidikan=grade, program=program)
    result = do_import(snap.write(tmp_path / "s"))
    report = rejects(result)
    if ok:
        assert report == []
    else:
        lines = {r["line"] for r in report}
        assert "3" in lines
        r = next(r for r in report if r["line"] == "3")
        assert r["field"] == "tingkat_pendidikan"
        assert f"does not exist at a school of form {form}" in r["reason"]


def test_summary_columns_stay_apart_at_national_size():
    """The whole country's 27,624,959 student rows (the national run) ran into the next
    column when the columns were 10 wide."""
    from akun.roster.importing.result import FileCounts, ImportResult, format_summary
    from akun.roster.importing.specs import SPECS

    big = 27_624_959
    result = ImportResult(
        run=None, counts={s.kind: FileCounts(rows=big, added=big, rejected=big) for s in SPECS}
    )
    header, *rows = format_summary(result).splitlines()
    for line in rows:
        assert line.split()[1:] == ["27,624,959", "27,624,959", "0", "0", "0", "27,624,959"]
    assert header.split() == ["file", "rows", "added", "changed", "unchanged", "departed",
                              "rejected"]  # fmt: skip
