"""Checking and normalising one field of a roster row.

Each parser returns the value to store or raises `Reject` naming the field and the reason. A
value a spreadsheet mangled is rejected, never repaired: a lost leading zero or digits lost to
scientific notation cannot be guessed back.
"""

import datetime as dt
import hashlib
import re
import uuid
from functools import cache

from django.conf import settings

from akun.roster import vocab


class Reject(Exception):
    def __init__(self, field: str, value: str, reason: str, length: int | None = None):
        super().__init__(reason)
        self.field = field
        self.value = value
        self.reason = reason
        self.length = length  # of the whole value, where `value` is only its start


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def shown(value: str, length: int | None = None, limit: int = 100) -> str:
    """A rejected value as the report shows it: its first `limit` characters, undecodable
    bytes (read as U+DC80..U+DCFF, see reader.py) and control characters as \\xNN."""
    length = len(value) if length is None else length
    head = value[:limit]
    if not head.isascii():
        head = head.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if _CONTROL.search(head):
        head = _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", head)
    if length > limit:
        head += f"… ({length:,} characters)"
    return head


PERSONAL_FIELDS = {"nik", "tanggal_lahir"}

_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")
_SPACES = re.compile(r"\s+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def clean(value: str) -> str:
    """Trim and fold runs of white space (including line breaks inside quoted fields)."""
    value = value.strip()
    if "  " in value or "\n" in value or "\r" in value or "\t" in value:
        value = _SPACES.sub(" ", value)
    return value


def digits(field: str, value: str, length: int, *, required: bool) -> str:
    value = value.strip()
    if not value:
        if required:
            raise Reject(field, value, f"{field} is empty; it is required")
        return ""
    if value.isdigit() and len(value) == length and value.isascii():
        return value
    if _SCIENTIFIC.match(value):
        raise Reject(
            field,
            value,
            f"{field} was turned into scientific notation by a spreadsheet ({value}); "
            "the digits are lost: export the column as text",
        )
    if value.isdigit() and len(value) < length:
        raise Reject(
            field,
            value,
            f"{field} must be {length} digits, got {len(value)} (a leading zero lost "
            "in a spreadsheet?)",
        )
    raise Reject(field, value, f"{field} must be exactly {length} digits")


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def uuid_hex(field: str, value: str) -> str:
    """The 32-hex-digit form of a UUID (fast path for the usual 8-4-4-4-12 spelling)."""
    if _UUID.fullmatch(value):
        return value.replace("-", "").lower()
    try:
        return uuid.UUID(value.strip()).hex
    except ValueError:
        if not value.strip():
            raise Reject(field, value, f"{field} is empty; it is required") from None
        raise Reject(field, value, f"{field} is not a valid Dapodik UUID") from None


class Memo(dict):
    """Remembers the parse of values that repeat (school IDs, birth dates); bounded."""

    def __init__(self, parse, limit=200_000):
        super().__init__()
        self.parse = parse
        self.limit = limit

    def __missing__(self, value):
        result = self.parse(value)  # a Reject propagates and is not remembered
        if len(self) >= self.limit:
            self.clear()
        self[value] = result
        return result


def date_iso(field: str, value: str, *, today: dt.date, min_age: int, max_age: int) -> str:
    """A real, plausible date as YYYY-MM-DD, from YYYY-MM-DD, DD/MM/YYYY or DD-MM-YYYY."""
    v = value.strip()
    try:
        if len(v) == 10 and v[4] == "-" and v[7] == "-":
            day = dt.date(int(v[:4]), int(v[5:7]), int(v[8:10]))
        elif len(v) == 10 and v[2] == v[5] and v[2] in "/-":
            day = dt.date(int(v[6:]), int(v[3:5]), int(v[:2]))
            v = day.isoformat()
        else:
            if not v:
                raise Reject(field, value, f"{field} is empty; it is required")
            raise Reject(field, value, f"{field} must be YYYY-MM-DD, DD/MM/YYYY or DD-MM-YYYY")
    except ValueError:
        raise Reject(field, value, f"{field} is not a real calendar date") from None
    age = today.year - day.year - ((today.month, today.day) < (day.month, day.day))
    if not min_age <= age <= max_age:
        raise Reject(
            field,
            value,
            f"{field} is not plausible: gives an age of {age}, expected {min_age} to {max_age}",
        )
    if v[0] != "1" and v[0] != "2":  # int() accepted something like "+014-03-09"
        raise Reject(field, value, f"{field} is not a real calendar date")
    return v


def text(field: str, value: str, *, max_length: int, required: bool) -> str:
    value = value.strip()  # clean(), inline: names are the one field unique to each row
    if "  " in value or "\n" in value or "\r" in value or "\t" in value:
        value = _SPACES.sub(" ", value)
    if not value:
        if required:
            raise Reject(field, value, f"{field} is empty; it is required")
        return ""
    if len(value) > max_length:
        raise Reject(field, value, f"{field} is longer than {max_length} characters")
    if "\ufffd" in value:
        raise Reject(field, value, f"{field} has characters that cannot be decoded")
    return value


def choice(field: str, value: str, allowed: dict[str, str]) -> str:
    """`allowed` maps the lower-cased, space-folded spelling to the stored value."""
    hit = allowed.get(value)
    if hit is not None:
        return hit
    key = clean(value).lower()
    try:
        return allowed[key]
    except KeyError:
        shown = ", ".join(sorted(set(allowed.values())))
        raise Reject(field, value, f"{field} must be one of: {shown}") from None


def flag(field: str, value: str) -> str:
    """ "1" or "0" (stored as a boolean; the string goes straight into COPY)."""
    v = value.strip().lower()
    if v in ("1", "ya", "true", "y"):
        return "1"
    if v in ("0", "tidak", "false", "n", ""):
        return "0"
    raise Reject(field, value, f"{field} must be 1 or 0")


_GRADES = {str(n): str(n) for n in range(1, 14)} | {f"0{n}": str(n) for n in range(1, 10)}


def grade(field: str, value: str) -> str:
    hit = _GRADES.get(value) or _GRADES.get(value.strip())
    if hit:
        return hit
    v = value.strip()
    if not v.isdigit():
        raise Reject(field, value, f"{field} must be a whole number from 1 to 13")
    raise Reject(field, value, f"{field} must be from 1 to 13, got {int(v)}")


def email(field: str, value: str) -> str:
    v = value.strip().lower()
    if not v:
        return ""
    if len(v) > 254 or not _EMAIL.match(v):
        raise Reject(field, value, f"{field} is not an e-mail address")
    return v


def phone(field: str, value: str) -> str:
    v = value.strip().replace(" ", "").replace("-", "")
    if not v:
        return ""
    if _SCIENTIFIC.match(v):
        raise Reject(field, value, f"{field} was turned into scientific notation by a spreadsheet")
    if v.startswith("+62"):
        v = "0" + v[3:]
    elif v.startswith("62"):
        v = "0" + v[2:]
    if not (v.isdigit() and v.startswith("08") and 10 <= len(v) <= 13):
        raise Reject(
            field, value, f"{field} must be an Indonesian mobile number (08…, 10-13 digits)"
        )
    return v


def kode_wilayah(field: str, value: str) -> str:
    v = digits(field, value, 6, required=True)
    if v[:2] not in vocab.PROVINSI:
        raise Reject(field, value, f"{field} starts with {v[:2]}, which is no province code")
    return v


@cache
def _nik_key() -> bytes:
    return hashlib.sha256(b"akun-nik-v1:" + settings.SECRET_KEY.encode()).digest()


@cache
def _nik_hasher():
    return hashlib.blake2b(key=_nik_key(), digest_size=16)


def nik_hash(nik: str) -> str:
    """Keyed hash of a NIK: enough to find a person by NIK, without storing the NIK."""
    h = _nik_hasher().copy()  # the key's block already hashed: ~40% faster per NIK
    h.update(nik.encode())
    return h.hexdigest()


def lookup(values) -> dict[str, str]:
    return {v.lower(): v for v in values}


SCHOOL_FORMS = lookup(vocab.SCHOOL_FORMS)
STATUS_SEKOLAH = vocab.STATUS_SEKOLAH
PROGRAMS = {
    **lookup(vocab.PROGRAMS),
    "paket a": "paket_a",
    "paket b": "paket_b",
    "paket c": "paket_c",
}
JENIS_KELAMIN = lookup(vocab.JENIS_KELAMIN)
JENIS_PTK = lookup(vocab.JENIS_PTK)
