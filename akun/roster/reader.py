"""Tolerant reading of a Dapodik CSV export.

Real files come from spreadsheets: a BOM, `;` or `,`, UTF-8 or Windows-1252, quoted fields with
line breaks, headers in odd capitals. The reader detects all of that, checks the header, and
yields each record with the physical line it starts on (header = line 1).

Hostile files too: a line longer than `max_line` characters is never held whole (the rest is
read in pieces and dropped), and a record with a field longer than `max_field`, a NUL, or bytes
the file's encoding cannot decode comes back as a `BadRecord`, a rejected row naming its field.
"""

import codecs
import csv
import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_FIELD_CHARS = 10_000  # a longer field is a rejected row
MAX_LINE_CHARS = 1 << 20  # a longer line (or record) is a rejected row, never read whole

# Bytes the decoding could not read come back as U+DC80..U+DCFF (errors="surrogateescape").
DECODE_ERRORS = "surrogateescape"
_UNDECODED = re.compile("[\udc80-\udcff]+")
_SUSPECT = re.compile("[\x00\udc80-\udcff]")
# Takes the place of a line too long to read: one field, plus a delimiter and a quote when the
# line had an odd number of quotes, so that the CSV reader ends the line in or out of a quoted
# field as it would have (the count that places the parallel cuts, parallel.py).
_TOO_LONG = "\x1eAKUNLINETOOLONG\x1e"


class FileProblem(Exception):
    """A problem with a whole file: nothing of the snapshot may be applied."""


class UnclosedQuote(FileProblem):
    """A quoted field runs on to the end of the file (or of a parallel chunk)."""


class BadRecord(list):
    """A record rejected while reading. Empty, so it never has a file's width: the width check
    of the field checks is where it is reported, at no cost to good rows."""

    def __init__(self, field: str, value: str, reason: str, cells=(), length=None):
        super().__init__()
        self.field, self.value, self.reason = field, value, reason
        self.cells = list(cells)  # what could be read of the row: its key keeps its record
        self.length = length  # of the whole value, where only its start was kept


@dataclass
class OpenedFile:
    path: Path
    encoding: str
    delimiter: str
    columns: list[str]  # normalised header names, in file order
    size: int


def normalise_header(name: str) -> str:
    return name.strip().strip("\ufeff").strip().lower().replace(" ", "_").replace("-", "_")


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) or Windows-1252. A file that is not all valid UTF-8 is still
    read as UTF-8 when it has a BOM or when its valid multi-byte characters outnumber its runs
    of undecodable bytes: one bad byte in a UTF-8 file is a rejected row, not a file of
    mojibake. A Windows-1252 file (é, ’ as single bytes) has almost no valid UTF-8 sequences."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as f:
        bom = f.read(3) == codecs.BOM_UTF8
        f.seek(0)
        try:
            while chunk := f.read(1 << 22):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8-sig" if bom else "utf-8"
        except UnicodeDecodeError:
            if bom:
                return "utf-8-sig"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")(DECODE_ERRORS)
        valid = invalid = 0
        while (chunk := f.read(1 << 22)) and max(valid, invalid) < 10_000:
            text = decoder.decode(chunk)
            if text.isascii():
                continue
            runs = _UNDECODED.findall(text)
            invalid += len(runs)  # runs of bad bytes, as valid characters count one each
            valid += len(text) - len(text.encode("ascii", "ignore")) - sum(map(len, runs))
    return "utf-8" if valid > invalid else "cp1252"


def detect_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", ",", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def open_export(path: Path, required: list[str]) -> OpenedFile:
    if not path.exists():
        raise FileProblem(f"{path.name}: file not found in {path.parent}")
    size = path.stat().st_size
    if size == 0:
        raise FileProblem(f"{path.name}: the file is empty")
    encoding = detect_encoding(path)
    with path.open(encoding=encoding, errors="replace", newline="") as f:
        header_line = f.readline(MAX_LINE_CHARS)
    if not header_line.strip():
        raise FileProblem(f"{path.name}: the first line (the header) is empty")
    delimiter = detect_delimiter(header_line)
    columns = [normalise_header(c) for c in next(csv.reader([header_line], delimiter=delimiter))]
    missing = [c for c in required if c not in columns]
    if missing:
        unknown = [c for c in columns if c not in required]
        hints = []
        for col in missing:
            close = difflib.get_close_matches(col, unknown, n=1, cutoff=0.6)
            hints.append(f"'{col}'" + (f" (is '{close[0]}' a misspelling?)" if close else ""))
        raise FileProblem(
            f"{path.name}: missing column {', '.join(hints)}; the header has: {', '.join(columns)}"
        )
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise FileProblem(f"{path.name}: column {', '.join(dupes)} appears twice in the header")
    return OpenedFile(path, encoding, delimiter, columns, size)


def iter_records(
    opened: OpenedFile,
    counter: list | None = None,
    *,
    max_field: int = MAX_FIELD_CHARS,
    max_line: int = MAX_LINE_CHARS,
) -> Iterator[tuple[int, list[str]]]:
    """Yield (line where the record starts, cells) for every non-blank record after the header.

    `counter`, if given, is a one-item list updated now and then with the bytes read so far.
    """
    with opened.path.open(
        encoding=opened.encoding, errors=DECODE_ERRORS, newline="", buffering=1 << 20
    ) as text:
        records = read_records(
            text,
            name=opened.path.name,
            delimiter=opened.delimiter,
            encoding=opened.encoding,
            columns=opened.columns,
            max_field=max_field,
            max_line=max_line,
            counter=counter,
        )
        next(records, None)  # header, already checked
        yield from records
        if counter is not None:
            counter[0] = opened.size


class _Lines:
    """The physical lines of a text stream, as csv.reader takes them, none longer than
    `max_line`. Notes the lines that may hold a bad field: longer than `max_field`, with a NUL
    or undecodable bytes (one cheap test per line; the fields are looked at only then)."""

    def __init__(self, text, delimiter: str, max_field: int, max_line: int, line_offset: int):
        self.text = text
        self.line_offset = line_offset
        self.delimiter = delimiter
        self.max_field = max_field
        self.max_line = max_line
        self.suspects: list[int] = []  # line numbers in the file
        self.too_long: dict[int, tuple[str, int]] = {}  # line -> (its start, its length)

    def __iter__(self):
        readline = self.text.readline
        max_field, max_line = self.max_field, self.max_line
        suspects = self.suspects
        suspect = _SUSPECT.search
        n = self.line_offset
        while line := readline(max_line):
            n += 1
            if len(line) > max_field or "\x00" in line or (not line.isascii() and suspect(line)):
                suspects.append(n)
                if len(line) == max_line and line[-1] not in "\r\n":
                    line = self._skip_rest(n, line, readline)
            yield line

    def _skip_rest(self, n: int, start: str, readline) -> str:
        length, quotes = len(start), start.count('"')
        while piece := readline(self.max_line):
            length += len(piece)
            quotes += piece.count('"')
            if len(piece) < self.max_line or piece[-1] in "\r\n":
                break
        self.too_long[n] = (start, length)
        return _TOO_LONG + (self.delimiter + '"' if quotes % 2 else "") + "\n"

    def check(self, cells: list[str], start: int, end: int, columns, encoding: str) -> list:
        """The record on lines start..end as it is, or as a BadRecord."""
        too_long, self.too_long = self.too_long, {}
        self.suspects.clear()
        for line, (text, length) in sorted(too_long.items()):
            reason = f"line {line} is longer than {self.max_line:,} characters; it was not read"
            index = next((i for i, c in enumerate(cells) if _TOO_LONG in c), len(cells))
            if line == start:  # it starts the record: its fields are those of its start
                head = next(csv.reader([text.rstrip("\r\n")], delimiter=self.delimiter), [])
                index = next((i for i, c in enumerate(head) if len(c) > self.max_field), -1)
                cells, value = head, head[index] if index >= 0 else text
            else:
                value = cells[index].split(_TOO_LONG)[0] if index < len(cells) else ""
            return BadRecord(_column(columns, index), value, reason, cells, length)
        for i, c in enumerate(cells):
            name = _column(columns, i)
            if len(c) > self.max_field:
                reason = f"{name} is longer than {self.max_field:,} characters"
            elif "\x00" in c:
                reason = f"{name} has a NUL character (\\x00)"
            elif not c.isascii() and (bad := _UNDECODED.search(c)):
                reason = f"{name} {_undecodable(bad[0], encoding)}"
            else:
                continue
            return BadRecord(name, c, reason, cells)
        return cells


def _column(columns, index: int) -> str:
    if index < 0:
        return ""
    return columns[index] if index < len(columns) else f"field {index + 1}"


def _undecodable(chars: str, encoding: str) -> str:
    raw = chars.encode("utf-8", DECODE_ERRORS)
    shown = "".join(f"\\x{b:02x}" for b in raw[:12])
    if encoding == "cp1252":
        return f"has a byte that Windows-1252 does not define ({shown})"
    if raw[0] == 0xED and len(raw) > 1 and raw[1] >= 0xA0:
        return f"has an encoded surrogate ({shown}), which is not valid UTF-8"
    return (
        f"has bytes that are not valid UTF-8 ({shown}); the rest of the file is UTF-8, so "
        "the file is read as UTF-8, not as Windows-1252, and this row is rejected"
    )


def _ends_in_quotes(line: str, delimiter: str) -> bool:
    """Starting inside a quoted field, does `line` end inside one still?"""
    rows = list(csv.reader(['"' + line, _TOO_LONG + "\n"], delimiter=delimiter))
    return rows[-1:] != [[_TOO_LONG]]


def read_records(
    text,
    *,
    name: str,
    delimiter: str,
    encoding: str,
    columns,
    max_field: int = MAX_FIELD_CHARS,
    max_line: int = MAX_LINE_CHARS,
    line_offset: int = 0,
    counter: list | None = None,
) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, cells) for every non-blank record of a text stream
    (decoded with errors=DECODE_ERRORS) whose first line is line `line_offset + 1` of the
    file. A record that cannot be taken as it is comes as a BadRecord; a quoted field longer
    than `max_line` over many lines is one (its field cannot be told) and reading goes on
    after it. `counter`, if given, is a one-item list updated now and then with the bytes read
    so far."""
    csv.field_size_limit(max_line + 64)  # a field on one line is shorter: see _Lines
    max_field = min(max_field, max_line - 1)  # a line over max_line is over max_field too
    lines = _Lines(text, delimiter, max_field, max_line, line_offset)
    source = iter(lines)
    reader = csv.reader(source, delimiter=delimiter)
    suspects = lines.suspects
    skipped = line_offset  # lines that the CSV reader did not count
    end = line_offset
    n = 0
    while True:
        try:
            for cells in reader:
                start = end + 1
                end = reader.line_num + skipped
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    suspects.clear()
                    continue
                if suspects or end != start:
                    cells = lines.check(cells, start, end, columns, encoding)
                yield start, cells
                n += 1
                if counter is not None and not n & 0x3FFF:
                    counter[0] = text.buffer.tell()
            return
        except csv.Error as e:
            if "field larger than field limit" not in str(e):
                raise FileProblem(
                    f"{name}: line {reader.line_num + skipped}: the file cannot be read as CSV "
                    f"({e})"
                ) from e
        # A quoted field over many lines, too long: skip to where it ends.
        start = end + 1
        line = source.gi_frame.f_locals["line"]  # the line the CSV reader stopped in
        while _ends_in_quotes(line, delimiter):
            line = next(source, None)
            if line is None:
                raise UnclosedQuote(
                    f"{name}: line {start}: a quoted field opens in this record and never "
                    "closes (the rest of the file would be one field)"
                )
            skipped += 1
        end = reader.line_num + skipped
        suspects.clear()
        lines.too_long.clear()
        yield (
            start,
            BadRecord(
                "",
                "",
                f"the record on lines {start} to {end} is longer than {max_line:,} characters "
                "(a quoted field that runs on over many lines)",
            ),
        )
