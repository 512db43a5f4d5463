"""Staging a big roster file in worker processes (PostgreSQL).

The import's own process reads the file as bytes and cuts it into chunks of whole records
(`plan_chunks`); worker processes check the rows of each chunk with the same code as the
one-process path and COPY the good ones into the staging table over their own connections (the
staging tables are scratch space outside the import's transaction); the import takes their
results back in file order, so the reject report, the counts, the line numbers and the progress
are those of the one-process path.

Where to cut: after a line break with an even number of quote characters since the last cut,
which is outside any quoted field in a well-formed file. A worker proves each cut: it reads a
sentinel line after its chunk, which comes back as a record of its own only if the chunk ended
between two records. A file whose stray quotes defeat the count (`Misaligned`) is staged again
in one process.
"""

import contextlib
import csv
import ctypes
import io
import multiprocessing
import os
import queue
import signal
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from akun.roster import reader as roster_reader
from akun.roster.reader import FileProblem, OpenedFile, UnclosedQuote

SENTINEL = "\x1eAKUNENDOFCHUNK\x1e"
_SENTINEL_LINE = (SENTINEL + "\n").encode("ascii")
# A chunk that finds no cut within this many times its size (a quoted field megabytes long,
# or stray quotes): the file is staged in one process instead of holding it in memory.
_MAX_GROWTH = 16


class Misaligned(Exception):
    """A chunk did not end between records: stage the file in one process."""


@dataclass(frozen=True)
class Job:
    """One file, as a worker needs it."""

    kind: str
    path: Path
    encoding: str
    delimiter: str
    columns: tuple[str, ...]  # the file's header
    table: str  # the staging table
    copy_columns: tuple[str, ...]
    max_field: int = roster_reader.MAX_FIELD_CHARS
    max_line: int = roster_reader.MAX_LINE_CHARS


@dataclass(frozen=True)
class Chunk:
    seq: int
    offset: int
    length: int
    lines_before: int  # physical lines before the chunk, header included
    last: bool


@dataclass
class ChunkResult:
    seq: int
    end: int  # byte offset after the chunk
    rows: int = 0
    rejected: int = 0
    rejects: list = field(default_factory=list)  # (line, field, value, reason, key or None)
    aligned: bool = True
    error: str | None = None  # the file cannot be read as CSV: the first error in the chunk


def chunk_encoding(opened: OpenedFile) -> str:
    # A chunk never starts at the file's BOM; a U+FEFF inside the file stays a character.
    return "utf-8" if opened.encoding == "utf-8-sig" else opened.encoding


def _text(data: bytes, encoding: str):
    # The same decoding and line splitting as reader.iter_records.
    return io.TextIOWrapper(
        io.BytesIO(data), encoding=encoding, errors=roster_reader.DECODE_ERRORS, newline=""
    )


def records_start(opened: OpenedFile) -> int | None:
    """Byte offset after the header, when the header is one line ended by \\n or \\r\\n and
    reads as one record; None otherwise (the file is then staged in one process)."""
    with opened.path.open("rb") as f:
        head = f.read(1 << 20)
    end = head.find(b"\n")
    if end < 1 or b"\r" in head[: end - 1]:
        return None
    reader = csv.reader(
        _text(head[: end + 1] + _SENTINEL_LINE, opened.encoding), delimiter=opened.delimiter
    )
    try:
        records = list(reader)
    except csv.Error:
        return None
    if len(records) != 2 or records[1] != [SENTINEL]:
        return None
    return end + 1


def _cut(block: bytes) -> int:
    """Length of the longest prefix of `block` ending in a line break outside quotes, or 0."""
    i = block.rfind(b"\n")
    if i < 0:
        return 0
    quotes = block.count(b'"', 0, i + 1)
    while quotes % 2:
        j = block.rfind(b"\n", 0, i)
        if j < 0:
            return 0
        quotes -= block.count(b'"', j + 1, i + 1)
        i = j
    return i + 1


def _lines(block: bytes, end: int) -> int:
    """Physical lines in block[:end] as the text reader splits them: \\n, \\r\\n or \\r."""
    n = block.count(b"\n", 0, end)
    if b"\r" in block:
        n += block.count(b"\r", 0, end) - block.count(b"\r\n", 0, end)
    return n


def plan_chunks(path: Path, start: int, chunk_bytes: int) -> Iterator[Chunk]:
    size = path.stat().st_size
    pos, lines, seq = start, 1, 0
    with path.open("rb") as f:
        while pos < size:
            want = chunk_bytes
            while True:
                f.seek(pos)
                block = f.read(want)
                if pos + len(block) >= size:
                    yield Chunk(seq, pos, size - pos, lines, True)
                    return
                cut = _cut(block)
                if cut:
                    break
                if want >= _MAX_GROWTH * chunk_bytes:
                    raise Misaligned(f"no record boundary found after byte {pos}")
                want *= 2
            yield Chunk(seq, pos, cut, lines, False)
            lines += _lines(block, cut)
            pos += cut
            seq += 1


# -- the workers ------------------------------------------------------------------------------


def _die_with_parent(parent: int) -> None:
    """A killed import must not leave workers writing: the kernel kills them with it."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)


def _stage_chunk(cursor, parsers, job: Job, chunk: Chunk, today) -> ChunkResult:
    from akun.roster.importing import specs, staging

    spec = specs.SPEC_BY_KIND[job.kind]
    if job.kind not in parsers:
        ix = {c: i for i, c in enumerate(job.columns)}
        parsers[job.kind] = (spec.make_parser(ix, today), [ix[k] for k in spec.key])
    parse, key_idx = parsers[job.kind]
    with job.path.open("rb") as f:
        f.seek(chunk.offset)
        data = f.read(chunk.length)
    if not chunk.last:
        data += _SENTINEL_LINE
    result = ChunkResult(chunk.seq, chunk.offset + chunk.length, aligned=chunk.last)
    records_read = roster_reader.read_records(
        _text(data, job.encoding),
        name=job.path.name,
        delimiter=job.delimiter,
        encoding=job.encoding,
        columns=job.columns,
        max_field=job.max_field,
        max_line=job.max_line,
        line_offset=chunk.lines_before,
    )

    def records():
        pending = None
        try:
            for record in records_read:
                if pending is not None:
                    yield pending
                pending = record
        except UnclosedQuote as e:
            if chunk.last:
                result.error = str(e)
            return  # else the chunk ended inside a quoted field: not aligned
        except FileProblem as e:
            result.error = str(e)
            return
        if pending is not None:
            if not chunk.last and pending[1] == [SENTINEL]:
                result.aligned = True
            else:
                yield pending

    def reject(line, fld, value, reason, key):
        result.rejects.append((line, fld, value, reason, key))

    with staging._PgCopy(cursor, job.table, job.copy_columns) as out:
        result.rows, result.rejected = staging.check_records(
            len(job.columns), parse, key_idx, records(), out.write, reject
        )
    return result


def _worker(tasks, results, conninfo: str, today, parent: int) -> None:
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the import's process handles ^C
    # A session of its own, as each PostgreSQL backend has: with the kernel's autogroup
    # scheduling, workers in the import's session would share one process's CPU time.
    with contextlib.suppress(OSError):
        os.setsid()
    import psycopg

    try:
        conn = psycopg.connect(
            conninfo, autocommit=True, application_name="akun roster import worker"
        )
        cursor = conn.cursor()
        parsers = {}
        while (task := tasks.get()) is not None:
            job, chunk = task
            results.put(_stage_chunk(cursor, parsers, job, chunk, today))
    except BaseException:
        results.put(("crash", traceback.format_exc()))


class Workers:
    """Worker processes (forked, so they share the loaded code and settings) and the chunks in
    flight. The database connection of the import is never used in a worker."""

    def __init__(self, n: int, conninfo: str, today):
        ctx = multiprocessing.get_context("fork")
        self.tasks = ctx.Queue()
        self.results = ctx.Queue()
        self.max_in_flight = 3 * n
        self.in_flight = 0
        sys.stdout.flush()  # nothing buffered in this process may be written twice
        sys.stderr.flush()
        self.procs = [
            ctx.Process(
                target=_worker,
                args=(self.tasks, self.results, conninfo, today, os.getpid()),
                daemon=True,
                name=f"akun-import-worker-{i}",
            )
            for i in range(n)
        ]
        for p in self.procs:
            p.start()

    def _get(self) -> ChunkResult:
        while True:
            try:
                r = self.results.get(timeout=1.0)
            except queue.Empty:
                dead = [p for p in self.procs if not p.is_alive()]
                if dead:
                    raise RuntimeError(
                        f"a roster import worker died (exit code {dead[0].exitcode})"
                    ) from None
                continue
            if isinstance(r, tuple):
                raise RuntimeError(f"a roster import worker failed:\n{r[1]}")
            self.in_flight -= 1
            return r

    def run(self, job: Job, chunks: Iterator[Chunk]) -> Iterator[ChunkResult]:
        """The results of every chunk, in file order, with a few chunks in flight."""
        waiting: dict[int, ChunkResult] = {}
        next_seq = 0
        more = True
        while True:
            while more and self.in_flight < self.max_in_flight:
                chunk = next(chunks, None)
                if chunk is None:
                    more = False
                    break
                self.tasks.put((job, chunk))
                self.in_flight += 1
            if not self.in_flight and not waiting:
                return
            r = self._get()
            waiting[r.seq] = r
            while next_seq in waiting:
                yield waiting.pop(next_seq)
                next_seq += 1

    def drain(self) -> None:
        """Wait for the chunks in flight (their rows are committed to the staging table)."""
        while self.in_flight:
            self._get()

    def close(self) -> None:
        for _ in self.procs:
            self.tasks.put(None)
        for p in self.procs:
            p.join(timeout=10)
        self.terminate()

    def terminate(self) -> None:
        for p in self.procs:
            if p.is_alive():
                p.kill()
                p.join()
        self.tasks.cancel_join_thread()
        self.results.cancel_join_thread()
