"""The test builders: roster schools, students and staff (PTK), and their accounts, made
directly with the ORM (no tests in this file). identity_support and portal_support keep
their old names on top of these, with their old defaults."""

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
):
    """An account of a roster person: issued (with an initial password), or activated in the
    given state (password, terms accepted)."""
    sub = "sd.belajar.test" if person_type == "peserta_didik" else "guru.belajar.test"
    acc = Account(
        local_part=local_part,
        subdomain=sub,
        user_id=f"{local_part}@{sub}",
        person_type=person_type,
        person_id=person_id,
        jenjang="sd",
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
