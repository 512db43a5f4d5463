"""Checks across rows, in SQL, on the staged rows: duplicates, national numbers on two records
or held by a record the snapshot does not replace, unknown schools, grades. A failing row moves
from staging to the rejects and its record is kept as it is."""

from django.db import IntegrityError, transaction

from akun.roster import vocab
from akun.roster.importing.specs import PESERTA_DIDIK, PTK, SEKOLAH, SPECS, in_region


class CrossRowChecks:
    """RosterImport's second part: reject staged rows that conflict with others."""

    pg: bool
    stg: dict[str, str]  # staging table of each kind
    region: str
    _on_commit_drop: str

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
                outside = f"NOT (1 = 1{in_region(spec, self.region, 'r')})"
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
