"""`akun roster import DIR`: apply a Dapodik snapshot to the roster, set-based and atomic.

1. Check the three files (present, readable, every column there) before touching anything.
2. Stream each file: check every field in Python, write good rows to a staging table (COPY on
   PostgreSQL; big files in two worker processes, see parallel.py), bad rows to the reject
   report.
3. In SQL: reject duplicate keys, NISN/NPSN shared by two records, unknown school references.
4. Compare staging with the roster by a hash of each row: added, changed, unchanged, departed.
   A record whose row was rejected is kept as it is, never marked departed.
5. Safety stop: too many departures platform-wide or in one province -> nothing applied.
6. Apply in the same transaction; a killed process leaves the previous roster.
"""

import contextlib
import csv
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction

from akun.audit import api as audit
from akun.audit.api import Action
from akun.core import clock
from akun.roster import fields as F
from akun.roster import parallel, vocab
from akun.roster.models import ImportRun, PesertaDidik, Ptk, Sekolah
from akun.roster.reader import (
    MAX_FIELD_CHARS,
    MAX_LINE_CHARS,
    BadRecord,
    FileProblem,
    iter_records,
    open_export,
)
from akun.roster.signals import roster_imported

log = logging.getLogger("akun.roster.import")


@dataclass
class FileSpec:
    name: str
    kind: str
    model: type
    key: list[str]  # columns identifying a record
    columns: list[str]  # stored columns in staging order (key columns included)
    required: list[str]  # header columns the file must have
    make_parser: Callable  # (column index, today) -> parse(cells) -> tuple

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def staging_type(self, column: str) -> str:
        """The PostgreSQL staging type of a column: the model field's, but text for text
        (no length check to pay for: the parser has checked it)."""
        meta = self.model._meta
        field = next(f for f in meta.concrete_fields if column in (f.name, f.attname))
        if field.get_internal_type() in ("CharField", "TextField"):
            return "text"
        return field.db_type(connection)


def _sekolah_parser(ix, today):
    i_id, i_npsn, i_nama, i_bentuk, i_status, i_kw, i_kab, i_prov = (
        ix[c]
        for c in (
            "sekolah_id",
            "npsn",
            "nama",
            "bentuk_pendidikan",
            "status_sekolah",
            "kode_wilayah",
            "kabupaten_kota",
            "provinsi",
        )
    )

    def parse(c):
        return (
            F.uuid_hex("sekolah_id", c[i_id]),
            F.digits("npsn", c[i_npsn], 8, required=True),
            F.text("nama", c[i_nama], max_length=200, required=True),
            F.choice("bentuk_pendidikan", c[i_bentuk], F.SCHOOL_FORMS),
            F.choice("status_sekolah", c[i_status], F.STATUS_SEKOLAH),
            F.kode_wilayah("kode_wilayah", c[i_kw]),
            F.text("kabupaten_kota", c[i_kab], max_length=100, required=True),
            F.text("provinsi", c[i_prov], max_length=100, required=True),
        )

    return parse


def _peserta_didik_parser(ix, today):
    g = ix.__getitem__
    i_id, i_nisn, i_nik, i_nama, i_jk, i_tl, i_tgl, i_sek, i_tingkat, i_prog, i_rombel = map(
        g,
        (
            "peserta_didik_id",
            "nisn",
            "nik",
            "nama",
            "jenis_kelamin",
            "tempat_lahir",
            "tanggal_lahir",
            "sekolah_id",
            "tingkat_pendidikan",
            "program",
            "rombel",
        ),
    )

    # Paket programmes take adults too.
    birth = F.Memo(lambda v: F.date_iso("tanggal_lahir", v, today=today, min_age=4, max_age=80))
    school = F.Memo(lambda v: F.uuid_hex("sekolah_id", v))
    rombel = F.Memo(lambda v: F.text("rombel", v, max_length=50, required=False))

    place = F.Memo(lambda v: F.text("tempat_lahir", v, max_length=100, required=False))
    sex = F.Memo(lambda v: F.choice("jenis_kelamin", v, F.JENIS_KELAMIN))
    grade = F.Memo(lambda v: F.grade("tingkat_pendidikan", v))
    program = F.Memo(lambda v: F.choice("program", v, F.PROGRAMS))
    nik_hash = F.nik_hash

    # 89% of a national snapshot's rows: the usual value of a field is accepted inline, anything
    # else goes through the field's parser, in the same order, so the same first reject wins.
    def parse(c):
        nik = c[i_nik]
        if len(nik) == 16 and nik.isdigit() and nik.isascii():
            nik = nik_hash(nik)
        else:
            nik = F.digits("nik", nik, 16, required=False)
            nik = nik_hash(nik) if nik else ""
        place[c[i_tl]]  # checked, not stored: no account needs the place of birth
        key = F.uuid_hex("peserta_didik_id", c[i_id])
        nisn = c[i_nisn]
        if not (len(nisn) == 10 and nisn.isdigit() and nisn.isascii()):
            nisn = F.digits("nisn", nisn, 10, required=False)
        return (
            key,
            nisn,
            nik,
            F.text("nama", c[i_nama], max_length=150, required=True),
            sex[c[i_jk]],
            birth[c[i_tgl]],
            school[c[i_sek]],
            grade[c[i_tingkat]],
            program[c[i_prog]],
            rombel[c[i_rombel]],
        )

    return parse


def _ptk_parser(ix, today):
    g = ix.__getitem__
    (i_id, i_sek, i_nuptk, i_nip, i_nik, i_nama, i_gd, i_gb, i_jk, i_tgl, i_email, i_hp) = map(
        g,
        (
            "ptk_id",
            "sekolah_id",
            "nuptk",
            "nip",
            "nik",
            "nama",
            "gelar_depan",
            "gelar_belakang",
            "jenis_kelamin",
            "tanggal_lahir",
            "email",
            "no_hp",
        ),
    )
    i_jenis, i_induk, i_op = map(g, ("jenis_ptk", "ptk_induk", "operator_sekolah"))

    school = F.Memo(lambda v: F.uuid_hex("sekolah_id", v))
    birth = F.Memo(lambda v: F.date_iso("tanggal_lahir", v, today=today, min_age=16, max_age=90))

    # Values that repeat (titles, kinds, flags) are parsed once; see the student parser.
    title_front = F.Memo(lambda v: F.text("gelar_depan", v, max_length=50, required=False))
    title_back = F.Memo(lambda v: F.text("gelar_belakang", v, max_length=80, required=False))
    sex = F.Memo(lambda v: F.choice("jenis_kelamin", v, F.JENIS_KELAMIN))
    kind = F.Memo(lambda v: F.choice("jenis_ptk", v, F.JENIS_PTK))
    main_school = F.Memo(lambda v: F.flag("ptk_induk", v))
    operator = F.Memo(lambda v: F.flag("operator_sekolah", v))

    def parse(c):
        nik = F.digits("nik", c[i_nik], 16, required=True)
        return (
            F.uuid_hex("ptk_id", c[i_id]),
            school[c[i_sek]],
            F.digits("nuptk", c[i_nuptk], 16, required=False),
            F.digits("nip", c[i_nip], 18, required=False),
            F.nik_hash(nik),
            F.text("nama", c[i_nama], max_length=150, required=True),
            title_front[c[i_gd]],
            title_back[c[i_gb]],
            sex[c[i_jk]],
            birth[c[i_tgl]],
            F.email("email", c[i_email]),
            F.phone("no_hp", c[i_hp]),
            kind[c[i_jenis]],
            main_school[c[i_induk]],
            operator[c[i_op]],
        )

    return parse


SEKOLAH = FileSpec(
    name="sekolah.csv",
    kind="sekolah",
    model=Sekolah,
    key=["sekolah_id"],
    columns=list(vocab.SEKOLAH_COLUMNS),  # every column of sekolah.csv is stored as it is
    required=list(vocab.SEKOLAH_COLUMNS),
    make_parser=_sekolah_parser,
)
PESERTA_DIDIK = FileSpec(
    name="peserta_didik.csv",
    kind="peserta_didik",
    model=PesertaDidik,
    key=["peserta_didik_id"],
    columns=[
        "peserta_didik_id",
        "nisn",
        "nik_hash",
        "nama",
        "jenis_kelamin",
        "tanggal_lahir",
        "sekolah_id",
        "tingkat_pendidikan",
        "program",
        "rombel",
    ],
    required=list(vocab.PESERTA_DIDIK_COLUMNS),
    make_parser=_peserta_didik_parser,
)
PTK = FileSpec(
    name="ptk.csv",
    kind="ptk",
    model=Ptk,
    key=["ptk_id", "sekolah_id"],
    columns=[
        "ptk_id",
        "sekolah_id",
        "nuptk",
        "nip",
        "nik_hash",
        "nama",
        "gelar_depan",
        "gelar_belakang",
        "jenis_kelamin",
        "tanggal_lahir",
        "email",
        "no_hp",
        "jenis_ptk",
        "ptk_induk",
        "operator_sekolah",
    ],
    required=list(vocab.PTK_COLUMNS),
    make_parser=_ptk_parser,
)
SPECS = [SEKOLAH, PESERTA_DIDIK, PTK]
SPEC_BY_KIND = {spec.kind: spec for spec in SPECS}

# Files larger than this many chunks are staged by worker processes on PostgreSQL.
PARALLEL_MIN_CHUNKS = 4


class ImportProblem(Exception):
    """The snapshot as a whole cannot be applied; the roster is unchanged."""

    exit_code = 2


class SafetyStop(ImportProblem):
    exit_code = 3


@dataclass
class FileCounts:
    rows: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    departed: int = 0
    rejected: int = 0

    def as_dict(self):
        return dict(self.__dict__)


@dataclass
class ImportResult:
    run: ImportRun
    counts: dict[str, FileCounts] = field(default_factory=dict)
    status: str = ""
    report_path: Path | None = None
    message: str = ""

    @property
    def total_rejected(self) -> int:
        return sum(c.rejected for c in self.counts.values())


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


class _Phases:
    def __init__(self):
        self.t = time.monotonic()

    def done(self, what):
        now = time.monotonic()
        log.info("%s in %.2f s", what, now - self.t)
        self.t = now


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


class RosterImport:
    def __init__(
        self,
        directory: Path,
        *,
        actor: str,
        allow_mass_departure: bool = False,
        max_departure_share: float | None = None,
        region: str = "",
        report_path: Path | None = None,
        progress: Progress | None = None,
        workers: int | None = None,
        chunk_bytes: int | None = None,
        max_field_chars: int = MAX_FIELD_CHARS,
        max_line_chars: int = MAX_LINE_CHARS,
        fault_point: Callable[[str], None] | None = None,
    ):
        self.directory = Path(directory)
        self.actor = actor
        self.allow_mass_departure = allow_mass_departure
        self.max_share = (
            settings.AKUN_MAX_DEPARTURE_SHARE
            if max_departure_share is None
            else max_departure_share
        )
        self.region = region.strip()
        if self.region and not (self.region.isdigit() and len(self.region) in (2, 4, 6)):
            raise ImportProblem(
                "--region must be a province (2), regency (4) or kecamatan (6) code"
            )
        self.report_path = report_path
        self.progress = progress or Progress()
        self.pg = connection.vendor == "postgresql"
        self._on_commit_drop = " ON COMMIT DROP" if self.pg else ""
        # Worker processes for big files (PostgreSQL only): two where there are two cores.
        # AKUN_IMPORT_WORKERS=0 stages in one process; AKUN_IMPORT_CHUNK_BYTES sets the size
        # of the chunks handed to them (files above 4 chunks go to the workers).
        if workers is None:
            default = 2 if (os.cpu_count() or 1) >= 2 else 0
            workers = int(os.environ.get("AKUN_IMPORT_WORKERS", default))
        self.workers = workers if self.pg and workers >= 2 else 0
        self.chunk_bytes = chunk_bytes or int(os.environ.get("AKUN_IMPORT_CHUNK_BYTES", 1 << 20))
        self._pool = None
        self.staged_in_workers: list[str] = []  # the files that went to the workers
        # A load of at least this many new rows that also doubles the table is a bulk load.
        self.bulk_min_rows = int(os.environ.get("AKUN_IMPORT_BULK_MIN_ROWS", 100_000))
        # A longer field, or line, is a rejected row (a line that long is never read whole).
        self.max_field_chars = max_field_chars
        self.max_line_chars = max_line_chars
        # Called at named points of the import (tests kill the process there).
        self.fault_point = fault_point or (lambda point: None)

    # -- the whole import ------------------------------------------------------------------

    def run(self) -> ImportResult:
        opened = {}
        for spec in SPECS:
            try:
                opened[spec.kind] = open_export(self.directory / spec.name, spec.required)
            except FileProblem as e:
                raise ImportProblem(str(e)) from e

        run = ImportRun.objects.create(
            started_at=clock.now(), source=str(self.directory.resolve()), actor=self.actor
        )
        result = ImportResult(run=run, counts={s.kind: FileCounts() for s in SPECS})
        report_path = self.report_path or (
            settings.VAR_DIR / "reports" / f"roster-import-{run.pk}-rejects.csv"
        )
        report_path.parent.mkdir(parents=True, exist_ok=True)
        self._report_path = report_path
        self._staging = None
        try:
            with report_path.open("w", newline="", encoding="utf-8") as report_file:
                report = csv.writer(report_file)
                report.writerow(["file", "line", "field", "value", "reason"])
                with transaction.atomic(), connection.cursor() as cursor:
                    self._apply(cursor, run, opened, report_file, report, result)
        except (ImportProblem, Exception) as e:
            if self._staging:
                self._staging.drop_unlogged()
            status = (
                ImportRun.Status.STOPPED if isinstance(e, SafetyStop) else ImportRun.Status.FAILED
            )
            ImportRun.objects.filter(pk=run.pk).update(
                status=status,
                finished_at=clock.now(),
                summary={"error": str(e), **self._summary(result)},
                report_path=str(report_path),
            )
            raise
        result.report_path = report_path
        return result

    def _summary(self, result):
        return {"files": {k: c.as_dict() for k, c in result.counts.items()}}

    def _apply(self, cursor, run, opened, report_file, report, result):
        if self.pg:
            # One import at a time; a second waits rather than interleaving.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('akun.roster.import'))")
            # Hash joins over millions of staged rows: in memory, not spilled in batches.
            cursor.execute("SET LOCAL work_mem = '512MB'")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            # JIT compiles each big query for about a second and gains nothing on these scans.
            cursor.execute("SET LOCAL jit = off")
            try:
                with transaction.atomic():
                    cursor.execute("SET LOCAL temp_buffers = '1GB'")
            except DatabaseError:
                pass  # temporary tables were used earlier in this session: keep the default
        # Runs left 'running' by a killed process: we hold the lock, so they are dead.
        ImportRun.objects.filter(status=ImportRun.Status.RUNNING).exclude(pk=run.pk).update(
            status=ImportRun.Status.FAILED, summary={"error": "interrupted; nothing was applied"}
        )
        staging = self._staging = _Staging(cursor, run.pk)
        self.stg = staging.names
        staging.create()
        today = clock.today()
        phase = _Phases()
        try:
            for spec in SPECS:
                args = (cursor, staging, spec, opened[spec.kind], today, report, result)
                try:
                    if not self._stage_in_workers(*args, report_file):
                        self._stage_file(*args)
                except FileProblem as e:  # found part-way through the file
                    raise ImportProblem(str(e)) from e
                self._after_staging(cursor, spec)
                phase.done(f"read and staged {spec.name}")
        finally:
            if self._pool:
                self._pool.close()
                self._pool = None
        self.fault_point("after-staging")
        self._cross_row_checks(cursor)
        self._grade_checks(cursor)
        self._numbers_held_elsewhere(cursor)
        for spec in SPECS:
            self._count_rejects_from_sql(cursor, spec, report, result)
        phase.done("checks across rows")
        for spec in SPECS:
            self._compare(cursor, spec, result.counts[spec.kind])
        phase.done("compared with the roster")
        self._safety_stop(cursor, result)
        phase.done("safety check")

        now = clock.now()
        changed_anything = any(c.added or c.changed or c.departed for c in result.counts.values())
        for spec in SPECS:
            counts = result.counts[spec.kind]
            self._merge(cursor, spec, run.pk, now, counts)
            self.fault_point(f"after-merge-{spec.kind}")
            if self.pg and counts.added + counts.changed > 10_000:
                cursor.execute(f"ANALYZE {spec.table}")  # fresh statistics for the next run
        phase.done("applied")

        result.status = ImportRun.Status.APPLIED if changed_anything else ImportRun.Status.UNCHANGED
        ImportRun.objects.filter(pk=run.pk).update(
            status=result.status,
            finished_at=clock.now(),
            summary=self._summary(result),
            report_path=str(self._report_path),
        )
        if changed_anything:
            # Accounts follow the roster (issuance, transfers, departures) once this commits.
            transaction.on_commit(
                lambda: roster_imported.send(
                    sender=RosterImport, run=ImportRun.objects.get(pk=run.pk)
                )
            )
        for spec in SPECS:
            cursor.execute(f"DROP TABLE {self.stg[spec.kind]}")
            for prefix in ("keep_", "gone_"):
                cursor.execute(f"DROP TABLE {prefix}{spec.kind}")
        cursor.execute("DROP TABLE stg_reject")
        audit.record(
            Action.ROSTER_IMPORT,
            actor=self.actor,
            object_type="import_run",
            object_id=str(run.pk),
            reason=f"snapshot {self.directory}",
            after=self._summary(result) | {"status": result.status},
        )

    # -- staging ---------------------------------------------------------------------------

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

    # -- checks across rows, in SQL ----------------------------------------------------------

    def _reject_sql(self, cursor, spec, where: str, field: str, value: str, reason: str):
        """Move staging rows matching `where` to the rejects, keeping their records as they are."""
        keys = ", ".join(spec.key)
        cursor.execute(
            f"CREATE TEMP TABLE bad{self._on_commit_drop} AS SELECT line, {keys}, "
            f"{value} AS value, {reason} AS reason FROM {self.stg[spec.kind]} s WHERE {where}"
        )
        cursor.execute("SELECT count(*) FROM bad")
        if cursor.fetchone()[0]:
            cursor.execute(
                f"INSERT INTO stg_reject SELECT '{spec.name}', line, '{field}', value, reason "
                "FROM bad"
            )
            cursor.execute(f"INSERT INTO keep_{spec.kind} SELECT {keys} FROM bad")
            cursor.execute(
                f"DELETE FROM {self.stg[spec.kind]} WHERE line IN (SELECT line FROM bad)"
            )
        cursor.execute("DROP TABLE bad")

    def _known_unique(self, cursor, spec, columns: str, where: str = "") -> bool:
        """PostgreSQL: do `columns` hold no duplicates in staging? Building a unique index
        answers in a parallel sort, much faster than grouping millions of rows; only when it
        fails do the checks below look for the duplicates themselves."""
        if not self.pg:
            return False
        try:
            with transaction.atomic():
                cursor.execute(f"CREATE UNIQUE INDEX ON {self.stg[spec.kind]} ({columns}){where}")
        except IntegrityError:
            return False
        return True

    def _cross_row_checks(self, cursor):
        cat = "||"
        for spec in SPECS:
            keys = ", ".join(spec.key)
            if self._known_unique(cursor, spec, keys):
                continue
            # The same record twice: the first line wins, later copies are rejected.
            match = " AND ".join(f"f.{k} = s.{k}" for k in spec.key)
            cursor.execute(
                f"CREATE TEMP TABLE first_{spec.kind}{self._on_commit_drop} AS "
                f"SELECT {keys}, min(line) AS line FROM {self.stg[spec.kind]} "
                f"GROUP BY {keys} HAVING count(*) > 1"
            )
            label = " and ".join(spec.key)
            self._reject_sql(
                cursor,
                spec,
                f"EXISTS (SELECT 1 FROM first_{spec.kind} f WHERE {match} AND f.line < s.line)",
                spec.key[0],
                f"CAST(s.{spec.key[0]} AS text)",
                f"'duplicate {label}: the same record is on line ' {cat} "
                f"(SELECT CAST(f.line AS text) FROM first_{spec.kind} f WHERE {match})",
            )
            cursor.execute(f"DROP TABLE first_{spec.kind}")
        # A national number on two different records: which one is right cannot be known.
        # (Keys are unique by now, so count(*) counts distinct records.)
        for spec, number in ((SEKOLAH, "npsn"), (PESERTA_DIDIK, "nisn")):
            # text_pattern_ops: byte order, no collation work, ~3x faster to build.
            if self._known_unique(
                cursor, spec, f"{number} text_pattern_ops", f" WHERE {number} <> ''"
            ):
                continue
            self._reject_sql(
                cursor,
                spec,
                f"s.{number} IN (SELECT {number} FROM {self.stg[spec.kind]} WHERE {number} <> '' "
                f"GROUP BY {number} HAVING count(*) > 1)",
                number,
                f"s.{number}",
                f"'{number} ' {cat} s.{number} {cat} ' is used by more than one record in this "
                f"file; both are rejected'",
            )
        # No school row rejected (the usual case): no need to scan millions of rows for them.
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM keep_{SEKOLAH.kind})")
        schools_rejected = cursor.fetchone()[0]
        for spec in (PESERTA_DIDIK, PTK):
            if schools_rejected:
                self._reject_sql(
                    cursor,
                    spec,
                    f"s.sekolah_id IN (SELECT sekolah_id FROM keep_{SEKOLAH.kind})",
                    "sekolah_id",
                    "CAST(s.sekolah_id AS text)",
                    "'the row of this school in sekolah.csv was rejected'",
                )
            self._reject_sql(
                cursor,
                spec,
                f"NOT EXISTS (SELECT 1 FROM {self.stg[SEKOLAH.kind]} k "
                "WHERE k.sekolah_id = s.sekolah_id)",
                "sekolah_id",
                "CAST(s.sekolah_id AS text)",
                "'the school is not in sekolah.csv'",
            )

    def _numbers_held_elsewhere(self, cursor):
        """A national number that a record staying in the roster keeps: one outside a
        regional snapshot's region, or one whose row in this file was rejected (it keeps
        its stored values). The file cannot say which record is right, so the new claim is
        rejected and the stored one stays. Records of the snapshot's scope that are not in
        the file depart, so they hold nothing. Runs after the other checks, so that rows
        rejected there count as kept (one pass: a row rejected here re-checks nothing)."""
        cat = "||"
        for spec, number in ((SEKOLAH, "npsn"), (PESERTA_DIDIK, "nisn")):
            key, stg = spec.key[0], self.stg[spec.kind]
            live = (
                f"r.departed_at IS NULL AND r.{number} <> '' "
                f"AND NOT EXISTS (SELECT 1 FROM {stg} x WHERE x.{key} = r.{key})"
            )
            if self.region:
                # The region's rows look up the holders by number (the roster's index).
                outside = f"NOT (1 = 1{self._scope(spec, 'r')})"
                cursor.execute(
                    f"CREATE TEMP TABLE held{self._on_commit_drop} AS "
                    f"SELECT DISTINCT r.{number} AS number, r.{key} AS holder "
                    f"FROM {stg} s JOIN {spec.table} r ON r.{number} = s.{number} "
                    f"WHERE s.{number} <> '' AND r.{key} <> s.{key} AND {live} AND ("
                    f"{outside} OR r.{key} IN (SELECT {key} FROM keep_{spec.kind}))"
                )
            else:
                # Only rejected rows' records stay: start from those (usually few or none).
                cursor.execute(
                    f"CREATE TEMP TABLE held{self._on_commit_drop} AS "
                    f"SELECT r.{number} AS number, r.{key} AS holder FROM keep_{spec.kind} k "
                    f"JOIN {spec.table} r ON r.{key} = k.{key} WHERE {live}"
                )
            cursor.execute("SELECT EXISTS (SELECT 1 FROM held)")
            if cursor.fetchone()[0]:
                self._reject_sql(
                    cursor,
                    spec,
                    f"s.{number} IN (SELECT number FROM held)",
                    number,
                    f"s.{number}",
                    f"'{number} ' {cat} s.{number} {cat} ' belongs to another record in the "
                    f"roster ({key} ' {cat} (SELECT min({self._uuid_text('h.holder')}) "
                    f"FROM held h WHERE h.number = s.{number}) {cat} ') that this snapshot "
                    "does not replace; the stored record is kept'",
                )
            cursor.execute("DROP TABLE held")

    def _uuid_text(self, expr: str) -> str:
        """A UUID column as its usual text (SQLite keeps Django's UUIDs as 32 hex digits)."""
        if self.pg:
            return f"CAST({expr} AS text)"
        parts = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
        return " || '-' || ".join(f"substr({expr}, {a}, {n})" for a, n in parts)

    def _grade_checks(self, cursor):
        """A student's grade and programme must exist at the school's form (SD: 1-6, ...)."""
        cursor.execute(
            "CREATE TEMP TABLE grade_rule "
            f"(bentuk_pendidikan text, program text, lo integer, hi integer){self._on_commit_drop}"
        )
        cursor.executemany(
            "INSERT INTO grade_rule VALUES (%s, %s, %s, %s)",
            [(form, prog, lo, hi) for (form, prog), (lo, hi) in vocab.GRADES_BY_FORM.items()],
        )
        cat = "||"
        self._reject_sql(
            cursor,
            PESERTA_DIDIK,
            f"NOT EXISTS (SELECT 1 FROM {self.stg[SEKOLAH.kind]} k JOIN grade_rule r "
            "ON r.bentuk_pendidikan = k.bentuk_pendidikan "
            "WHERE k.sekolah_id = s.sekolah_id AND r.program = s.program "
            "AND s.tingkat_pendidikan BETWEEN r.lo AND r.hi)",
            "tingkat_pendidikan",
            "CAST(s.tingkat_pendidikan AS text)",
            f"'grade ' {cat} CAST(s.tingkat_pendidikan AS text) {cat} ' in programme ' {cat} "
            f"s.program {cat} ' does not exist at a school of form ' {cat} "
            f"(SELECT k.bentuk_pendidikan FROM {self.stg[SEKOLAH.kind]} k "
            "WHERE k.sekolah_id = s.sekolah_id)",
        )
        cursor.execute("DROP TABLE grade_rule")

    def _count_rejects_from_sql(self, cursor, spec, report, result):
        cursor.execute(
            "SELECT line, field, value, reason FROM stg_reject WHERE file = %s ORDER BY line",
            [spec.name],
        )
        n = 0
        for line, fld, value, reason in cursor.fetchall():
            report.writerow([spec.name, line, fld, value, reason])
            n += 1
        result.counts[spec.kind].rejected += n

    # -- compare and apply ------------------------------------------------------------------

    def _match(self, spec, a="t", b="s"):
        return " AND ".join(f"{a}.{k} = {b}.{k}" for k in spec.key)

    def _scope(self, spec, t="t"):
        if not self.region:
            return ""
        if spec is SEKOLAH:
            return f" AND {t}.kode_wilayah LIKE '{self.region}%'"
        return (
            f" AND {t}.sekolah_id IN (SELECT sekolah_id FROM {SEKOLAH.table} "
            f"WHERE kode_wilayah LIKE '{self.region}%')"
        )

    def _differs(self, spec, a="t", b="s"):
        """SQL: the stored record differs from the staged row in any stored column."""
        data = [c for c in spec.columns if c not in spec.key]
        if self.pg:
            left = ", ".join(f"{a}.{c}" for c in data)
            right = ", ".join(f"{b}.{c}" for c in data)
            return f"({left}) IS DISTINCT FROM ({right})"
        return "(" + " OR ".join(f"{a}.{c} IS NOT {b}.{c}" for c in data) + ")"

    def _compare(self, cursor, spec, counts):
        t, s = spec.table, self.stg[spec.kind]
        k0 = spec.key[0]
        cursor.execute(
            f"SELECT count(*), "
            f"coalesce(sum(CASE WHEN t.{k0} IS NULL THEN 1 ELSE 0 END), 0), "
            f"coalesce(sum(CASE WHEN t.{k0} IS NOT NULL AND (t.departed_at IS NOT NULL OR "
            f"{self._differs(spec)}) THEN 1 ELSE 0 END), 0) "
            f"FROM {s} s LEFT JOIN {t} t ON {self._match(spec)}"
        )
        staged, counts.added, counts.changed = cursor.fetchone()
        counts.unchanged = staged - counts.added - counts.changed
        keys = ", ".join(f"t.{k}" for k in spec.key)
        cursor.execute(
            f"CREATE TEMP TABLE gone_{spec.kind}{self._on_commit_drop} AS SELECT {keys} FROM {t} t "
            f"WHERE t.departed_at IS NULL{self._scope(spec)} "
            f"AND NOT EXISTS (SELECT 1 FROM {s} s WHERE {self._match(spec)}) "
            f"AND NOT EXISTS (SELECT 1 FROM keep_{spec.kind} s WHERE {self._match(spec)})"
        )
        cursor.execute(f"SELECT count(*) FROM gone_{spec.kind}")
        counts.departed = cursor.fetchone()[0]

    def _province_counts(self, cursor, gone: bool) -> dict[str, int]:
        totals: dict[str, int] = {}
        for spec in SPECS:
            t = spec.table
            if spec is SEKOLAH:
                sql = f"SELECT substr(t.kode_wilayah, 1, 2), count(*) FROM {t} t"
            else:
                sql = (
                    f"SELECT substr(k.kode_wilayah, 1, 2), count(*) FROM {t} t "
                    f"JOIN {SEKOLAH.table} k ON k.sekolah_id = t.sekolah_id"
                )
            if gone:
                sql += f" JOIN gone_{spec.kind} g ON {self._match(spec, 't', 'g')}"
            else:
                sql += " WHERE t.departed_at IS NULL"
            cursor.execute(sql + " GROUP BY 1")
            for prov, n in cursor.fetchall():
                totals[prov] = totals.get(prov, 0) + n
        return totals

    def _safety_stop(self, cursor, result):
        departing = sum(c.departed for c in result.counts.values())
        if not departing or self.allow_mass_departure:
            return
        present_by_prov = self._province_counts(cursor, gone=False)
        present = sum(present_by_prov.values())
        problems = []
        if present and departing / present > self.max_share:
            problems.append(
                f"{departing:,} of {present:,} records on the platform ({departing / present:.1%})"
            )
        for prov, n in sorted(self._province_counts(cursor, gone=True).items()):
            total = present_by_prov.get(prov, 0)
            if total and n / total > self.max_share:
                name = vocab.PROVINSI.get(prov, prov)
                problems.append(
                    f"{n:,} of {total:,} records in province {prov} {name} ({n / total:.1%})"
                )
        if problems:
            raise SafetyStop(
                "Safety stop: this snapshot would mark as departed "
                + "; ".join(problems)
                + f", more than the allowed {self.max_share:.0%}. Nothing was applied. "
                "A truncated or partial export looks like this. If the departures are real "
                "(for example at the end of a school year), run the import again with "
                "--allow-mass-departure."
            )

    def _merge(self, cursor, spec, run_id, now, counts):
        t, s = spec.table, self.stg[spec.kind]
        if counts.changed:
            data_cols = [c for c in spec.columns if c not in spec.key]
            sets = ", ".join(f"{c} = s.{c}" for c in data_cols)
            cursor.execute(
                f"UPDATE {t} AS t SET {sets}, changed_run_id = %s, departed_at = NULL, "
                f"departed_run_id = NULL FROM {s} AS s WHERE {self._match(spec)} "
                f"AND (t.departed_at IS NOT NULL OR {self._differs(spec)})",
                [run_id],
            )
        if counts.added:
            with self._bulk_load(cursor, spec, counts) as bulk:
                cols = ", ".join(spec.columns)
                # In key order, so the primary-key index grows at its end, not at random; a bulk
                # load builds its indexes afterwards and needs no sort.
                order = "" if bulk else f" ORDER BY {', '.join('s.' + k for k in spec.key)}"
                cursor.execute(
                    f"INSERT INTO {t} ({cols}, first_run_id, changed_run_id) "
                    f"SELECT {', '.join('s.' + c for c in spec.columns)}, %s, %s FROM {s} s "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {t} t WHERE {self._match(spec)}){order}",
                    [run_id, run_id],
                )
        if counts.departed:
            keys = ", ".join(spec.key)
            cursor.execute(
                f"UPDATE {t} SET departed_at = %s, departed_run_id = %s "
                f"WHERE ({keys}) IN (SELECT {keys} FROM gone_{spec.kind})",
                [now, run_id],
            )

    @contextlib.contextmanager
    def _bulk_load(self, cursor, spec, counts):
        """A load that more than doubles a PostgreSQL table (the first national import) drops
        the table's indexes, primary key and unique constraints included, and builds them again
        afterwards (sorted builds, in parallel workers): much faster than updating them row by
        row, and the insert needs no sort. All inside the import's transaction. Yields whether
        it did so."""
        if not self.pg:
            yield False
            return
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [spec.table])
        estimate = max(cursor.fetchone()[0], 0)
        if counts.added < max(estimate, self.bulk_min_rows):
            yield False
            return
        # Keys that a foreign key points at must stay (none today: roster references are not
        # constraints).
        cursor.execute(
            "SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "WHERE c.conrelid = %s::regclass AND c.contype IN ('p', 'u') "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint f "
            "WHERE f.contype = 'f' AND f.confrelid = c.conrelid) ORDER BY c.contype",
            [spec.table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
            "FROM pg_index i WHERE i.indrelid = %s::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            [spec.table],
        )
        indexes = cursor.fetchall()
        for name, _ in constraints:
            cursor.execute(f"ALTER TABLE {spec.table} DROP CONSTRAINT {name}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
        yield True
        for name, definition in constraints:  # the primary key first
            cursor.execute(f"ALTER TABLE {spec.table} ADD CONSTRAINT {name} {definition}")
        for _, definition in indexes:
            cursor.execute(definition)


def format_summary(result: ImportResult) -> str:
    lines = [
        f"{'file':<20}{'rows':>12}{'added':>10}{'changed':>10}{'unchanged':>12}"
        f"{'departed':>10}{'rejected':>10}"
    ]
    for spec in SPECS:
        c = result.counts[spec.kind]
        lines.append(
            f"{spec.name:<20}{c.rows:>12,}{c.added:>10,}{c.changed:>10,}{c.unchanged:>12,}"
            f"{c.departed:>10,}{c.rejected:>10,}"
        )
    return "\n".join(lines)
