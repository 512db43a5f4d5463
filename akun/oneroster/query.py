"""The REST API's query parameters (OneRoster 1.2, section 3 of the REST binding): `filter`,
`sort`/`orderBy`, `fields`, `limit`/`offset`, turned into SQL on the projection.

Paging is keyset underneath: rows come in (sort column, sourcedId) order, and the key of the
last row of each page served is remembered (here, in the process, and in the `cursor` of
the page's Link rel="next"), so the page at offset N+limit starts with an index seek after
that key instead of an OFFSET scan over N rows. An offset no page ended at (a client jumping
about) falls back to OFFSET: correct, only slower.
"""

import base64
import collections
import dataclasses
import datetime as dt
import hashlib
import json
import re
import threading
import time

from django.conf import settings
from django.db import connection
from django.utils.dateparse import parse_date, parse_datetime


class QueryError(ValueError):
    """A bad parameter: 400 with this imsx codeMinor."""

    def __init__(self, minor: str, description: str):
        super().__init__(description)
        self.minor = minor
        self.description = description


@dataclasses.dataclass(frozen=True)
class Field:
    column: str
    kind: str = "text"  # text | datetime | bool | grade


# --- filter ---------------------------------------------------------------------------------

_PREDICATE = re.compile(r"\s*([A-Za-z][A-Za-z0-9_.]*)\s*(!=|>=|<=|=|>|<|~)\s*'")
_LOGICAL = re.compile(r"\s+(AND|OR)\s+")
MAX_FILTER = 2000
MAX_PREDICATES = 20


def parse_filter(text: str) -> list[list[tuple[str, str, str]]]:
    """`a='x' AND b>'y' OR c~'z'` -> OR of ANDs of (field, op, value); AND binds tighter.
    A quote inside a value is written twice (`name='O''Neil'`)."""
    if len(text) > MAX_FILTER or "\x00" in text:
        raise QueryError("invalid_filter_field", "filter too long or not text")
    groups: list[list[tuple[str, str, str]]] = [[]]
    pos, count = 0, 0
    while True:
        m = _PREDICATE.match(text, pos)
        if not m:
            raise QueryError("invalid_filter_field", f"cannot read the filter at: {text[pos:]!r}")
        i = m.end()
        value = []
        while True:
            j = text.find("'", i)
            if j < 0:
                raise QueryError("invalid_filter_field", "a value's closing quote is missing")
            value.append(text[i:j])
            if text.startswith("''", j):
                value.append("'")
                i = j + 2
                continue
            pos = j + 1
            break
        count += 1
        if count > MAX_PREDICATES:
            raise QueryError("invalid_filter_field", "too many conditions")
        groups[-1].append((m.group(1), m.group(2), "".join(value)))
        if pos >= len(text.rstrip()):
            return groups
        m = _LOGICAL.match(text, pos)
        if not m:
            raise QueryError("invalid_filter_field", f"expected AND or OR at: {text[pos:]!r}")
        if m.group(1) == "OR":
            groups.append([])
        pos = m.end()


_SQL_OPS = {"=": "=", "!=": "<>", ">": ">", ">=": ">=", "<": "<", "<=": "<="}


def _value(field: Field, name: str, raw: str):
    if field.kind == "datetime":
        parsed = parse_datetime(raw)
        if parsed is None:
            day = parse_date(raw)
            if day is None:
                raise QueryError("invalid_filter_field", f"{name}: not a date-time: {raw!r}")
            parsed = dt.datetime(day.year, day.month, day.day)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return connection.ops.adapt_datetimefield_value(parsed)
    if field.kind == "bool":
        if raw not in ("true", "false"):
            raise QueryError("invalid_filter_field", f"{name}: 'true' or 'false'")
        return raw == "true"
    if field.kind == "grade":
        if not raw.isdigit() or len(raw) > 2:
            raise QueryError("invalid_filter_field", f"{name}: a grade such as '05'")
        return int(raw)
    return raw


def filter_sql(text: str, fields: dict[str, Field], params: dict) -> str:
    ors = []
    for g, group in enumerate(parse_filter(text)):
        ands = []
        for n, (name, op, raw) in enumerate(group):
            field = fields.get(name)
            if field is None:
                raise QueryError("invalid_filter_field", f"cannot filter on {name!r}")
            key = f"f{g}_{n}"
            if op == "~":
                if field.kind != "text":
                    raise QueryError("invalid_filter_field", f"{name}: ~ is for text fields")
                escaped = raw.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                params[key] = f"%{escaped.upper()}%"
                ands.append(f"UPPER({field.column}) LIKE %({key})s ESCAPE '\\'")
                continue
            params[key] = _value(field, name, raw)
            ands.append(f"{field.column} {_SQL_OPS[op]} %({key})s")
        ors.append("(" + " AND ".join(ands) + ")")
    return "(" + " OR ".join(ors) + ")"


# --- paging -----------------------------------------------------------------------------------


def whole(request, name: str, default: int, minimum: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or len(raw) > 9 or int(raw) < minimum:
        raise QueryError("invaliddata", f"{name} must be a whole number >= {minimum}")
    return int(raw)


class _Keys:
    """(query signature, offset) -> the key after which that offset's page starts; a bounded
    LRU per process."""

    def __init__(self, size: int = 20_000):
        self.size = size
        self.data: collections.OrderedDict = collections.OrderedDict()
        self.lock = threading.Lock()

    def get(self, sig: str, offset: int):
        with self.lock:
            key = self.data.get((sig, offset))
            if key is not None:
                self.data.move_to_end((sig, offset))
            return key

    def put(self, sig: str, offset: int, key) -> None:
        with self.lock:
            self.data[(sig, offset)] = key
            self.data.move_to_end((sig, offset))
            while len(self.data) > self.size:
                self.data.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.data.clear()


KEYS = _Keys()
_counts: dict[str, tuple[float, int]] = {}
_counts_lock = threading.Lock()


def cached_count(sig: str, count) -> int:
    now = time.monotonic()
    with _counts_lock:
        hit = _counts.get(sig)
    if hit is not None and now - hit[0] < settings.AKUN_ONEROSTER_COUNT_SECONDS:
        return hit[1]
    n = count()
    with _counts_lock:
        if len(_counts) > 10_000:
            _counts.clear()
        _counts[sig] = (now, n)
    return n


def forget() -> None:
    KEYS.clear()
    with _counts_lock:
        _counts.clear()


def signature(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]


def encode_cursor(offset: int, key) -> str:
    raw = json.dumps([offset, key], default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, offset: int):
    """The key in a cursor made for this offset; None when it is not one (then OFFSET)."""
    if not text or len(text) > 600:
        return None
    try:
        got_offset, key = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, TypeError):
        return None
    if got_offset != offset or not isinstance(key, list) or len(key) != 2:
        return None
    if not all(isinstance(k, str | int) and not isinstance(k, bool) for k in key):
        return None
    return key
