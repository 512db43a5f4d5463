"""Staging in worker processes (PostgreSQL) gives exactly what staging in one process gives:
the same reject report (file, line, field, value, reason, in the same order), counts and
roster; a killed parallel import leaves the previous roster; a bulk load rebuilds the indexes
and constraints it drops."""

import csv
import time

import pytest
from django.db import connection

from akun.roster.importing import RosterImport
from akun.roster.models import ImportRun, PesertaDidik, Ptk, Sekolah
from akun.synthetic.generate import generate_snapshot
from tests.roster_files import Snapshot, uid

pytestmark = pytest.mark.django_db

RUN_COLUMNS = {"first_run_id", "changed_run_id", "departed_run_id"}
ALL_FILES = ["sekolah.csv", "peserta_didik.csv", "ptk.csv"]


def pg():
    return connection.vendor == "postgresql"


def roster():
    """The roster without the run ids (two imports of one snapshot differ only there)."""
    out = []
    for model in (Sekolah, PesertaDidik, Ptk):
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if f.attname not in RUN_COLUMNS and f.attname != "id"
        ]
        out.append(sorted(map(repr, model.objects.values_list(*fields))))
    return out


def report(result):
    with open(result.report_path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def import_twice(directory, chunk_bytes, **kwargs):
    """One import in one process, the same snapshot again into an empty roster in workers.
    Returns what each gave (report, counts, roster) and the second importer."""
    one = RosterImport(directory, actor="test", workers=0, **kwargs)
    result = one.run()
    assert one.staged_in_workers == []
    expected = (report(result), {k: c.as_dict() for k, c in result.counts.items()}, roster())
    for model in (Sekolah, PesertaDidik, Ptk):
        model.objects.all().delete()
    two = RosterImport(directory, actor="test", workers=2, chunk_bytes=chunk_bytes, **kwargs)
    result = two.run()
    got = (report(result), {k: c.as_dict() for k, c in result.counts.items()}, roster())
    return expected, got, two


@pytest.mark.parametrize("chunk_bytes", [97, 256, 1000])
def test_messy_snapshot_same_rejects_lines_and_roster_in_workers(tmp_path, chunk_bytes):
    # BOM, ';', Windows-1252, CRLF, quoted line breaks and commas, bad fields, duplicates.
    generate_snapshot(tmp_path, scale=0.0005, seed=7, messy=True)
    expected, got, two = import_twice(tmp_path, chunk_bytes, allow_mass_departure=True)
    assert len(expected[0]) > 20  # the snapshot has flaws to report
    assert got == expected
    if pg():
        assert two.staged_in_workers == ALL_FILES


def test_quoted_line_breaks_at_every_cut_and_stray_quotes(tmp_path):
    snap = Snapshot(schools=4, students_per_school=60, ptk_per_school=5)
    for i, row in enumerate(snap.peserta_didik):
        if i % 3 == 0:
            row["nama"] = f'Siswa\nNomor\r\n{i}, "Panggilan"'  # quoted, line breaks inside
        if i % 17 == 0:
            row["nisn"] = "9.12345E+09"  # rejected, on a line that depends on the breaks
    snap.peserta_didik[40]["tanggal_lahir"] = "31/02/2014"
    directory = snap.write(tmp_path / "s")
    # A quote inside an unquoted field is a plain character to the CSV reader but fools the
    # quote count that places the cuts; the file must still come out the same.
    pd = directory / "peserta_didik.csv"
    text = pd.read_text(encoding="utf-8")
    text = text.replace("Siswa Nomor 50,", 'Siswa "Nomor 50,', 1)
    text = text.replace("Siswa Nomor 101,", 'Siswa Nomor" 101,', 1)
    pd.write_text(text, encoding="utf-8", newline="")
    for chunk_bytes in (64, 150, 333):
        expected, got, _ = import_twice(directory, chunk_bytes)
        assert got == expected, chunk_bytes
        lines = [int(r[1]) for r in expected[0][1:] if r[0] == "peserta_didik.csv"]
        assert lines == sorted(lines) and len(lines) == 16
        for model in (Sekolah, PesertaDidik, Ptk):
            model.objects.all().delete()


@pytest.mark.skipif("not pg()")
def test_header_only_and_a_bad_file_are_the_same_problems_in_workers(tmp_path):
    from akun.roster.importing import ImportProblem

    snap = Snapshot()
    d = snap.write(tmp_path / "s")
    pd = d / "peserta_didik.csv"
    pd.write_text(pd.read_text().splitlines()[0] + "\n" + "\n" * 3000)  # blank lines only
    with pytest.raises(ImportProblem, match="peserta_didik.csv: the file has a header but no"):
        RosterImport(d, actor="test", workers=2, chunk_bytes=64).run()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("not pg()")
def test_killed_parallel_import_leaves_the_previous_roster(tmp_path, run_akun):
    from tests.test_roster_import import roster_state

    snap = Snapshot(schools=3, students_per_school=40)
    first = run_akun("roster", "import", str(snap.write(tmp_path / "v1")))
    assert first.returncode == 0, first.stderr
    before = roster_state()
    for row in snap.peserta_didik[:20]:
        row["nama"] += " Baru"
    env = {"AKUN_IMPORT_WORKERS": "2", "AKUN_IMPORT_CHUNK_BYTES": "200"}
    killed = run_akun(
        "roster",
        "import",
        str(snap.write(tmp_path / "v2")),
        env=env,
        hook=("import-fault", "during-parallel-staging"),
    )
    assert killed.returncode == -9, killed.stderr
    assert "fault injected at during-parallel-staging" in killed.stderr
    assert roster_state() == before
    # The workers die with the import: their connections go away.
    with connection.cursor() as cursor:
        for _ in range(50):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = 'akun roster import worker'"
            )
            if not cursor.fetchone()[0]:
                break
            time.sleep(0.1)
        else:
            pytest.fail("import workers outlived the killed import")
    after = run_akun("roster", "import", str(tmp_path / "v2"), env=env)
    assert after.returncode == 0, after.stderr
    assert list(ImportRun.objects.order_by("pk").values_list("status", flat=True)) == [
        "applied",
        "failed",
        "applied",
    ]
    assert PesertaDidik.objects.filter(nama__endswith=" Baru").count() == 20
    # The killed import's staging tables were dropped by the next one, which dropped its own.
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE tablename ~ '^stg_'")
        assert cursor.fetchall() == []


def index_definitions():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes "
            "WHERE tablename IN ('roster_sekolah', 'roster_pesertadidik', 'roster_ptk') "
            "ORDER BY 1, 2"
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE conrelid::regclass::text LIKE 'roster_%' ORDER BY 1, 2"
        )
        return indexes, cursor.fetchall()


@pytest.mark.skipif("not pg()")
def test_bulk_load_rebuilds_every_index_and_constraint(tmp_path, settings):
    settings.AKUN_IMPORT_BULK_MIN_ROWS = 1
    before = index_definitions()
    snap = Snapshot(schools=3, students_per_school=20)
    result = RosterImport(snap.write(tmp_path / "v1"), actor="test").run()
    assert result.counts["peserta_didik"].added == 60
    assert index_definitions() == before
    assert PesertaDidik.objects.count() == 60 and Ptk.objects.count() == 9
    # The rebuilt unique constraint still holds.
    from django.db import IntegrityError, transaction

    row = Ptk.objects.first()
    row.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("not pg()")
def test_killed_bulk_load_leaves_the_previous_roster_and_indexes(tmp_path, run_akun):
    from tests.test_roster_import import roster_state

    snap = Snapshot(schools=3, students_per_school=10)
    assert run_akun("roster", "import", str(snap.write(tmp_path / "v1"))).returncode == 0
    before = roster_state(), index_definitions()
    for n in range(200):  # more than doubles the students: a bulk load
        snap.peserta_didik.append(
            dict(snap.peserta_didik[n % 30], peserta_didik_id=uid(900000 + n), nisn="")
        )
    env = {"AKUN_IMPORT_BULK_MIN_ROWS": "1"}
    killed = run_akun(
        "roster",
        "import",
        str(snap.write(tmp_path / "v2")),
        env=env,
        hook=("import-fault", "after-merge-peserta_didik"),
    )
    assert killed.returncode == -9, killed.stderr
    assert (roster_state(), index_definitions()) == before
