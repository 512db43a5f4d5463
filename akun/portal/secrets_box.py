"""The TOTP secret at rest: AES-GCM under the platform's encryption keys (newest first;
any listed key decrypts, so keys rotate as for the initial passwords)."""

import base64
import hashlib
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_AAD = b"akun.portal.totp"


def _keys() -> list[tuple[bytes, AESGCM]]:
    out = []
    for text in settings.AKUN_ENCRYPTION_KEYS:
        raw = base64.urlsafe_b64decode(text)
        out.append((hashlib.sha256(raw).digest()[:4], AESGCM(raw)))
    return out


def seal(plain: str) -> bytes:
    key_id, aead = _keys()[0]
    nonce = os.urandom(12)
    return key_id + nonce + aead.encrypt(nonce, plain.encode(), _AAD)


def open_(token: bytes) -> str:
    token = bytes(token)
    key_id, nonce, body = token[:4], token[4:16], token[16:]
    for kid, aead in _keys():
        if kid == key_id:
            return aead.decrypt(nonce, body, _AAD).decode()
    raise ValueError("no key for this TOTP secret")
