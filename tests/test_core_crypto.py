"""akun.core.crypto, shared by the initial passwords and the SSO signing keys: the token
format the initial passwords were stored in before it moved there, and key rotation."""

import base64
import hashlib
import os

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from akun.accounts import crypto as accounts_crypto
from akun.core import crypto

OTHER_KEY = base64.urlsafe_b64encode(b"o" * 32).decode()


def _old_format_token(text_key: str, plain: bytes) -> bytes:
    """An initial password as akun.accounts.crypto stored it before the move."""
    raw = base64.urlsafe_b64decode(text_key)
    nonce = os.urandom(12)
    return (
        b"\x01" + hashlib.sha256(raw).digest()[:4] + nonce + AESGCM(raw).encrypt(nonce, plain, None)
    )


def _old_format_decrypt(text_key: str, token: bytes) -> bytes:
    return AESGCM(base64.urlsafe_b64decode(text_key)).decrypt(token[5:17], token[17:], None)


def test_initial_passwords_keep_their_stored_format(settings):
    key = settings.AKUN_ENCRYPTION_KEYS[0]
    assert accounts_crypto.decrypt(_old_format_token(key, b"abcXY34679")) == "abcXY34679"
    token = accounts_crypto.encrypt("abcXY34679")
    assert _old_format_decrypt(key, token) == b"abcXY34679"
    batch = accounts_crypto.encrypt_many(["aaaaaaaaaa", "bbbbbbbbbb"])
    assert [_old_format_decrypt(key, t) for t in batch] == [b"aaaaaaaaaa", b"bbbbbbbbbb"]
    assert accounts_crypto.check_initial_password(memoryview(token), "abcXY34679")


def test_first_key_encrypts_every_key_decrypts(settings):
    old_key = settings.AKUN_ENCRYPTION_KEYS[0]
    before = crypto.encrypt(b"secret")
    settings.AKUN_ENCRYPTION_KEYS = [OTHER_KEY, old_key]
    after = crypto.encrypt(b"secret")
    assert crypto.decrypt(before) == crypto.decrypt(after) == b"secret"
    assert crypto.needs_reencryption(before) and not crypto.needs_reencryption(after)
    settings.AKUN_ENCRYPTION_KEYS = [OTHER_KEY]
    with pytest.raises(ValueError, match="no key for this token"):
        crypto.decrypt(before)


def test_associated_data_must_match():
    token = crypto.encrypt(b"secret", aad=b"akun.sso.signing-key:a")
    assert crypto.decrypt(token, aad=b"akun.sso.signing-key:a") == b"secret"
    for wrong in (None, b"akun.sso.signing-key:b"):
        with pytest.raises(InvalidTag):
            crypto.decrypt(token, aad=wrong)


def test_totp_secrets_use_the_shared_format_and_old_ones_still_open():
    from akun.portal import secrets_box

    token = secrets_box.seal("JBSWY3DPEHPK3PXP")
    assert token[:1] == crypto.VERSION and b"JBSWY3DP" not in token
    assert secrets_box.open_(token) == "JBSWY3DPEHPK3PXP"
    # Sealed by the portal's former own format: key id | nonce | ciphertext.
    key_id, aead = crypto.keys()[0]
    nonce = os.urandom(12)
    legacy = key_id + nonce + aead.encrypt(nonce, b"OLDSECRET234567", secrets_box._AAD)
    assert secrets_box.open_(legacy) == "OLDSECRET234567"
    # Bound to what it is: an initial password's token is not a TOTP secret.
    with pytest.raises((ValueError, InvalidTag)):
        secrets_box.open_(crypto.encrypt(b"JBSWY3DPEHPK3PXP"))
