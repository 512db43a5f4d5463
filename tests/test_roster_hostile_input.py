"""Roster files built to hurt: huge fields and lines, NUL, invalid bytes, encoded surrogates.

Each is a rejected row naming file, line and field (the value truncated, bad bytes escaped)
and the import goes on; a file that cannot be read past a point is a file-level problem
(exit 2). The limits are parameters, so most cases run small over lowered limits."""

import csv

import pytest
from django.db import connection

from akun.roster.importing import ImportProblem, RosterImport
from akun.roster.models import PesertaDidik, Sekolah
from tests.roster_files import Snapshot

pytestmark = pytest.mark.django_db

LIMITS = {"max_field_chars": 100, "max_line_chars": 1000}


def do_import(directory, **kwargs):
    kwargs.setdefault("actor", "test")
    importer = RosterImport(directory, **kwargs)
    result = importer.run()
    if kwargs.get("workers") and connection.vendor == "postgresql":
        # Staged in worker processes, chunk by chunk, not after a fall-back to one process.
        assert "peserta_didik.csv" in importer.staged_in_workers
    return result


def rejects(result, file="peserta_didik.csv"):
    with open(result.report_path, newline="", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["file"] == file]


def patch_line(path, line, old: bytes, new: bytes):
    """Replace `old` by `new` on physical line `line` (header = 1) of a file, as bytes."""
    lines = path.read_bytes().split(b"\n")
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_bytes(b"\n".join(lines))


def snapshot_with_a_later_reject(tmp_path):
    """A snapshot whose student on line 20 has a bad NISN: proves the lines after a hostile
    row are still read in step."""
    snap = Snapshot()
    snap.peserta_didik[18]["nisn"] = "123"
    return snap.write(tmp_path / "s")


def assert_line_20_still_found(result):
    later = [r for r in rejects(result) if r["line"] == "20"]
    assert [(r["field"], r["value"]) for r in later] == [("nisn", "123")]


@pytest.mark.parametrize("workers", [0, 2])
def test_a_field_over_the_limit_is_a_rejected_row_naming_its_field(tmp_path, workers):
    d = snapshot_with_a_later_reject(tmp_path)
    patch_line(d / "peserta_didik.csv", 4, b"Siswa Nomor", b"Siswa " + b"x" * 500)
    result = do_import(d, workers=workers, chunk_bytes=700, **LIMITS)
    (row, _) = rejects(result)
    assert (row["line"], row["field"]) == ("4", "nama")
    assert "nama is longer than 100 characters" in row["reason"]
    assert row["value"].startswith("Siswa xxx") and len(row["value"]) < 150  # truncated
    assert "508 characters" in row["value"]
    assert_line_20_still_found(result)
    assert PesertaDidik.objects.count() == 28
    assert result.counts["peserta_didik"].rows == 30


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("quoted", [False, True])
def test_a_line_over_the_limit_is_skipped_without_reading_it_whole(tmp_path, workers, quoted):
    d = snapshot_with_a_later_reject(tmp_path)
    big = b"x" * 5000
    patch_line(
        d / "peserta_didik.csv", 4, b"Siswa Nomor 3", b'"Siswa ' + big + b'"' if quoted else big
    )
    result = do_import(d, workers=workers, chunk_bytes=700, **LIMITS)
    (row, _) = rejects(result)
    assert (row["line"], row["field"]) == ("4", "nama")
    assert "line 4 is longer than 1,000 characters" in row["reason"]
    assert len(row["value"]) < 150
    assert_line_20_still_found(result)
    assert PesertaDidik.objects.count() == 28
    # The rejected row's record is known by its key, so it would be kept, not departed.
    assert result.counts["peserta_didik"].rows == 30


@pytest.mark.parametrize("workers", [0, 2])
def test_a_quoted_field_over_many_short_lines_is_one_rejected_row(tmp_path, workers):
    d = snapshot_with_a_later_reject(tmp_path)
    many = b"\n".join([b"baris panjang"] * 400)  # 5,600 characters in 400 lines
    patch_line(d / "peserta_didik.csv", 4, b"Siswa Nomor 3", b'"Siswa\n' + many + b'"')
    result = do_import(d, workers=workers, chunk_bytes=700, **LIMITS)
    row, later = rejects(result)
    assert row["line"] == "4"
    assert "longer than" in row["reason"]
    assert len(row["value"]) < 150
    assert (later["line"], later["field"]) == ("420", "nisn")  # 401 lines further down
    assert PesertaDidik.objects.count() == 28


def test_a_quote_that_never_closes_is_a_file_problem(tmp_path):
    d = Snapshot().write(tmp_path / "s")
    pd = d / "peserta_didik.csv"
    patch_line(pd, 4, b"Siswa Nomor 3", b'"Siswa Nomor 3')
    with pd.open("ab") as f:
        f.write(b"tail line\n" * 200)
    with pytest.raises(ImportProblem, match=r"peserta_didik.csv: line 4: .*never closes"):
        do_import(d, **LIMITS)
    assert not Sekolah.objects.exists()


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize(
    "column,old,new,shown,reason",
    [
        ("nama", b"Siswa Nomor 3", b"Siswa\x00Nomor 3", r"Siswa\x00Nomor 3", "NUL"),
        ("nisn", b"0000000003", b"00000\x0000003", r"00000\x0000003", "NUL"),
        ("nama", b"Siswa Nomor 3", b"Siswa\xffNomor 3", r"Siswa\xffNomor 3", "not valid UTF-8"),
        ("nama", b"Nomor 3", b"\xed\xa0\x80 3", r"Siswa \xed\xa0\x80 3", "surrogate"),
        ("rombel", b"3A", b"3\xc3A", r"3\xc3A", "not valid UTF-8"),
    ],
)
def test_nul_invalid_bytes_and_surrogates_reject_their_row_in_a_utf8_file(
    tmp_path, workers, column, old, new, shown, reason
):
    snap = Snapshot()
    snap.peserta_didik[0]["nama"] = "Désirée Ma’ruf"  # the rest of the file is UTF-8
    d = snap.write(tmp_path / "s")
    patch_line(d / "peserta_didik.csv", 4, old, new)
    result = do_import(d, workers=workers, chunk_bytes=700, **LIMITS)
    (row,) = rejects(result)
    assert (row["line"], row["field"], row["value"]) == ("4", column, shown)
    assert reason in row["reason"]
    assert PesertaDidik.objects.count() == 29
    # One bad byte does not turn the file into Windows-1252: the other names stay right.
    assert PesertaDidik.objects.filter(nama="Désirée Ma’ruf").exists()


def test_a_bad_byte_in_a_personal_field_is_not_copied_to_the_report(tmp_path):
    d = Snapshot().write(tmp_path / "s")
    patch_line(d / "peserta_didik.csv", 4, b"3204000000000003", b"320400000000\x000003")
    (row,) = rejects(do_import(d))
    assert (row["line"], row["field"], row["value"]) == ("4", "nik", "(personal data, hidden)")
    assert "NUL" in row["reason"]


def test_windows_1252_file_with_an_undefined_byte(tmp_path):
    snap = Snapshot()
    snap.peserta_didik[0]["nama"] = "Désirée"
    d = snap.write(tmp_path / "s", encoding="cp1252")
    patch_line(d / "peserta_didik.csv", 4, b"Siswa Nomor 3", b"Siswa\x81Nomor 3")
    result = do_import(d)
    (row,) = rejects(result)
    assert (row["line"], row["field"], row["value"]) == ("4", "nama", r"Siswa\x81Nomor 3")
    assert "Windows-1252" in row["reason"]
    assert PesertaDidik.objects.filter(nama="Désirée").exists()


def test_ascii_file_with_one_high_byte_is_windows_1252(tmp_path):
    # Nothing else in the file is UTF-8: the byte is the Windows-1252 character it stands for.
    d = Snapshot().write(tmp_path / "s")
    patch_line(d / "peserta_didik.csv", 4, b"Siswa Nomor 3", b"Siswa N\xe9mor 3")
    result = do_import(d)
    assert rejects(result) == []
    assert PesertaDidik.objects.filter(nama="Siswa Némor 3").exists()


@pytest.mark.django_db(transaction=True)
def test_cli_a_20_mb_field_and_a_nul_are_rejected_rows_and_the_next_import_runs(tmp_path, run_akun):
    d = Snapshot().write(tmp_path / "s")
    pd = d / "peserta_didik.csv"
    patch_line(pd, 4, b"Siswa Nomor 3", b"Siswa " + b"x" * (20 << 20))
    patch_line(pd, 7, b"Siswa Nomor 6", b"Siswa\x00Nomor 6")
    report = tmp_path / "rejects.csv"
    first = run_akun("roster", "import", str(d), "--report", str(report), timeout=120)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "2 rows rejected" in first.stdout
    with report.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["file"], r["line"], r["field"]) for r in rows] == [
        ("peserta_didik.csv", "4", "nama"),
        ("peserta_didik.csv", "7", "nama"),
    ]
    assert len(rows[0]["value"]) < 150 and rows[1]["value"] == r"Siswa\x00Nomor 6"
    assert PesertaDidik.objects.count() == 28
    # The lock was let go: the next import runs.
    second = run_akun("roster", "import", str(d), timeout=120)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "No changes" in second.stdout


@pytest.mark.django_db(transaction=True)
def test_cli_a_file_problem_found_while_reading_is_exit_2(tmp_path, run_akun):
    d = Snapshot().write(tmp_path / "s")
    pd = d / "peserta_didik.csv"
    patch_line(pd, 4, b"Siswa Nomor 3", b'"Siswa Nomor 3')
    with pd.open("ab") as f:
        f.write(b"x" * 100 + b"\n")
        f.write((b"y" * 1000 + b"\n") * 1100)  # the open quote runs on past 1 MB
    broken = run_akun("roster", "import", str(d), timeout=120)
    assert broken.returncode == 2, broken.stderr[-3000:]
    assert "peserta_didik.csv: line 4" in broken.stderr
    assert "The roster is unchanged" in broken.stderr
    assert not Sekolah.objects.exists()


def test_an_error_while_staging_ends_the_copy_and_the_next_import_runs(tmp_path, monkeypatch):
    # Left open, the COPY made the rollback wait for ever, holding the import lock.
    from akun.roster.importing import specs

    d = Snapshot().write(tmp_path / "s")
    make_parser = specs.PESERTA_DIDIK.make_parser

    def failing_parser(ix, today):
        parse = make_parser(ix, today)

        def parse_or_fail(cells):
            if cells[ix["nama"]] == "Siswa Nomor 20":
                raise RuntimeError("a bug in a field check")
            return parse(cells)

        return parse_or_fail

    monkeypatch.setattr(specs.PESERTA_DIDIK, "make_parser", failing_parser)
    with pytest.raises(RuntimeError, match="a bug in a field check"):
        do_import(d, workers=0)
    monkeypatch.setattr(specs.PESERTA_DIDIK, "make_parser", make_parser)
    result = do_import(d, workers=0)
    assert result.counts["peserta_didik"].added == 30


def test_a_20_mb_line_is_never_held_whole(tmp_path):
    import tracemalloc

    d = Snapshot().write(tmp_path / "s")
    patch_line(d / "peserta_didik.csv", 4, b"Siswa Nomor 3", b"Siswa " + b"x" * (20 << 20))
    tracemalloc.start()
    try:
        result = do_import(d, workers=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [r["line"] for r in rejects(result)] == ["4"]
    assert peak < 12 << 20, f"{peak:,} bytes"  # the line is 20 MB


def test_the_records_of_hostile_rows_are_kept_not_departed(tmp_path):
    snap = Snapshot()
    do_import(snap.write(tmp_path / "v1"))
    d = snap.write(tmp_path / "v2")
    patch_line(d / "peserta_didik.csv", 4, b"Siswa Nomor 3", b"Siswa\x00Nomor 3")
    patch_line(d / "peserta_didik.csv", 7, b"Siswa Nomor 6", b"Siswa " + b"x" * 5000)
    result = do_import(d, **LIMITS)
    assert [r["line"] for r in rejects(result)] == ["4", "7"]
    assert result.counts["peserta_didik"].departed == 0
    kept = PesertaDidik.objects.filter(nama__in=["Siswa Nomor 3", "Siswa Nomor 6"])
    assert [p.departed_at for p in kept] == [None, None]
