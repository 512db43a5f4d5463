"""The TOTP secret at rest: AES-GCM under the platform's encryption keys (akun.core.crypto;
newest first, any listed key decrypts, so keys rotate as for the initial passwords)."""

from cryptography.exceptions import InvalidTag

from akun.core import crypto

_AAD = b"akun.portal.totp"


def seal(plain: str) -> bytes:
    return crypto.encrypt(plain.encode(), aad=_AAD)


def open_(token: bytes) -> str:
    token = bytes(token)
    try:
        return crypto.decrypt(token, aad=_AAD).decode()
    except (ValueError, InvalidTag):
        # Sealed before the shared format: key id | nonce | ciphertext, no version byte
        # (the tag decides: a token of the other format never authenticates here).
        key_id, nonce, body = token[:4], token[4:16], token[16:]
        for kid, aead in crypto.keys():
            if kid == key_id:
                return aead.decrypt(nonce, body, _AAD).decode()
        raise ValueError("no key for this TOTP secret") from None


def needs_reencryption(token: bytes) -> bool:
    """Not under the first key (or still in the old format)."""
    token = bytes(token)
    return token[:1] != crypto.VERSION or crypto.needs_reencryption(token)
