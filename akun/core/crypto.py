"""Secrets at rest: AES-GCM under the platform's encryption keys.

Token layout: version (1 byte) | key id (4 bytes) | nonce (12) | ciphertext + tag.
Keys come from AKUN_ENCRYPTION_KEYS (base64 of 32 bytes, newest first); any listed key
decrypts, the first encrypts, so keys rotate by prepending a new one and re-encrypting
(needs_reencryption() tells which tokens are still under an older key). `aad` binds a token
to what it is (e.g. which signing key), so it cannot be moved to another column or row.
"""

import base64
import hashlib
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

VERSION = b"\x01"


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:4]


@lru_cache(maxsize=4)
def _keys_for(texts: tuple[str, ...]) -> tuple[tuple[bytes, AESGCM], ...]:
    keys = []
    for text in texts:
        raw = base64.urlsafe_b64decode(text)
        if len(raw) != 32:
            raise ValueError("each AKUN_ENCRYPTION_KEYS entry must be base64 of 32 bytes")
        keys.append((_key_id(raw), AESGCM(raw)))
    if not keys:
        raise ValueError("AKUN_ENCRYPTION_KEYS is empty")
    return tuple(keys)


def keys() -> tuple[tuple[bytes, AESGCM], ...]:
    """(key id, AESGCM) for each configured key, newest first; follows a settings change."""
    return _keys_for(tuple(settings.AKUN_ENCRYPTION_KEYS))


def reset_key_cache() -> None:
    _keys_for.cache_clear()


def encrypt(plain: bytes, *, aad: bytes | None = None) -> bytes:
    key_id, aead = keys()[0]
    nonce = os.urandom(12)
    return VERSION + key_id + nonce + aead.encrypt(nonce, plain, aad)


def encrypt_many(plains: list[bytes], *, aad: bytes | None = None) -> list[bytes]:
    """encrypt() for a batch: the same tokens, one os.urandom() call for every nonce."""
    key_id, aead = keys()[0]
    head = VERSION + key_id
    nonces = os.urandom(12 * len(plains))
    enc = aead.encrypt
    out = []
    for i, plain in enumerate(plains):
        nonce = nonces[12 * i : 12 * i + 12]
        out.append(head + nonce + enc(nonce, plain, aad))
    return out


def decrypt(token: bytes, *, aad: bytes | None = None) -> bytes:
    token = bytes(token)
    if token[:1] != VERSION:
        raise ValueError("unknown token version")
    key_id, nonce, body = token[1:5], token[5:17], token[17:]
    for kid, aead in keys():
        if kid == key_id:
            return aead.decrypt(nonce, body, aad)
    raise ValueError("no key for this token; was a key removed before re-encryption?")


def needs_reencryption(token: bytes) -> bool:
    return bytes(token)[1:5] != keys()[0][0]
