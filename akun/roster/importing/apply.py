"""Compare the staged rows with the roster (added, changed, unchanged, departed), stop when too
many would depart, and merge them into the roster tables."""

import contextlib

from akun.roster import rollover, vocab
from akun.roster.importing.result import SafetyStop
from akun.roster.importing.specs import PESERTA_DIDIK, SEKOLAH, SPECS, in_region


class CompareAndMerge:
    """RosterImport's last part: what the snapshot changes, the safety stop, the merge."""

    pg: bool
    stg: dict[str, str]  # staging table of each kind
    region: str
    allow_mass_departure: bool
    max_share: float
    bulk_min_rows: int
    _on_commit_drop: str

    def _match(self, spec, a="t", b="s"):
        return " AND ".join(f"{a}.{k} = {b}.{k}" for k in spec.key)

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
            f"WHERE t.departed_at IS NULL{in_region(spec, self.region)} "
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

    def _graduations(self, cursor) -> dict[str, int]:
        """Departing students in a graduating grade, per province: expected while a
        rollover window is open (akun.roster.rollover)."""
        spec = PESERTA_DIDIK
        cursor.execute(
            f"SELECT substr(k.kode_wilayah, 1, 2), count(*) FROM {spec.table} t "
            f"JOIN gone_{spec.kind} g ON {self._match(spec, 't', 'g')} "
            f"JOIN {SEKOLAH.table} k ON k.sekolah_id = t.sekolah_id "
            f"WHERE {rollover.graduation_sql('t')} GROUP BY 1"
        )
        return {prov: n for prov, n in cursor.fetchall()}

    def _safety_stop(self, cursor, result):
        departing = sum(c.departed for c in result.counts.values())
        if not departing or self.allow_mass_departure:
            return
        window = rollover.open_window()
        expected = self._graduations(cursor) if window else {}
        result.expected_departures = sum(expected.values())
        departing -= result.expected_departures
        present_by_prov = self._province_counts(cursor, gone=False)
        present = sum(present_by_prov.values())
        problems = []
        if present and departing / present > self.max_share:
            problems.append(
                f"{departing:,} of {present:,} records on the platform ({departing / present:.1%})"
            )
        for prov, n in sorted(self._province_counts(cursor, gone=True).items()):
            n -= expected.get(prov, 0)
            total = present_by_prov.get(prov, 0)
            if total and n / total > self.max_share:
                name = vocab.PROVINSI.get(prov, prov)
                problems.append(
                    f"{n:,} of {total:,} records in province {prov} {name} ({n / total:.1%})"
                )
        if problems:
            inside = (
                f" (inside the rollover window {window.year}: the "
                f"{result.expected_departures:,} graduations are not counted)"
                if window
                else ""
            )
            raise SafetyStop(
                "Safety stop: this snapshot would mark as departed "
                + "; ".join(problems)
                + f", more than the allowed {self.max_share:.0%}{inside}. Nothing was applied. "
                "A truncated or partial export looks like this. If the departures are real "
                "(for example at the end of a school year), open the rollover window "
                "(`akun roster rollover open`) or run the import again with "
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
