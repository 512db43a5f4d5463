"""Strength checks for the production secrets, and fresh ones (`akun secrets generate`).

Imported by the settings, so nothing here touches Django. A check cannot prove a secret is
random; it refuses what plainly is not: the development values (however padded or cased),
short or repetitive secret keys, and encryption keys that are text or barely vary.
"""

import base64
import binascii
import math
import secrets
from collections import Counter

GENERATE_HINT = "Generate fresh ones with `akun secrets generate`."
MIN_SECRET_CHARS = 32
MIN_SECRET_BITS = 128
MIN_DISTINCT_KEY_BYTES = 16  # 32 random bytes have ~30 distinct values


def generate_secret_key() -> str:
    return secrets.token_urlsafe(48)


def generate_encryption_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _estimated_bits(text: str) -> float:
    """Length times the per-character Shannon entropy of the text itself."""
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values()) * n if n else 0.0


def _is_repetition(text: str) -> bool:
    return len(text) > 1 and text in (text + text)[1:-1]


def secret_key_problem(text: str, *, development: str) -> str | None:
    """Why `text` is not good enough as AKUN_SECRET_KEY, or None."""
    if text != text.strip():
        return "starts or ends with white space"
    if development.lower() in text.lower():
        return "is the development secret"
    if len(text) < MIN_SECRET_CHARS:
        return f"is shorter than {MIN_SECRET_CHARS} characters"
    if _is_repetition(text) or _estimated_bits(text) < MIN_SECRET_BITS:
        return "has too little entropy (too few different characters, or a repeated pattern)"
    return None


def decode_encryption_key(text: str) -> bytes:
    """The 32 bytes of one AKUN_ENCRYPTION_KEYS entry; ValueError if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(text.encode("ascii"))
    except (UnicodeEncodeError, binascii.Error) as e:
        raise ValueError("is not base64") from e
    # The decoder skips stray characters; a key must be nothing but base64 (either alphabet).
    canonical = text.rstrip("=").replace("+", "-").replace("/", "_")
    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != canonical:
        raise ValueError("is not base64")
    if len(raw) != 32:
        raise ValueError(f"is {len(raw)} bytes, not 32")
    return raw


def encryption_key_problem(text: str, *, development: str) -> str | None:
    """Why `text` is not good enough as an AKUN_ENCRYPTION_KEYS entry, or None."""
    if text == development:
        return "is the development key"
    try:
        raw = decode_encryption_key(text)
    except ValueError as e:
        return str(e)
    if len(set(raw)) < MIN_DISTINCT_KEY_BYTES:
        return "has too little entropy (too few different bytes)"
    if all(0x20 <= b < 0x7F for b in raw):
        return "is printable text, not random bytes"
    return None
