"""The second factor for admin accounts: set-up at first sign-in, codes never twice, recovery
codes once each and stored hashed, failures audited and limited per account (the concurrent
case: tests/test_portal_totp_limits.py), sessions that expire and a sign-out everywhere that
ends them."""

import datetime as dt
import re

import pytest
from django.test import Client

from akun.audit.models import AuditEvent
from akun.core import clock
from akun.identity import api as identity
from akun.portal import totp
from akun.portal.models import RecoveryCode, TotpDevice
from tests import builders
from tests import portal_support as ps

pytestmark = pytest.mark.django_db


@pytest.fixture
def op():
    return builders.operator(builders.school("20100001"))


def _password(client, account):
    r = client.post("/masuk", {"user_id": account.user_id, "password": builders.PASSWORD})
    assert r.status_code == 302


def _step():
    clock.freeze(clock.now() + dt.timedelta(seconds=31))


def test_first_sign_in_sets_up_totp_with_a_qr_code_then_shows_recovery_codes(client, op):
    _password(client, op)
    r = client.get("/operator/verifikasi")
    body = r.content.decode()
    assert r.status_code == 200 and "<svg" in body and 'class="segno"' in body
    assert r["Cache-Control"] == "no-store" or "no-store" in r["Cache-Control"]
    device = TotpDevice.objects.get(account=op)
    secret = totp.secret_of(device)
    assert secret not in bytes(device.secret_enc).decode("latin-1")  # encrypted at rest
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in body

    r = client.post("/operator/verifikasi", {"code": "000000"})
    assert "tidak benar" in r.content.decode()
    assert AuditEvent.objects.filter(action="portal.second_factor_failed").count() == 1
    assert client.get("/operator/").status_code == 302  # still not through

    _step()
    r = client.post("/operator/verifikasi", {"code": totp.current_code(op), "next": "/operator/"})
    body = r.content.decode()
    codes = re.findall(r"<li>([a-z0-9]{5}-[a-z0-9]{5})</li>", body)
    assert r.status_code == 200 and len(set(codes)) == 10
    stored = list(RecoveryCode.objects.filter(account=op).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not any(c in h for c in codes for h in stored)
    assert client.get("/operator/").status_code == 302  # one school: straight to it
    assert client.get("/operator/sekolah/20100001/").status_code == 200
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"identity.sign_in", "portal.totp_enrolled", "portal.sign_in"} <= actions
    signin = AuditEvent.objects.get(action="portal.sign_in")
    assert signin.npsn == "20100001" and signin.kode_wilayah == "320412"


def test_a_code_is_never_accepted_twice(client, op):
    ps.sign_in(client, op)
    code = totp.current_code(op)
    client.logout()
    _password(client, op)
    r = client.post("/operator/verifikasi", {"code": code})  # same step: a replay
    assert r.status_code == 200 and "tidak benar" in r.content.decode()
    _step()
    r = client.post("/operator/verifikasi", {"code": totp.current_code(op)})
    assert r.status_code == 302


def test_recovery_code_works_once(client, op):
    ps.sign_in(client, op)
    codes = totp.do_regenerate_recovery_codes(op, actor="test")
    client.logout()
    _password(client, op)
    r = client.post("/operator/verifikasi", {"recovery_code": codes[0].upper()})
    assert r.status_code == 302
    assert AuditEvent.objects.filter(action="portal.recovery_code_used").exists()
    client.logout()
    _password(client, op)
    r = client.post("/operator/verifikasi", {"recovery_code": codes[0]})
    assert r.status_code == 200
    assert totp.recovery_codes_left(op) == 9


def _wrong(account) -> str:
    right = {totp.current_code(account)}
    for d in (-30, 30):
        clock.freeze(clock.now() + dt.timedelta(seconds=d))
        right.add(totp.current_code(account))
    clock.freeze(clock.now() - dt.timedelta(seconds=30))
    return next(c for c in ("123456", "654321", "111111", "222222") if c not in right)


def test_wrong_codes_wait_then_lock_the_account_not_just_the_session(client, op):
    policy = identity.SECOND_FACTOR
    ps.sign_in(client, op)
    client.logout()
    _password(client, op)
    for _ in range(policy.free + 1):
        r = client.post("/operator/verifikasi", {"code": _wrong(op)})
        assert r.status_code == 200 and "tidak benar" in r.content.decode()
    r = client.post("/operator/verifikasi", {"code": totp.current_code(op)})
    assert r.status_code == 429 and "Tunggu 2 detik" in r.content.decode()
    client.logout()  # a new sign-in gets no new tries
    _password(client, op)
    r = client.post("/operator/verifikasi", {"code": totp.current_code(op)})
    assert r.status_code == 429
    for _ in range(policy.lock_after - policy.free - 2):
        clock.freeze(clock.now() + dt.timedelta(seconds=policy.max_delay + 1))
        assert client.post("/operator/verifikasi", {"code": _wrong(op)}).status_code == 200
    clock.freeze(clock.now() + dt.timedelta(seconds=policy.max_delay + 1))
    r = client.post("/operator/verifikasi", {"code": _wrong(op)})
    assert r.status_code == 302 and r["Location"] == "/masuk"
    assert "dikunci selama 60 menit" in client.get("/masuk").content.decode()
    assert client.get("/operator/verifikasi").status_code == 302  # signed out
    _password(client, op)
    _step()
    r = client.post("/operator/verifikasi", {"code": totp.current_code(op)})
    assert r.status_code == 302 and r["Location"] == "/masuk"  # locked: even the right code
    failed = AuditEvent.objects.filter(action="portal.second_factor_failed")
    assert failed.count() == policy.lock_after
    assert AuditEvent.objects.filter(action="portal.second_factor_locked").count() == 1


def test_idle_admin_session_expires(client, op):
    ps.sign_in(client, op)
    assert client.get("/operator/sekolah/20100001/").status_code == 200
    clock.freeze(clock.now() + dt.timedelta(minutes=31))
    r = client.get("/operator/sekolah/20100001/")
    assert r.status_code == 302 and r["Location"].startswith("/masuk")
    assert client.get("/operator/sekolah/20100001/")["Location"].startswith("/masuk")


def test_sessions_have_an_absolute_limit(client, op):
    ps.sign_in(client, op)
    for _ in range(17):  # active every 29 minutes, for more than 8 hours
        clock.freeze(clock.now() + dt.timedelta(minutes=29))
        r = client.get("/operator/sekolah/20100001/")
    assert r.status_code == 302 and r["Location"].startswith("/masuk")


def test_sign_out_everywhere_ends_every_portal_session(client, op):

    other = Client()
    ps.sign_in(client, op)
    ps.sign_in(other, op)
    assert other.get("/operator/sekolah/20100001/").status_code == 200
    r = client.post("/akun-saya/keluar-semua")
    assert r.status_code == 302
    r = other.get("/operator/sekolah/20100001/")
    assert r.status_code == 302 and r["Location"].startswith("/masuk")


def test_reset_2fa_makes_the_next_sign_in_set_up_again(client, op, run_akun):

    thief = Client()  # knows the old password, signed in before the reset
    ps.sign_in(client, op)
    _password(thief, op)
    password = totp.do_reset_totp(op, actor="helpdesk", reason="lost phone")
    assert not TotpDevice.objects.filter(account=op).exists()
    assert not RecoveryCode.objects.filter(account=op).exists()
    # The old password no longer opens the way to enrolling an authenticator.
    r = thief.get("/operator/verifikasi")
    assert r.status_code == 302 and b"<svg" not in r.content
    r = Client().post("/masuk", {"user_id": op.user_id, "password": builders.PASSWORD})
    assert r.status_code == 200  # refused: the form again
    assert client.get("/operator/").status_code == 302  # the helpdesk-verified owner too
    # The new initial password: activation (terms, own password), then a new authenticator.
    owner = Client()
    r = owner.post("/masuk", {"user_id": op.user_id, "password": password})
    assert r.status_code == 302 and r["Location"] == "/aktivasi/ketentuan", r.get("Location")
    owner.post("/aktivasi/ketentuan", {"accept": "on"})
    new = "kopi hitam tanpa gula"
    r = owner.post("/aktivasi/kata-sandi", {"new_password": new, "new_password2": new})
    assert r.status_code == 302
    assert b"<svg" in owner.get("/operator/verifikasi").content
