"""crypt SHA-512 ("$6$"), Ulrich Drepper's published algorithm (the one glibc's crypt(3)
implements): the hash format Google's Directory API accepts with hashFunction "crypt".

Written here on hashlib rather than taken from a library: passlib (the usual choice) is
unmaintained since 2020 and Python's crypt module is gone in 3.13. Checked against the
specification's own test vectors (tests/test_provisioning_passwords.py)."""

import hashlib
import secrets

ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ROUNDS_DEFAULT = 5000
ROUNDS_MIN, ROUNDS_MAX = 1000, 999_999_999
SALT_MAX = 16
# The order in which the 64 digest bytes are written, three at a time (from the spec).
_ORDER = (
    (0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4), (47, 5, 26), (6, 27, 48),
    (28, 49, 7), (50, 8, 29), (9, 30, 51), (31, 52, 10), (53, 11, 32), (12, 33, 54),
    (34, 55, 13), (56, 14, 35), (15, 36, 57), (37, 58, 16), (59, 17, 38), (18, 39, 60),
    (40, 61, 19), (62, 20, 41),
)  # fmt: skip


def _b64(b2: int, b1: int, b0: int, n: int) -> str:
    w = (b2 << 16) | (b1 << 8) | b0
    out = []
    for _ in range(n):
        out.append(ITOA64[w & 0x3F])
        w >>= 6
    return "".join(out)


def _repeat(digest: bytes, length: int) -> bytes:
    return (digest * (length // 64 + 1))[:length]


def sha512_crypt(password: str | bytes, salt: str | None = None, rounds: int | None = None) -> str:
    """ "$6$[rounds=N$]salt$hash". No `rounds`: the default 5000, not written (what the
    spec's "$6$salt" means); a salt longer than 16 characters is cut, as crypt(3) does."""
    key = password.encode() if isinstance(password, str) else bytes(password)
    if salt is None:
        salt = "".join(secrets.choice(ITOA64) for _ in range(SALT_MAX))
    salt = salt[:SALT_MAX]
    if "$" in salt or "\n" in salt or ":" in salt:
        raise ValueError("a crypt salt has no '$', ':' or newline")
    s = salt.encode()
    n = ROUNDS_DEFAULT if rounds is None else min(max(int(rounds), ROUNDS_MIN), ROUNDS_MAX)
    sha512 = hashlib.sha512

    b = sha512(key + s + key).digest()
    a = sha512(key + s)
    cnt = len(key)
    while cnt > 64:
        a.update(b)
        cnt -= 64
    a.update(b[:cnt])
    cnt = len(key)
    while cnt:
        a.update(b if cnt & 1 else key)
        cnt >>= 1
    c = a.digest()
    p = _repeat(sha512(key * len(key)).digest(), len(key))
    ds = _repeat(sha512(s * (16 + c[0])).digest(), len(s))
    for i in range(n):
        h = sha512(p if i & 1 else c)
        if i % 3:
            h.update(ds)
        if i % 7:
            h.update(p)
        h.update(c if i & 1 else p)
        c = h.digest()

    text = "".join(_b64(c[x], c[y], c[z], 4) for x, y, z in _ORDER) + _b64(0, 0, c[63], 2)
    head = "$6$" if rounds is None else f"$6$rounds={n}$"
    return f"{head}{salt}${text}"
