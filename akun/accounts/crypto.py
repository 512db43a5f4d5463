"""Initial passwords: generated with `secrets`, kept AES-GCM-encrypted until activation.

The encryption is akun.core.crypto's (AKUN_ENCRYPTION_KEYS, newest first; token layout
version | key id | nonce | ciphertext + tag, no associated data), so tokens stored before it
moved there still decrypt.
"""

import hmac
import secrets

from akun.core import crypto as core_crypto

# No look-alikes: no 0/O/o, 1/l/I, 5/S, 2/Z, 8/B. 50 symbols; 10 of them = 56.4 bits.
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679"
INITIAL_PASSWORD_LENGTH = 10


def generate_initial_password(length: int = INITIAL_PASSWORD_LENGTH) -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


# Byte -> alphabet letter; bytes >= 250 are deleted so that the rest map uniformly (250 = 5 x 50).
_BYTE_TO_LETTER = bytes(ord(PASSWORD_ALPHABET[b % len(PASSWORD_ALPHABET)]) for b in range(256))
_REJECTED_BYTES = bytes(range(256 - 256 % len(PASSWORD_ALPHABET), 256))


def generate_initial_passwords(count: int, length: int = INITIAL_PASSWORD_LENGTH) -> list[str]:
    """`count` passwords at once, same distribution as generate_initial_password().

    One secrets.token_bytes() call for the whole batch, mapped to letters with
    bytes.translate (bytes >= 250 dropped, so `byte % 50` stays uniform), then cut into
    passwords: every letter is an independent uniform draw, as with secrets.choice().
    Bulk issuance: well under 1 µs per password instead of ~17 µs.
    """
    need = count * length
    letters = b""
    while len(letters) < need:
        missing = need - len(letters)
        # 2.3% of bytes are rejected; ask for a little more so that one round almost always does.
        raw = secrets.token_bytes(missing + missing // 16 + 16)
        letters += raw.translate(_BYTE_TO_LETTER, _REJECTED_BYTES)
    text = letters[:need].decode("ascii")
    return [text[i : i + length] for i in range(0, need, length)]


def reset_key_cache() -> None:
    core_crypto.reset_key_cache()


def encrypt(plain: str) -> bytes:
    return core_crypto.encrypt(plain.encode())


def encrypt_many(plains: list[str]) -> list[bytes]:
    """encrypt() for a batch: the same tokens, one os.urandom() call for every nonce."""
    return core_crypto.encrypt_many([p.encode() for p in plains])


def decrypt(token: bytes) -> str:
    return core_crypto.decrypt(token).decode()


def needs_reencryption(token: bytes) -> bool:
    return core_crypto.needs_reencryption(token)


def check_initial_password(token: bytes | None, candidate: str) -> bool:
    """Constant-time comparison of a candidate with the stored initial password."""
    if not token:
        # Same work as a real check, so timing does not tell whether one exists.
        hmac.compare_digest(b"x" * INITIAL_PASSWORD_LENGTH, candidate.encode())
        return False
    return hmac.compare_digest(decrypt(token).encode(), candidate.encode())
