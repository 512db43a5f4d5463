"""Builders for identity tests: schools, roster people and their accounts, made directly."""

import datetime as dt
import uuid

from akun.accounts import crypto
from akun.accounts.models import Account
from akun.core import clock
from akun.identity import terms
from akun.roster.models import PesertaDidik, Ptk, Sekolah

_RUN_FIELDS = {"first_run_id": 1, "changed_run_id": 1}  # roster rows' bookkeeping


def make_school(npsn="20104321", nama="SD NEGERI 1 CIBODAS", kab="Kab. Bandung"):
    return Sekolah.objects.create(
        sekolah_id=uuid.uuid4(),
        npsn=npsn,
        nama=nama,
        bentuk_pendidikan="SD",
        status_sekolah="Negeri",
        kode_wilayah="320412",
        kabupaten_kota=kab,
        provinsi="Prov. Jawa Barat",
        **_RUN_FIELDS,
    )


def make_student(
    sekolah,
    nama="Siti Nurhaliza",
    tanggal_lahir=dt.date(2012, 3, 9),
    local_part="sitinurhaliza7",
    state="issued",
    password=None,
    initial="Kt4mPq7rXa",
    recovery_email="",
):
    pd = PesertaDidik.objects.create(
        peserta_didik_id=uuid.uuid4(),
        nisn="00" + str(uuid.uuid4().int)[:8],
        nama=nama,
        jenis_kelamin="P",
        tanggal_lahir=tanggal_lahir,
        sekolah=sekolah,
        tingkat_pendidikan=5,
        program="reguler",
        rombel="5A",
        **_RUN_FIELDS,
    )
    return make_account(
        local_part,
        "peserta_didik",
        pd.peserta_didik_id,
        "peserta_didik",
        sekolah,
        nama,
        state=state,
        password=password,
        initial=initial,
        recovery_email=recovery_email,
    )


def make_ptk(
    sekolah,
    nama="Remo Bimantoro",
    tanggal_lahir=dt.date(1985, 7, 21),
    local_part="remobimantoro",
    email="remo.b@gmail.com",
    no_hp="081234567890",
    state="active",
    password="teh manis di sore hari",
):
    ptk = Ptk.objects.create(
        ptk_id=uuid.uuid4(),
        sekolah=sekolah,
        nama=nama,
        jenis_kelamin="L",
        tanggal_lahir=tanggal_lahir,
        email=email,
        no_hp=no_hp,
        jenis_ptk="Guru Kelas",
        ptk_induk=True,
        operator_sekolah=False,
        **_RUN_FIELDS,
    )
    return make_account(
        local_part, "ptk", ptk.ptk_id, "pendidik", sekolah, nama, state=state, password=password
    )


def make_account(
    local_part,
    person_type,
    person_id,
    role,
    sekolah,
    nama,
    *,
    state="issued",
    password=None,
    initial="Kt4mPq7rXa",
    recovery_email="",
):
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
        acc.set_password(password or "teh manis di sore hari")
        acc.state = state
        acc.activated_at = clock.now()
        acc.terms_version = terms.current().version
        acc.terms_accepted_at = clock.now()
    else:
        acc.set_unusable_password()
    acc.save()
    return acc


def csrf_free(html: bytes) -> bytes:
    """A page without its CSRF token, to compare two responses byte for byte."""
    import re

    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", html)
