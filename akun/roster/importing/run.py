"""The import as a whole: the orchestrator of its parts (see the package's docstring)."""

import csv
import logging
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from akun.audit import api as audit
from akun.audit.api import Action
from akun.core import clock
from akun.roster.importing.apply import CompareAndMerge
from akun.roster.importing.checks import CrossRowChecks
from akun.roster.importing.result import FileCounts, ImportProblem, ImportResult, SafetyStop
from akun.roster.importing.specs import SPECS
from akun.roster.importing.staging import FileStaging, Progress, _Staging
from akun.roster.models import ImportRun
from akun.roster.reader import MAX_FIELD_CHARS, MAX_LINE_CHARS, FileProblem, open_export
from akun.roster.signals import roster_imported

log = logging.getLogger("akun.roster.import")


class _Phases:
    def __init__(self):
        self.t = time.monotonic()

    def done(self, what):
        now = time.monotonic()
        log.info("%s in %.2f s", what, now - self.t)
        self.t = now


class RosterImport(FileStaging, CrossRowChecks, CompareAndMerge):
    """One import of a snapshot directory; its steps are in the parts it is made of."""

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
            workers = settings.AKUN_IMPORT_WORKERS
        self.workers = workers if self.pg and workers >= 2 else 0
        self.chunk_bytes = chunk_bytes or settings.AKUN_IMPORT_CHUNK_BYTES
        self._pool = None
        self.staged_in_workers: list[str] = []  # the files that went to the workers
        # A load of at least this many new rows that also doubles the table is a bulk load.
        self.bulk_min_rows = settings.AKUN_IMPORT_BULK_MIN_ROWS
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
