"""Tolerant reading of a Dapodik CSV export.

Real files come from spreadsheets: a BOM, `;` or `,`, UTF-8 or Windows-1252, quoted fields with
line breaks, headers in odd capitals. The reader detects all of that, checks the header, and
yields each record with the physical line it starts on (header = line 1).
"""

import codecs
import csv
import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

csv.field_size_limit(1 << 20)


class FileProblem(Exception):
    """A problem with a whole file: nothing of the snapshot may be applied."""


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
    """UTF-8 (with or without BOM) when the whole file decodes as UTF-8, else Windows-1252."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as f:
        head = f.read(3)
        bom = head == codecs.BOM_UTF8
        f.seek(0)
        try:
            while chunk := f.read(1 << 22):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8-sig" if bom else "utf-8"


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
        header_line = f.readline()
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
    opened: OpenedFile, counter: list | None = None
) -> Iterator[tuple[int, list[str]]]:
    """Yield (line where the record starts, cells) for every non-blank record after the header.

    `counter`, if given, is a one-item list updated now and then with the bytes read so far.
    """
    with opened.path.open(
        encoding=opened.encoding, errors="replace", newline="", buffering=1 << 20
    ) as text:
        reader = csv.reader(text, delimiter=opened.delimiter)
        try:
            next(reader, None)  # header, already checked
            previous_end = reader.line_num
            n = 0
            for cells in reader:
                start = previous_end + 1
                previous_end = reader.line_num
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue
                yield start, cells
                n += 1
                if counter is not None and not n & 0x3FFF:
                    counter[0] = text.buffer.tell()
        except csv.Error as e:
            raise FileProblem(
                f"{opened.path.name}: line {reader.line_num}: the file cannot be read as CSV ({e})"
            ) from e
        if counter is not None:
            counter[0] = opened.size
