"""Reading the files and writing their good rows to staging tables (COPY on PostgreSQL; big
files in worker processes, see akun/roster/parallel.py), bad rows to the reject report."""

import contextlib
import logging
import sys
import time
from collections.abc import Callable

from django.db import connection

from akun.roster import fields as F
from akun.roster import parallel
from akun.roster.importing.result import ImportProblem
from akun.roster.importing.specs import SPECS
from akun.roster.reader import BadRecord, FileProblem, iter_records

log = logging.getLogger("akun.roster.import")

# Files larger than this many chunks are staged by worker processes on PostgreSQL.
PARALLEL_MIN_CHUNKS = 4


class Progress:
    """A bar on a terminal, a log line now and then otherwise."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last = 0.0

    def update(self, name, done_bytes, total_bytes, rows, final=False):
        now = time.monotonic()
        if not final and now - self.last < (0.2 if self.tty else 10):
            return
        self.last = now
        share = min(1.0, done_bytes / total_bytes) if total_bytes else 1.0
        if self.tty:
            bar = "#" * int(share * 30)
            self.stream.write(f"\r{name:<18} [{bar:<30}] {share:6.1%} {rows:>12,} rows")
            if final:
                self.stream.write("\n")
            self.stream.flush()
        else:
            log.info("%s: %s rows read (%.0f%%)", name, f"{rows:,}", share * 100)


_STAGING_NAME = r"^stg_(sekolah|peserta_didik|ptk)_[0-9]+$"


def pg_conninfo() -> str:
    """Connection string of the default database, for the scratch and worker connections."""
    from psycopg.conninfo import make_conninfo

    params = connection.get_connection_params()
    return make_conninfo(
        **{k: v for k, v in params.items() if isinstance(v, str | int) and k != "prepare_threshold"}
    )


class _Staging:
    """The tables of one import: staging tables written by COPY on PostgreSQL, keys to keep
    and rejects found in SQL."""

    def __init__(self, cursor, run_id):
        self.cursor = cursor
        self.pg = connection.vendor == "postgresql"
        self.names = {spec.kind: f"stg_{spec.kind}_{run_id}" for spec in SPECS}

    def create(self):
        tail = " ON COMMIT DROP" if self.pg else ""
        if self.pg:
            self._create_unlogged()
        for spec in SPECS:
            if not self.pg:
                cols = ", ".join(spec.columns)
                self.cursor.execute(
                    f"CREATE TEMP TABLE {self.names[spec.kind]} ({cols}, line integer)"
                )
            keys = ", ".join(f"{k} {spec.staging_type(k) if self.pg else ''}" for k in spec.key)
            self.cursor.execute(f"CREATE TEMP TABLE keep_{spec.kind} ({keys}){tail}")
        self.cursor.execute(
            "CREATE TEMP TABLE stg_reject (file text, line integer, field text, value text, "
            f"reason text){tail}"
        )

    def _create_unlogged(self):
        """PostgreSQL: unlogged, not temporary, so the checks can run as parallel queries
        (temporary tables are never scanned in parallel), and created and committed on a
        connection of their own, so that worker processes can COPY into them. Scratch space
        outside the import's transaction: the import drops them when it ends, and the next
        import drops those of a killed one (we hold the import lock: no other is running)."""
        import psycopg

        with psycopg.connect(pg_conninfo(), autocommit=True) as scratch:
            # Tables still locked (by a test's open transaction) are left for later.
            scratch.execute("SET lock_timeout = '200ms'")
            rows = scratch.execute(
                "SELECT t.tablename FROM pg_tables t WHERE t.schemaname = current_schema() "
                "AND t.tablename ~ %s AND NOT EXISTS (SELECT 1 FROM pg_locks l "
                "WHERE l.relation = format('%%I.%%I', t.schemaname, t.tablename)::regclass)",
                [_STAGING_NAME],
            ).fetchall()
            for (name,) in rows:
                with contextlib.suppress(psycopg.errors.LockNotAvailable):
                    scratch.execute(f"DROP TABLE IF EXISTS {name}")
            for spec in SPECS:
                cols = ", ".join(f"{c} {spec.staging_type(c)}" for c in spec.columns)
                scratch.execute(
                    f"CREATE UNLOGGED TABLE {self.names[spec.kind]} ({cols}, line integer)"
                )

    def drop_unlogged(self):
        """After a failed import (its transaction rolled back): drop the staging tables."""
        if not self.pg:
            return
        import psycopg

        with (
            contextlib.suppress(psycopg.Error),
            psycopg.connect(pg_conninfo(), autocommit=True) as scratch,
        ):
            scratch.execute("SET lock_timeout = '1s'")
            for name in self.names.values():
                with contextlib.suppress(psycopg.Error):
                    scratch.execute(f"DROP TABLE IF EXISTS {name}")

    def writer(self, spec):
        cols = [*spec.columns, "line"]
        if self.pg:
            return _PgCopy(self.cursor, self.names[spec.kind], cols)
        return _SqliteInsert(self.cursor, self.names[spec.kind], cols)


class _PgCopy:
    """COPY in text format, written in large chunks: parsing stays the only per-row cost."""

    def __init__(self, cursor, table, cols):
        self.ctx = cursor.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN")
        self.copy = self.ctx.__enter__()
        self.lines = []

    def write(self, row):
        line = "\t".join(row)
        if "\\" in line:
            line = "\t".join(v.replace("\\", "\\\\") for v in row)
        self.lines.append(line)
        if len(self.lines) >= 5000:
            self.flush()

    def flush(self):
        if self.lines:
            self.copy.write("\n".join(self.lines) + "\n")
            self.lines = []

    def close(self):
        self.flush()
        self.ctx.__exit__(None, None, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        """Ends the COPY; on an error, aborts it (left open, it hangs the rollback)."""
        if exc[0] is None:
            self.close()
        else:
            self.lines = []
            self.ctx.__exit__(*exc)


class _SqliteInsert:
    def __init__(self, cursor, table, cols):
        self.cursor = cursor
        self.sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        self.batch = []

    def write(self, row):
        self.batch.append(row)
        if len(self.batch) >= 10_000:
            self.flush()

    def flush(self):
        if self.batch:
            self.cursor.executemany(self.sql.replace("?", "%s"), self.batch)
            self.batch = []

    def close(self):
        self.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.close()


def check_records(width, parse, key_idx, records, write, reject, progress=None):
    """Check every field of each (line, cells) record: good rows go to `write`, bad ones to
    `reject(line, field, value, reason, key)`. Returns (rows, rejected). The one-process path
    and the worker processes both stage with this."""
    rows = rejected = 0
    for line, cells in records:
        rows += 1
        try:
            if len(cells) != width:
                if isinstance(cells, BadRecord):  # found by the reader (empty: never width)
                    raise F.Reject(cells.field, cells.value, cells.reason, cells.length)
                raise F.Reject(
                    "", "", f"expected {width} fields, found {len(cells)} (check quoting)"
                )
            values = parse(cells)
        except F.Reject as r:
            rejected += 1
            if r.field in F.PERSONAL_FIELDS:
                value = "(personal data, hidden)"
            else:
                value = F.shown(r.value, r.length)
            reject(line, r.field, value, r.reason, _key_of(getattr(cells, "cells", cells), key_idx))
            continue
        write((*values, str(line)))
        if progress is not None and not rows & 0xFFF:
            progress(rows)
    return rows, rejected


def _key_of(cells, key_idx):
    """The key of a rejected row, if it has one: its record is kept, not marked departed."""
    try:
        return tuple(F.uuid_hex("", cells[i]) for i in key_idx)
    except (F.Reject, IndexError):
        return None


class FileStaging:
    """RosterImport's first part: stage each file, count its rows and rejects."""

    pg: bool
    stg: dict[str, str]  # staging table of each kind
    progress: Progress
    workers: int
    chunk_bytes: int
    max_field_chars: int
    max_line_chars: int
    staged_in_workers: list[str]
    _pool: parallel.Workers | None
    fault_point: Callable[[str], None]

    def _stage_file(self, cursor, staging, spec, opened, today, report, result):
        counts = result.counts[spec.kind]
        ix = {c: i for i, c in enumerate(opened.columns)}
        parse = spec.make_parser(ix, today)
        key_idx = [ix[k] for k in spec.key]
        out = staging.writer(spec)
        keep = []
        progress_bytes = [0]

        def reject(line, fld, value, reason, key):
            report.writerow([spec.name, line, fld, value, reason])
            if key:
                keep.append(key)

        def progress(rows):
            self.progress.update(spec.name, progress_bytes[0], opened.size, rows)

        records = iter_records(
            opened, progress_bytes, max_field=self.max_field_chars, max_line=self.max_line_chars
        )
        with out:
            rows, rejected = check_records(
                len(opened.columns), parse, key_idx, records, out.write, reject, progress
            )
        self.progress.update(spec.name, progress_bytes[0], opened.size, rows, final=True)
        self._staged(cursor, spec, counts, rows, rejected, keep)

    def _stage_in_workers(self, cursor, staging, spec, opened, today, report, result, report_file):
        """Stage a big file in worker processes; False when it is staged in this one instead
        (small file, SQLite, one core, a header or quotes the chunking cannot cut safely)."""
        if not self.workers or opened.size <= PARALLEL_MIN_CHUNKS * self.chunk_bytes:
            return False
        start = parallel.records_start(opened)
        if start is None:
            return False
        if self._pool is None:
            self._pool = parallel.Workers(self.workers, pg_conninfo(), today)
        job = parallel.Job(
            kind=spec.kind,
            path=opened.path,
            encoding=parallel.chunk_encoding(opened),
            delimiter=opened.delimiter,
            columns=tuple(opened.columns),
            table=staging.names[spec.kind],
            copy_columns=(*spec.columns, "line"),
            max_field=self.max_field_chars,
            max_line=self.max_line_chars,
        )
        report_file.flush()
        report_mark = report_file.tell()
        rows = rejected = 0
        keep = []
        try:
            chunks = parallel.plan_chunks(opened.path, start, self.chunk_bytes)
            for r in self._pool.run(job, chunks):
                if r.error:
                    raise FileProblem(r.error)
                if not r.aligned:
                    raise parallel.Misaligned(f"chunk {r.seq} ended inside a record")
                rows += r.rows
                rejected += r.rejected
                for line, fld, value, reason, key in r.rejects:
                    report.writerow([spec.name, line, fld, value, reason])
                    if key:
                        keep.append(key)
                self.progress.update(spec.name, r.end, opened.size, rows)
                self.fault_point("during-parallel-staging")
        except parallel.Misaligned as e:
            # Stray quotes fooled the cutting: start the file again in this process.
            log.info("%s: staged in one process (%s)", spec.name, e)
            self._pool.drain()
            cursor.execute(f"TRUNCATE {staging.names[spec.kind]}")
            report_file.flush()
            report_file.seek(report_mark)
            report_file.truncate()
            return False
        except BaseException:
            self._pool.terminate()
            self._pool = None
            raise
        self.progress.update(spec.name, opened.size, opened.size, rows, final=True)
        self._staged(cursor, spec, result.counts[spec.kind], rows, rejected, keep)
        self.staged_in_workers.append(spec.name)
        return True

    def _staged(self, cursor, spec, counts, rows, rejected, keep):
        if not rows:
            raise ImportProblem(f"{spec.name}: the file has a header but no rows")
        if keep:
            placeholders = ", ".join(["%s"] * len(spec.key))
            cursor.executemany(f"INSERT INTO keep_{spec.kind} VALUES ({placeholders})", keep)
        counts.rows = rows
        counts.rejected = rejected

    def _after_staging(self, cursor, spec):
        stg = self.stg[spec.kind]
        if self.pg:
            # Statistics of the joined columns for the planner; hash joins need no index.
            cursor.execute(f"ANALYZE {stg} ({', '.join(spec.key)})")
        else:
            cursor.execute(f"CREATE INDEX {stg}_key ON {stg} ({', '.join(spec.key)})")
