"""Roster rows for the accounts tests, made directly with the ORM (tests.builders, with
this family's defaults; no tests in this file)."""

import subprocess

from django.db import connection

from akun.roster.api import PesertaDidik, Ptk, Sekolah
from tests import builders
from tests.builders import departed_at  # noqa: F401 - the old name


def sekolah(form="SD", *, departed=False, npsn=None, nama=None, save=True) -> Sekolah:
    return builders.school(form=form, departed=departed, npsn=npsn, nama=nama, save=save)


def peserta_didik(
    school, grade, *, program="reguler", nama="Siti Nurhaliza", departed=False, nik_hash="",
    rombel=None, nisn=None, save=True,
) -> PesertaDidik:  # fmt: skip
    return builders.student(
        school, grade=grade, program=program, nama=nama, departed=departed, nik_hash=nik_hash,
        rombel=rombel, nisn=nisn, save=save,
    )  # fmt: skip


def ptk(
    school, jenis_ptk="Guru Kelas", *, ptk_id=None, operator=False, induk=True,
    nama="Remo Bimantoro", departed=False, nuptk="", nik_hash="", save=True,
) -> Ptk:  # fmt: skip
    return builders.ptk(
        school, jenis_ptk=jenis_ptk, ptk_id=ptk_id, operator=operator, induk=induk, nama=nama,
        departed=departed, nuptk=nuptk, nik_hash=nik_hash, save=save,
    )  # fmt: skip


def all_cells():
    """Every value in every table of the database: (table, column, value)."""
    with connection.cursor() as cur:
        for table in connection.introspection.table_names(cur):
            cur.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cur.description]
            for row in cur.fetchall():
                for name, value in zip(names, row, strict=True):
                    yield table, name, value


def pg_dump_data() -> str:
    """What `pg_dump --data-only` writes for the test database (PostgreSQL; it reads over its
    own connection, so the test's rows must be committed)."""
    s = connection.settings_dict
    return subprocess.run(
        ["pg_dump", "--data-only", "-h", s["HOST"] or "127.0.0.1", "-U",
         s["USER"] or "postgres", s["NAME"]],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
