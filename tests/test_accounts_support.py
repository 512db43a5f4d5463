"""Roster rows for the accounts tests, made directly with the ORM (no tests in this file)."""

import datetime as dt
import itertools
import subprocess
import uuid

from django.db import connection

from akun.core import clock
from akun.roster.api import PesertaDidik, Ptk, Sekolah

_npsn = itertools.count(10_000_001)
_nisn = itertools.count(1_000_000_001)
_RECORD = {"first_run_id": 1, "changed_run_id": 1}


def departed_at(departed: bool):
    return clock.now() if departed else None


def sekolah(form="SD", *, departed=False, npsn=None, nama=None, save=True) -> Sekolah:
    s = Sekolah(
        sekolah_id=uuid.uuid4(),
        npsn=npsn or str(next(_npsn)),
        nama=nama or f"{form} NEGERI {uuid.uuid4().hex[:4].upper()}",
        bentuk_pendidikan=form,
        status_sekolah="Negeri",
        kode_wilayah="320412",
        kabupaten_kota="Kab. Bandung",
        provinsi="Prov. Jawa Barat",
        departed_at=departed_at(departed),
        **_RECORD,
    )
    if save:
        s.save()
    return s


def peserta_didik(
    school, grade, *, program="reguler", nama="Siti Nurhaliza", departed=False, nik_hash="",
    rombel=None, nisn=None, save=True,
) -> PesertaDidik:  # fmt: skip
    p = PesertaDidik(
        peserta_didik_id=uuid.uuid4(),
        nisn=nisn or str(next(_nisn)),
        nik_hash=nik_hash,
        nama=nama,
        jenis_kelamin="P",
        tanggal_lahir=dt.date(2012, 3, 9),
        sekolah_id=school.sekolah_id,
        tingkat_pendidikan=grade,
        program=program,
        rombel=rombel if rombel is not None else f"{grade}A",
        departed_at=departed_at(departed),
        **_RECORD,
    )
    if save:
        p.save()
    return p


def ptk(
    school, jenis_ptk="Guru Kelas", *, ptk_id=None, operator=False, induk=True,
    nama="Remo Bimantoro", departed=False, nuptk="", nik_hash="", save=True,
) -> Ptk:  # fmt: skip
    p = Ptk(
        ptk_id=ptk_id or uuid.uuid4(),
        sekolah_id=school.sekolah_id,
        nuptk=nuptk,
        nik_hash=nik_hash,
        nama=nama,
        jenis_kelamin="L",
        tanggal_lahir=dt.date(1980, 1, 1),
        jenis_ptk=jenis_ptk,
        ptk_induk=induk,
        operator_sekolah=operator,
        departed_at=departed_at(departed),
        **_RECORD,
    )
    if save:
        p.save()
    return p


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
