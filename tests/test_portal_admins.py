"""`akun admins`: regional and national admins (staff accounts, role dinas, a region scope),
delegation down the region tree only, operators' schools from the roster, and the demo's
operator sign-in."""

import datetime as dt
import time
import uuid

import pyotp
import pytest
from django.test import Client

from akun.accounts.api import get_initial_password
from akun.accounts.models import Account
from akun.audit.models import AuditEvent
from akun.core import clock, keys
from akun.portal import actions, scope, totp
from akun.portal.api import demo_operator_sign_in
from akun.portal.models import AdminScope
from tests import builders
from tests import portal_support as ps

pytestmark = pytest.mark.django_db(transaction=True)


def test_admins_create_region_prints_a_sign_in_and_scopes_the_account(run_akun):
    builders.school("20100001", kode_wilayah="320412")
    r = run_akun("admins", "create", "--region", "3204", "--name", "Dinas Kab. Bandung")
    assert r.returncode == 0, r.stderr
    user_id = r.stdout.split("user ID")[1].split()[0]
    password = r.stdout.split("initial password")[1].split()[0]
    account = Account.objects.get(user_id=user_id)
    assert user_id.endswith("@dinas.belajar.test")
    assert (account.person_type, account.role, account.state) == ("staff", "dinas", "issued")
    assert AdminScope.objects.get(account=account).level == "regency"
    assert scope.scope_of(account).prefixes == ("3204",)
    assert AuditEvent.objects.filter(action="portal.admin_created", kode_wilayah="3204").exists()
    # The printed password is the initial password: the normal first sign-in follows.
    r = Client().post("/masuk", {"user_id": user_id, "password": password})
    assert r.status_code == 302 and "/aktivasi/" in r["Location"]


def test_admins_create_refuses_bad_regions(run_akun):
    builders.school("20100001", kode_wilayah="320412")
    for bad in ("320", "320412", "x", "9999"):
        r = run_akun("admins", "create", "--region", bad, "--name", "Admin")
        assert r.returncode != 0, bad
    assert not Account.objects.filter(role="dinas").exists()


def test_delegation_follows_the_region_tree():
    builders.school("20100001", kode_wilayah="320412")
    builders.school("20200003", kode_wilayah="327301")
    builders.school("30300004", kode_wilayah="310101")
    prov = ps.dinas("32", nama="Admin Provinsi")
    kab, _ = actions.do_create_admin(nama="Admin Kab", region="3204", actor="x", granted_by=prov)
    assert scope.scope_of(kab).prefixes == ("3204",)
    for region in ("nasional", "31", "3101"):
        with pytest.raises(actions.AdminError):
            actions.do_create_admin(nama="No", region=region, actor="x", granted_by=prov)
    with pytest.raises(actions.AdminError):
        actions.do_create_admin(nama="No", region="32", actor="x", granted_by=kab)
    with pytest.raises(actions.AdminError):
        actions.do_create_admin(nama="No", region="3273", actor="x", granted_by=kab)
    national = ps.dinas("nasional", nama="Admin Nasional")
    actions.do_create_admin(nama="Yes", region="31", actor="x", granted_by=national)


def test_cli_delegation_with_by(run_akun):
    builders.school("20100001", kode_wilayah="320412")
    builders.school("30300004", kode_wilayah="310101")
    kab = ps.dinas("3204")
    r = run_akun("admins", "create", "--region", "31", "--name", "X", "--by", kab.user_id)
    assert r.returncode != 0 and "may not delegate" in r.stderr


def test_operator_scope_comes_from_the_roster():
    a = builders.school("20100001", kode_wilayah="320412")
    b = builders.school("20100002", kode_wilayah="320413")
    smp = builders.school("20100005", kode_wilayah="320412", form="SMP")
    gone = builders.school("20100006", kode_wilayah="320412")
    op = builders.operator(a, extra_schools=(b, smp, gone))
    gone.departed_at = clock.now()
    gone.save()
    # Head or operator at A and B (SD); the SMP is another level (another admin account).
    assert scope.scope_of(op).sekolah_ids == {a.pk, b.pk}
    assert not scope.scope_of(op).regional
    # A teacher at the school, not its operator, has no scope.
    assert scope.scope_of(builders.teacher(a)).empty
    # A head of school counts like the operator.
    pid = uuid.uuid4()
    builders.ptk(
        b, "Kepala Sekolah", ptk_id=pid, nama="Kepala B", tanggal_lahir=dt.date(1980, 5, 6)
    )
    head = builders.account(
        "kepalab", "ptk", pid, "tenaga_kependidikan", b, "Kepala B", state="active"
    )
    head.jenjang = "SD"
    head.save()
    assert scope.scope_of(head).sekolah_ids == {b.pk}


def test_operator_with_two_schools_gets_a_list(client):
    a = builders.school("20100001", kode_wilayah="320412", nama="SD SATU")
    b = builders.school("20100002", kode_wilayah="320413", nama="SD DUA")
    ps.sign_in(client, builders.operator(a, extra_schools=(b,)))
    body = client.get("/operator/").content.decode()
    assert "SD SATU" in body and "SD DUA" in body
    assert client.get("/operator/sekolah/20100002/").status_code == 200


def test_totp_command_prints_the_current_code_for_the_demo(run_akun, client):
    op = builders.operator(builders.school("20100001"))
    r = run_akun("admins", "totp", op.user_id)
    assert r.returncode != 0 and "sign in first" in r.stderr
    ps.sign_in(client, op)
    clock.freeze(None)  # the subprocess runs on the real clock
    r = run_akun("admins", "totp", op.user_id)
    secret = totp.secret_of(totp.device_of(op))
    now = time.time()
    near = {pyotp.TOTP(secret).at(now + d) for d in (-30, 0, 30)}
    assert r.returncode == 0 and r.stdout.strip() in near
    production = {
        "AKUN_ENV": "production",
        "AKUN_SECRET_KEY": keys.generate_secret_key(),
        "AKUN_ENCRYPTION_KEYS": keys.generate_encryption_key(),
        "AKUN_ALLOWED_HOSTS": "x",
    }
    r = run_akun("admins", "totp", op.user_id, env=production)
    assert r.returncode != 0 and "not available" in r.stderr


def test_reset_2fa_command(run_akun, client):
    op = builders.operator(builders.school("20100001"))
    ps.sign_in(client, op)
    r = run_akun("admins", "reset-2fa", op.user_id, "--reason", "lost phone")
    assert r.returncode == 0
    assert not totp.is_enrolled(op)
    password = r.stdout.split("(shown once, give it to the person yourself): ")[1].split()[0]
    op.refresh_from_db()
    assert op.state == "issued" and get_initial_password(op) == password
    assert AuditEvent.objects.filter(action="portal.totp_reset", reason="lost phone").exists()


def test_demo_operator_sign_in_lines():
    a = builders.school("20100001", kode_wilayah="320412", nama="SD DEMO")
    pid = uuid.uuid4()
    builders.ptk(
        a, ptk_id=pid, nama="Operator Demo", operator=True, tanggal_lahir=dt.date(1980, 5, 6)
    )
    acc = builders.account("operatordemo", "ptk", pid, "tenaga_kependidikan", a, "Operator Demo")
    text = demo_operator_sign_in()
    assert acc.user_id in text and "Kt4mPq7rXa" in text and "SD DEMO" in text
    assert "akun admins totp" in text and "/operator/" in text
