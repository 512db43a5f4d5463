"""Checking and normalising one field of a roster row.

Each parser returns the value to store or raises `Reject` naming the field and the reason. A
value a spreadsheet mangled is rejected, never repaired: a lost leading zero or digits lost to
scientific notation cannot be guessed back.
"""

import datetime as dt
import hashlib
import hmac
import re
import uuid
from functools import cache

from django.conf import settings

from akun.roster import vocab


class Reject(Exception):
    def __init__(self, field: str, value: str, reason: str):
        super().__init__(reason)
        self.field = field
        self.value = value
        self.reason = reason


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


def uuid_hex(field: str, value: str) -> str:
    value = value.strip()
    try:
        return uuid.UUID(value).hex
    except ValueError:
        if not value:
            raise Reject(field, value, f"{field} is empty; it is required") from None
        raise Reject(field, value, f"{field} is not a valid Dapodik UUID") from None


def parse_date(field: str, value: str, *, today: dt.date, min_age: int, max_age: int) -> dt.date:
    value = value.strip()
    try:
        if len(value) == 10 and value[4] == "-" and value[7] == "-":
            day = dt.date(int(value[:4]), int(value[5:7]), int(value[8:10]))
        elif len(value) == 10 and value[2] == value[5] and value[2] in "/-":
            day = dt.date(int(value[6:]), int(value[3:5]), int(value[:2]))
        else:
            if not value:
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
    return day


def text(field: str, value: str, *, max_length: int, required: bool) -> str:
    value = clean(value)
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
    key = clean(value).lower()
    try:
        return allowed[key]
    except KeyError:
        shown = ", ".join(sorted(set(allowed.values())))
        raise Reject(field, value, f"{field} must be one of: {shown}") from None


def flag(field: str, value: str) -> bool:
    v = value.strip().lower()
    if v in ("1", "ya", "true", "y"):
        return True
    if v in ("0", "tidak", "false", "n", ""):
        return False
    raise Reject(field, value, f"{field} must be 1 or 0")


def grade(field: str, value: str) -> int:
    v = value.strip()
    if not v.isdigit():
        raise Reject(field, value, f"{field} must be a whole number from 1 to 13")
    n = int(v)
    if not 1 <= n <= 13:
        raise Reject(field, value, f"{field} must be from 1 to 13, got {n}")
    return n


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


def nik_hash(nik: str) -> str:
    """Keyed hash of a NIK: enough to find a person by NIK, without storing the NIK."""
    return hmac.new(_nik_key(), nik.encode(), hashlib.sha256).hexdigest()[:32]


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
