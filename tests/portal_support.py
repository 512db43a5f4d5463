"""Builders for portal tests: schools in two regencies, an operator, students, a dinas admin,
and a signed-in admin session (password, then the real TOTP page). Roster rows and accounts
come from tests.builders, with this family's defaults."""

import datetime as dt
import uuid

from django.test import Client  # noqa: F401 - re-exported for tests

from akun.accounts.models import Account
from akun.audit.models import AuditEvent  # noqa: F401
from akun.core import clock
from akun.identity import terms
from akun.portal import actions, totp
from tests import builders
from tests.builders import PASSWORD
from tests.builders import account as make_account


def school(npsn, kode="320412", nama=None, form="SD", kab="Kab. Bandung", prov="Prov. Jawa Barat"):
    return builders.sekolah(
        npsn=npsn, kode_wilayah=kode, nama=nama or f"SD NEGERI {npsn}", form=form, kab=kab,
        prov=prov,
    )  # fmt: skip


def student(sekolah, nama, local, *, rombel="5A", nisn=None, state="issued", initial="Kt4mPq7rXa"):
    pd = builders.peserta_didik(
        sekolah, nama=nama, tanggal_lahir=dt.date(2013, 1, 2), rombel=rombel,
        nisn=nisn or ("00" + str(uuid.uuid4().int)[:8]),
    )  # fmt: skip
    acc = make_account(
        local, "peserta_didik", pd.pk, "peserta_didik", sekolah, nama, state=state, initial=initial
    )
    acc.jenjang = "SD"
    acc.save(update_fields=["jenjang"])
    return acc


def ptk_row(sekolah, ptk_id, nama, *, operator=False, kepala=False, nuptk="", induk=True):
    return builders.ptk(
        sekolah, ptk_id=ptk_id, nama=nama, operator=operator, nuptk=nuptk, induk=induk,
        jenis_ptk="Kepala Sekolah" if kepala else "Guru Kelas", tanggal_lahir=dt.date(1980, 5, 6),
    )  # fmt: skip


def operator(sekolah, local="opsekolah", nama="Operator Sekolah", *, extra_schools=()):
    pid = uuid.uuid4()
    ptk_row(sekolah, pid, nama, operator=True, nuptk="1234567890123456")
    for s in extra_schools:
        ptk_row(s, pid, nama, operator=True, induk=False)
    acc = make_account(local, "ptk", pid, "tenaga_kependidikan", sekolah, nama, state="active")
    acc.subdomain = "admin.sd.belajar.test"
    acc.jenjang = "SD"
    acc.save(update_fields=["subdomain", "jenjang"])
    return acc


def teacher(sekolah, local="gurusatu", nama="Guru Satu", nuptk="6543210987654321"):
    pid = uuid.uuid4()
    ptk_row(sekolah, pid, nama, nuptk=nuptk)
    acc = make_account(local, "ptk", pid, "pendidik", sekolah, nama, state="active")
    acc.jenjang = "SD"
    acc.save(update_fields=["jenjang"])
    return acc


def dinas(region, nama="Admin Dinas"):
    """A regional admin made the CLI's way, then activated (as after the first sign-in)."""
    account, _password = actions.do_create_admin(nama=nama, region=region, actor="test")
    account.set_password(PASSWORD)
    account.initial_password_enc = None
    account.state = Account.State.ACTIVE
    account.activated_at = clock.now()
    account.terms_version = terms.current().version
    account.terms_accepted_at = clock.now()
    account.save()
    return account


def sign_in(client, account):
    """Password sign-in through the real page, then TOTP set up through the real page."""
    r = client.post("/masuk", {"user_id": account.user_id, "password": PASSWORD})
    assert r.status_code == 302, r.content[:500]
    r = client.get("/operator/")
    assert r.status_code == 302 and "/operator/verifikasi" in r["Location"]
    if not totp.is_enrolled(account):
        r = client.get("/operator/verifikasi")
        assert b"<svg" in r.content
    _next_step()
    r = client.post(
        "/operator/verifikasi", {"code": totp.current_code(account), "next": "/operator/"}
    )
    assert r.status_code in (200, 302), r.content[:500]
    return r


def _next_step():
    """Move the clock one TOTP step on, so that a new code is not a replay of the last."""
    now = clock.now()
    clock.freeze(now + dt.timedelta(seconds=31))
