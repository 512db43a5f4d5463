"""Builders for identity tests: schools, roster people and their accounts, made directly
(tests.builders, with this family's defaults)."""

import datetime as dt
import uuid

from tests import builders
from tests.builders import account as make_account  # noqa: F401 - the old name


def make_school(npsn="20104321", nama="SD NEGERI 1 CIBODAS", kab="Kab. Bandung"):
    return builders.sekolah(npsn=npsn, nama=nama, kab=kab)


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
    pd = builders.peserta_didik(
        sekolah, nama=nama, tanggal_lahir=tanggal_lahir, nisn="00" + str(uuid.uuid4().int)[:8]
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
    ptk = builders.ptk(sekolah, nama=nama, tanggal_lahir=tanggal_lahir, email=email, no_hp=no_hp)
    return make_account(
        local_part, "ptk", ptk.ptk_id, "pendidik", sekolah, nama, state=state, password=password
    )


def csrf_free(html: bytes) -> bytes:
    """A page without its CSRF token, to compare two responses byte for byte."""
    import re

    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", html)
