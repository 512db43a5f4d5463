"""The three files of a Dapodik snapshot: their columns, keys and row parsers."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection

from akun.roster import fields as F
from akun.roster import vocab
from akun.roster.models import PesertaDidik, Ptk, Sekolah


@dataclass
class FileSpec:
    name: str
    kind: str
    model: type
    key: list[str]  # columns identifying a record
    columns: list[str]  # stored columns in staging order (key columns included)
    required: list[str]  # header columns the file must have
    make_parser: Callable  # (column index, today) -> parse(cells) -> tuple

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def staging_type(self, column: str) -> str:
        """The PostgreSQL staging type of a column: the model field's, but text for text
        (no length check to pay for: the parser has checked it)."""
        meta = self.model._meta
        field = next(f for f in meta.concrete_fields if column in (f.name, f.attname))
        if field.get_internal_type() in ("CharField", "TextField"):
            return "text"
        return field.db_type(connection)


def _sekolah_parser(ix, today):
    i_id, i_npsn, i_nama, i_bentuk, i_status, i_kw, i_kab, i_prov = (
        ix[c]
        for c in (
            "sekolah_id",
            "npsn",
            "nama",
            "bentuk_pendidikan",
            "status_sekolah",
            "kode_wilayah",
            "kabupaten_kota",
            "provinsi",
        )
    )

    def parse(c):
        return (
            F.uuid_hex("sekolah_id", c[i_id]),
            F.digits("npsn", c[i_npsn], 8, required=True),
            F.text("nama", c[i_nama], max_length=200, required=True),
            F.choice("bentuk_pendidikan", c[i_bentuk], F.SCHOOL_FORMS),
            F.choice("status_sekolah", c[i_status], F.STATUS_SEKOLAH),
            F.kode_wilayah("kode_wilayah", c[i_kw]),
            F.text("kabupaten_kota", c[i_kab], max_length=100, required=True),
            F.text("provinsi", c[i_prov], max_length=100, required=True),
        )

    return parse


def _peserta_didik_parser(ix, today):
    g = ix.__getitem__
    i_id, i_nisn, i_nik, i_nama, i_jk, i_tl, i_tgl, i_sek, i_tingkat, i_prog, i_rombel = map(
        g,
        (
            "peserta_didik_id",
            "nisn",
            "nik",
            "nama",
            "jenis_kelamin",
            "tempat_lahir",
            "tanggal_lahir",
            "sekolah_id",
            "tingkat_pendidikan",
            "program",
            "rombel",
        ),
    )

    # Paket programmes take adults too.
    birth = F.Memo(lambda v: F.date_iso("tanggal_lahir", v, today=today, min_age=4, max_age=80))
    school = F.Memo(lambda v: F.uuid_hex("sekolah_id", v))
    rombel = F.Memo(lambda v: F.text("rombel", v, max_length=50, required=False))

    place = F.Memo(lambda v: F.text("tempat_lahir", v, max_length=100, required=False))
    sex = F.Memo(lambda v: F.choice("jenis_kelamin", v, F.JENIS_KELAMIN))
    grade = F.Memo(lambda v: F.grade("tingkat_pendidikan", v))
    program = F.Memo(lambda v: F.choice("program", v, F.PROGRAMS))
    nik_hash = F.nik_hash

    # 89% of a national snapshot's rows: the usual value of a field is accepted inline, anything
    # else goes through the field's parser, in the same order, so the same first reject wins.
    def parse(c):
        nik = c[i_nik]
        if len(nik) == 16 and nik.isdigit() and nik.isascii():
            nik = nik_hash(nik)
        else:
            nik = F.digits("nik", nik, 16, required=False)
            nik = nik_hash(nik) if nik else ""
        place[c[i_tl]]  # checked, not stored: no account needs the place of birth
        key = F.uuid_hex("peserta_didik_id", c[i_id])
        nisn = c[i_nisn]
        if not (len(nisn) == 10 and nisn.isdigit() and nisn.isascii()):
            nisn = F.digits("nisn", nisn, 10, required=False)
        return (
            key,
            nisn,
            nik,
            F.text("nama", c[i_nama], max_length=150, required=True),
            sex[c[i_jk]],
            birth[c[i_tgl]],
            school[c[i_sek]],
            grade[c[i_tingkat]],
            program[c[i_prog]],
            rombel[c[i_rombel]],
        )

    return parse


def _ptk_parser(ix, today):
    g = ix.__getitem__
    (i_id, i_sek, i_nuptk, i_nip, i_nik, i_nama, i_gd, i_gb, i_jk, i_tgl, i_email, i_hp) = map(
        g,
        (
            "ptk_id",
            "sekolah_id",
            "nuptk",
            "nip",
            "nik",
            "nama",
            "gelar_depan",
            "gelar_belakang",
            "jenis_kelamin",
            "tanggal_lahir",
            "email",
            "no_hp",
        ),
    )
    i_jenis, i_induk, i_op = map(g, ("jenis_ptk", "ptk_induk", "operator_sekolah"))

    school = F.Memo(lambda v: F.uuid_hex("sekolah_id", v))
    birth = F.Memo(lambda v: F.date_iso("tanggal_lahir", v, today=today, min_age=16, max_age=90))

    # Values that repeat (titles, kinds, flags) are parsed once; see the student parser.
    title_front = F.Memo(lambda v: F.text("gelar_depan", v, max_length=50, required=False))
    title_back = F.Memo(lambda v: F.text("gelar_belakang", v, max_length=80, required=False))
    sex = F.Memo(lambda v: F.choice("jenis_kelamin", v, F.JENIS_KELAMIN))
    kind = F.Memo(lambda v: F.choice("jenis_ptk", v, F.JENIS_PTK))
    main_school = F.Memo(lambda v: F.flag("ptk_induk", v))
    operator = F.Memo(lambda v: F.flag("operator_sekolah", v))

    def parse(c):
        nik = F.digits("nik", c[i_nik], 16, required=True)
        return (
            F.uuid_hex("ptk_id", c[i_id]),
            school[c[i_sek]],
            F.digits("nuptk", c[i_nuptk], 16, required=False),
            F.digits("nip", c[i_nip], 18, required=False),
            F.nik_hash(nik),
            F.text("nama", c[i_nama], max_length=150, required=True),
            title_front[c[i_gd]],
            title_back[c[i_gb]],
            sex[c[i_jk]],
            birth[c[i_tgl]],
            F.email("email", c[i_email]),
            F.phone("no_hp", c[i_hp]),
            kind[c[i_jenis]],
            main_school[c[i_induk]],
            operator[c[i_op]],
        )

    return parse


SEKOLAH = FileSpec(
    name="sekolah.csv",
    kind="sekolah",
    model=Sekolah,
    key=["sekolah_id"],
    columns=list(vocab.SEKOLAH_COLUMNS),  # every column of sekolah.csv is stored as it is
    required=list(vocab.SEKOLAH_COLUMNS),
    make_parser=_sekolah_parser,
)
PESERTA_DIDIK = FileSpec(
    name="peserta_didik.csv",
    kind="peserta_didik",
    model=PesertaDidik,
    key=["peserta_didik_id"],
    columns=[
        "peserta_didik_id",
        "nisn",
        "nik_hash",
        "nama",
        "jenis_kelamin",
        "tanggal_lahir",
        "sekolah_id",
        "tingkat_pendidikan",
        "program",
        "rombel",
    ],
    required=list(vocab.PESERTA_DIDIK_COLUMNS),
    make_parser=_peserta_didik_parser,
)
PTK = FileSpec(
    name="ptk.csv",
    kind="ptk",
    model=Ptk,
    key=["ptk_id", "sekolah_id"],
    columns=[
        "ptk_id",
        "sekolah_id",
        "nuptk",
        "nip",
        "nik_hash",
        "nama",
        "gelar_depan",
        "gelar_belakang",
        "jenis_kelamin",
        "tanggal_lahir",
        "email",
        "no_hp",
        "jenis_ptk",
        "ptk_induk",
        "operator_sekolah",
    ],
    required=list(vocab.PTK_COLUMNS),
    make_parser=_ptk_parser,
)
SPECS = [SEKOLAH, PESERTA_DIDIK, PTK]
SPEC_BY_KIND = {spec.kind: spec for spec in SPECS}


def in_region(spec, region: str, t: str = "t") -> str:
    """SQL: " AND" the record `t` is in a regional snapshot's region; "" for a national one."""
    if not region:
        return ""
    if spec is SEKOLAH:
        return f" AND {t}.kode_wilayah LIKE '{region}%'"
    return (
        f" AND {t}.sekolah_id IN (SELECT sekolah_id FROM {SEKOLAH.table} "
        f"WHERE kode_wilayah LIKE '{region}%')"
    )
