"""Report numbers, safe to say on the phone: 7 random symbols and a check symbol from an
alphabet without look-alikes (no 0/O, 1/I/L, U), shown as #XXXX-XXXX.

30^7 (2.2e10) numbers: a guess hits one of a million open reports once in 22,000 tries, and
a look-up needs the contact too and is rate-limited. The check symbol (Luhn mod 30) catches
every single mistyped symbol and every swap of two neighbours before any database read."""

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
N = len(ALPHABET)
LENGTH = 8
_INDEX = {c: i for i, c in enumerate(ALPHABET)}


def _check_symbol(body: str) -> str:
    """Luhn mod N: the symbol that makes the weighted sum of body + it divisible by N."""
    total, factor = 0, 2
    for c in reversed(body):
        addend = factor * _INDEX[c]
        total += addend // N + addend % N
        factor = 1 if factor == 2 else 2
    return ALPHABET[(N - total % N) % N]


def new_number() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH - 1))
    return body + _check_symbol(body)


def is_valid(number: str) -> bool:
    return (
        len(number) == LENGTH
        and all(c in _INDEX for c in number)
        and _check_symbol(number[:-1]) == number[-1]
    )


def parse(text: str) -> str:
    """The number in what a person typed (#ab2c-d3ef, AB2C D3EF…), or '' if it is not one."""
    if not isinstance(text, str) or len(text) > 40:
        return ""
    cleaned = "".join(c for c in text.upper() if c not in "#- \t")
    return cleaned if is_valid(cleaned) else ""


def display(number: str) -> str:
    return f"#{number[:4]}-{number[4:]}"
