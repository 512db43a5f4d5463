"""Checking a password against what a user's record holds, as Google's sign-in does in
password-sync mode: plain text, SHA-1 or MD5 hex, or crypt SHA-512 (`$6$`, Drepper's
SHA-crypt, written out here: the standard library's `crypt` is gone from Python 3.13)."""

import hashlib
import hmac
import re

_ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SHA512_ORDER = (
    (0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4), (47, 5, 26), (6, 27, 48),
    (28, 49, 7), (50, 8, 29), (9, 30, 51), (31, 52, 10), (53, 11, 32), (12, 33, 54),
    (34, 55, 13), (56, 14, 35), (15, 36, 57), (37, 58, 16), (59, 17, 38), (18, 39, 60),
    (40, 61, 19), (62, 20, 41),
)  # fmt: skip
_SHA512 = re.compile(r"^\$6\$(?:rounds=(\d+)\$)?([^$]{0,16})\$([./0-9A-Za-z]{86})$")


def _b64(b2: int, b1: int, b0: int, n: int) -> str:
    w = (b2 << 16) | (b1 << 8) | b0
    out = []
    for _ in range(n):
        out.append(_ITOA64[w & 0x3F])
        w >>= 6
    return "".join(out)


def sha512_crypt(password: str, salt: str, rounds: int | None = None) -> str:
    p = password.encode()
    s = salt.encode()[:16]
    custom = rounds is not None
    n = 5000 if rounds is None else max(1000, min(999_999_999, rounds))
    b = hashlib.sha512(p + s + p).digest()
    a = hashlib.sha512(p + s)
    i = len(p)
    while i > 64:
        a.update(b)
        i -= 64
    a.update(b[:i])
    i = len(p)
    while i > 0:
        a.update(b if i & 1 else p)
        i >>= 1
    c = a.digest()
    dp = hashlib.sha512(p * len(p)).digest()
    pp = (dp * (len(p) // 64 + 1))[: len(p)]
    ds = hashlib.sha512(s * (16 + c[0])).digest()
    ss = (ds * (len(s) // 64 + 1))[: len(s)]
    for r in range(n):
        h = hashlib.sha512(pp if r & 1 else c)
        if r % 3:
            h.update(ss)
        if r % 7:
            h.update(pp)
        h.update(c if r & 1 else pp)
        c = h.digest()
    encoded = "".join(_b64(c[x], c[y], c[z], 4) for x, y, z in _SHA512_ORDER)
    encoded += _b64(0, 0, c[63], 2)
    head = f"$6$rounds={n}$" if custom else "$6$"
    return f"{head}{salt[:16]}${encoded}"


def verify(password: str, stored: str, hash_function: str | None) -> bool | None:
    """True or False; None when the stored form can't be checked here (other crypt kinds)."""
    if hash_function is None:
        return hmac.compare_digest(password.encode(), stored.encode())
    if hash_function == "SHA-1":
        return hmac.compare_digest(hashlib.sha1(password.encode()).hexdigest(), stored.lower())
    if hash_function == "MD5":
        return hmac.compare_digest(hashlib.md5(password.encode()).hexdigest(), stored.lower())
    m = _SHA512.match(stored)
    if hash_function == "crypt" and m:
        rounds = int(m[1]) if m[1] is not None else None
        return hmac.compare_digest(sha512_crypt(password, m[2], rounds), stored)
    return None
