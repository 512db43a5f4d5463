"""`akun secrets reencrypt`: after a new key is put first in AKUN_ENCRYPTION_KEYS, every
secret at rest moves under it, so that the old key can be removed."""

import base64

import pytest
from django.core.management import call_command

from akun.accounts import api, reencrypt
from akun.accounts.models import Account
from akun.audit.models import AuditEvent
from akun.core import crypto
from akun.portal import totp
from akun.sso import keys
from akun.sso.models import SigningKey
from tests import builders as roster

pytestmark = pytest.mark.django_db

NEW_KEY = base64.urlsafe_b64encode(b"n" * 32).decode()


def _kid(text_key: str) -> bytes:
    return crypto._key_id(base64.urlsafe_b64decode(text_key))


def _platform(n=25):
    sd = roster.sekolah("SD")
    for i in range(n):
        roster.peserta_didik(sd, 5, nama=f"Anak {i}")
    roster.ptk(sd, "Kepala Sekolah")
    api.issue_accounts(actor="test")
    accounts = list(Account.objects.order_by("pk"))
    passwords = {a.pk: api.get_initial_password(a) for a in accounts}
    active = accounts[0]
    api.do_activate_account(active, raw_password="teh manis di sore", actor="test", reason="t")
    passwords.pop(active.pk)
    admin = next(a for a in accounts if a.user_id.startswith("kepala") or "admin" in a.user_id)
    secret = totp.do_start_totp_enrollment(admin, actor="test")
    keys.reset()
    keys.ensure_key()
    return passwords, admin, secret


def _tokens():
    return [
        bytes(t)
        for t in Account.objects.exclude(initial_password_enc=None).values_list(
            "initial_password_enc", flat=True
        )
    ]


def test_every_secret_moves_under_the_new_key_and_the_old_key_can_go(settings, capsys):
    old_key = settings.AKUN_ENCRYPTION_KEYS[0]
    passwords, admin, secret = _platform()
    jwks_before = keys.keyset(force=True).jwks
    settings.AKUN_ENCRYPTION_KEYS = [NEW_KEY, old_key]
    assert all(t[1:5] == _kid(old_key) for t in _tokens())
    call_command("secrets", "reencrypt", "--batch", "7")
    out = capsys.readouterr().out
    assert f"initial passwords  {len(passwords)}" in out
    assert "TOTP secrets       1" in out and "SSO signing keys   1" in out
    assert all(t[1:5] == _kid(NEW_KEY) for t in _tokens())
    # The old key removed: everything still opens, with the same values.
    settings.AKUN_ENCRYPTION_KEYS = [NEW_KEY]
    now = {a.pk: api.get_initial_password(a) for a in Account.objects.all()}
    assert {pk: now[pk] for pk in passwords} == passwords
    assert totp.secret_of(totp.device_of(admin)) == secret
    keys.reset()
    assert keys.keyset(force=True).jwks == jwks_before  # the same signing key, now readable
    assert [bytes(k.private_key_enc)[1:5] for k in SigningKey.objects.all()] == [_kid(NEW_KEY)]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "accounts.reencrypt_initial_passwords",
        "portal.reencrypt_totp_secrets",
        "sso.reencrypt_keys",
    } <= actions
    # Idempotent: nothing left to do.
    settings.AKUN_ENCRYPTION_KEYS = [NEW_KEY, old_key]
    assert api.do_reencrypt_initial_passwords(actor="test") == 0
    assert totp.do_reencrypt_totp_secrets(actor="test") == 0


def test_a_password_changed_meanwhile_is_left_as_it_now_is(settings, monkeypatch):
    old_key = settings.AKUN_ENCRYPTION_KEYS[0]
    passwords, _, _ = _platform(5)
    settings.AKUN_ENCRYPTION_KEYS = [NEW_KEY, old_key]
    target = next(iter(passwords))
    encrypt_many = reencrypt.crypto.encrypt_many
    reissued = {}

    def reissue_first(plains):
        # An operator re-issues one password between the batch's read and its write.
        if not reissued:
            acc = Account.objects.get(pk=target)
            reissued["pw"] = api.do_reissue_account(acc, actor="op", reason="lost")
        return encrypt_many(plains)

    monkeypatch.setattr(reencrypt.crypto, "encrypt_many", reissue_first)
    n = api.do_reencrypt_initial_passwords(actor="test")
    assert n == len(passwords) - 1  # all but the re-issued one, which is already new
    acc = Account.objects.get(pk=target)
    assert api.get_initial_password(acc) == reissued["pw"] != passwords[target]
    assert all(t[1:5] == _kid(NEW_KEY) for t in _tokens())
