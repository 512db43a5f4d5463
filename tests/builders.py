"""The test builders: roster schools, students and staff (PTK), and their accounts, made
directly with the ORM (no tests in this file). Roster rows: sekolah, peserta_didik, ptk;
an account: account; a person with both: student, staff (and its presets operator,
teacher); the school most web tests use: school()."""

import datetime as dt
import itertools
import uuid

from akun.accounts import crypto
from akun.accounts.models import Account
from akun.core import clock
from akun.identity import terms
from akun.roster.api import PesertaDidik, Ptk, Sekolah

RUN_FIELDS = {"first_run_id": 1, "changed_run_id": 1}  # roster rows' bookkeeping
PASSWORD = "teh manis di sore hari"
INITIAL_PASSWORD = "Kt4mPq7rXa"

_npsn = itertools.count(10_000_001)
_nisn = itertools.count(1_000_000_001)


def departed_at(departed: bool):
    return clock.now() if departed else None


def sekolah(
    form="SD", *, npsn=None, nama=None, kode_wilayah="320412", kab="Kab. Bandung",
    prov="Prov. Jawa Barat", departed=False, save=True,
) -> Sekolah:  # fmt: skip
    """A school; NPSN from a counter and a random name unless given."""
    s = Sekolah(
        sekolah_id=uuid.uuid4(),
        npsn=npsn or str(next(_npsn)),
        nama=nama or f"{form} NEGERI {uuid.uuid4().hex[:4].upper()}",
        bentuk_pendidikan=form,
        status_sekolah="Negeri",
        kode_wilayah=kode_wilayah,
        kabupaten_kota=kab,
        provinsi=prov,
        departed_at=departed_at(departed),
        **RUN_FIELDS,
    )
    if save:
        s.save()
    return s


def peserta_didik(
    school, grade=5, *, nama="Siti Nurhaliza", tanggal_lahir=dt.date(2012, 3, 9), nisn=None,
    nik_hash="", program="reguler", rombel=None, departed=False, save=True,
) -> PesertaDidik:  # fmt: skip
    """A student's roster row; NISN from a counter unless given, class `<grade>A`."""
    p = PesertaDidik(
        peserta_didik_id=uuid.uuid4(),
        nisn=nisn or str(next(_nisn)),
        nik_hash=nik_hash,
        nama=nama,
        jenis_kelamin="P",
        tanggal_lahir=tanggal_lahir,
        sekolah_id=school.sekolah_id,
        tingkat_pendidikan=grade,
        program=program,
        rombel=rombel if rombel is not None else f"{grade}A",
        departed_at=departed_at(departed),
        **RUN_FIELDS,
    )
    if save:
        p.save()
    return p


def ptk(
    school, jenis_ptk="Guru Kelas", *, ptk_id=None, nama="Remo Bimantoro",
    tanggal_lahir=dt.date(1980, 1, 1), nuptk="", nik_hash="", email="", no_hp="",
    induk=True, operator=False, departed=False, save=True,
) -> Ptk:  # fmt: skip
    """A staff member's roster row at one school (a person at several has one per school)."""
    p = Ptk(
        ptk_id=ptk_id or uuid.uuid4(),
        sekolah_id=school.sekolah_id,
        nuptk=nuptk,
        nik_hash=nik_hash,
        nama=nama,
        jenis_kelamin="L",
        tanggal_lahir=tanggal_lahir,
        email=email,
        no_hp=no_hp,
        jenis_ptk=jenis_ptk,
        ptk_induk=induk,
        operator_sekolah=operator,
        departed_at=departed_at(departed),
        **RUN_FIELDS,
    )
    if save:
        p.save()
    return p


def account(
    local_part,
    person_type,
    person_id,
    role,
    sekolah,
    nama,
    *,
    state="issued",
    password=None,
    initial=INITIAL_PASSWORD,
    recovery_email="",
    jenjang="sd",
    subdomain=None,
):
    """An account of a roster person: issued (with an initial password), or activated in the
    given state (password, terms accepted)."""
    sub = subdomain or (
        "sd.belajar.test" if person_type == "peserta_didik" else "guru.belajar.test"
    )
    acc = Account(
        local_part=local_part,
        subdomain=sub,
        user_id=f"{local_part}@{sub}",
        person_type=person_type,
        person_id=person_id,
        jenjang=jenjang,
        role=role,
        sekolah=sekolah,
        nama=nama,
        state="issued",
        issued_at=clock.now(),
        initial_password_enc=crypto.encrypt(initial),
    )
    if recovery_email:
        acc.recovery_email = recovery_email
        acc.recovery_email_verified_at = clock.now()
    if state != "issued":
        acc.initial_password_enc = None
        acc.set_password(password or PASSWORD)
        acc.state = state
        acc.activated_at = clock.now()
        acc.terms_version = terms.current().version
        acc.terms_accepted_at = clock.now()
    else:
        acc.set_unusable_password()
    acc.save()
    return acc


CIBODAS = "20104321"


def school(npsn=CIBODAS, nama=None, *, kode_wilayah="320412", **kw) -> Sekolah:
    """A school with a fixed NPSN: by default SD NEGERI 1 CIBODAS (20104321), the one most
    web tests use; another NPSN is named SD NEGERI <npsn> unless `nama` is given."""
    if nama is None:
        nama = "SD NEGERI 1 CIBODAS" if npsn == CIBODAS else f"SD NEGERI {npsn}"
    return sekolah(npsn=npsn, nama=nama, kode_wilayah=kode_wilayah, **kw)


def student(
    school, nama="Siti Nurhaliza", local_part="sitinurhaliza7", *, state="issued",
    password=None, initial=INITIAL_PASSWORD, recovery_email="", tanggal_lahir=dt.date(2012, 3, 9),
    rombel=None, nisn=None, jenjang="SD",
) -> Account:  # fmt: skip
    """A student in the roster (grade 5) and their account."""
    pd = peserta_didik(
        school, nama=nama, tanggal_lahir=tanggal_lahir, rombel=rombel,
        nisn=nisn or "00" + str(uuid.uuid4().int)[:8],
    )  # fmt: skip
    return account(
        local_part, "peserta_didik", pd.peserta_didik_id, "peserta_didik", school, nama,
        state=state, password=password, initial=initial, recovery_email=recovery_email,
        jenjang=jenjang,
    )  # fmt: skip


def staff(
    school, nama="Remo Bimantoro", local_part="remobimantoro", *, role="pendidik",
    state="active", password=None, tanggal_lahir=dt.date(1985, 7, 21), email="remo.b@gmail.com",
    no_hp="081234567890", nuptk="", ptk_id=None, operator=False, kepala=False,
    extra_schools=(), jenjang="SD", subdomain=None,
) -> Account:  # fmt: skip
    """A PTK in the roster (one row per school: `school` as induk, then `extra_schools`) and
    their account."""
    pid = ptk_id or uuid.uuid4()
    jenis = "Kepala Sekolah" if kepala else "Guru Kelas"
    for i, s in enumerate((school, *extra_schools)):
        ptk(
            s, jenis, ptk_id=pid, nama=nama, tanggal_lahir=tanggal_lahir, email=email,
            no_hp=no_hp, nuptk=nuptk if i == 0 else "", operator=operator, induk=i == 0,
        )  # fmt: skip
    return account(
        local_part, "ptk", pid, role, school, nama, state=state, password=password,
        jenjang=jenjang, subdomain=subdomain,
    )  # fmt: skip


def operator(school, local_part="opsekolah", nama="Operator Sekolah", *, extra_schools=()):
    """A school's data operator (admin.*), active, at `school` and `extra_schools`."""
    return staff(
        school, nama, local_part, role="tenaga_kependidikan", operator=True,
        nuptk="1234567890123456", extra_schools=extra_schools, email="", no_hp="",
        tanggal_lahir=dt.date(1980, 5, 6), jenjang="SD", subdomain="admin.sd.belajar.test",
    )  # fmt: skip


def teacher(school, local_part="gurusatu", nama="Guru Satu", *, nuptk="6543210987654321"):
    """A class teacher (guru.*), active."""
    return staff(
        school, nama, local_part, nuptk=nuptk, email="", no_hp="",
        tanggal_lahir=dt.date(1980, 5, 6), jenjang="SD",
    )  # fmt: skip
