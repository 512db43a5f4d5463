"""The roster as other apps' set-based SQL sees it (through akun.roster.api).

Other apps' queries join the roster (eligibility, issuance, the lifecycle's passes and
sweeps) by the millions of rows, so they get SQL fragments to put in their own statements,
not rows: the statement, and its plan, stay one. The table names are the roster's own and
appear only here. The columns other apps may use (everything else may change):

- sekolah: sekolah_id, npsn, kode_wilayah, bentuk_pendidikan, departed_at;
- peserta_didik: peserta_didik_id, sekolah_id, nama, program, tingkat_pendidikan,
  departed_at;
- ptk: ptk_id, sekolah_id, nama, gelar_depan, gelar_belakang, jenis_ptk, operator_sekolah,
  ptk_induk, departed_at.
"""

from akun.roster.models import PesertaDidik, Ptk, Sekolah

_SEKOLAH = Sekolah._meta.db_table
_PESERTA_DIDIK = PesertaDidik._meta.db_table
_PTK = Ptk._meta.db_table
_PERSON_KEY = {"peserta_didik": (_PESERTA_DIDIK, "peserta_didik_id"), "ptk": (_PTK, "ptk_id")}


def sekolah_sql(alias: str = "s") -> str:
    """The schools, for a FROM clause: `roster.sekolah_sql('s')`."""
    return f"{_SEKOLAH} {alias}"


def peserta_didik_sql(alias: str = "pd") -> str:
    """The students' roster rows, for a FROM clause."""
    return f"{_PESERTA_DIDIK} {alias}"


def ptk_sql(alias: str = "p") -> str:
    """The PTK's roster rows (one per assignment), for a FROM clause."""
    return f"{_PTK} {alias}"


def join_sekolah(on: str, alias: str = "s", *, left: bool = True) -> str:
    """A join to the school whose sekolah_id is the SQL expression `on` (LEFT: none is NULL)."""
    return f"{'LEFT ' if left else ''}JOIN {_SEKOLAH} {alias} ON {alias}.sekolah_id = {on}"


def province_sql(alias: str = "s") -> str:
    """The province of school `alias`: the first two digits of its kode_wilayah ('' if
    there is no school, as through a LEFT JOIN)."""
    return f"COALESCE(substr({alias}.kode_wilayah, 1, 2), '')"


def school_province_sql(sekolah_id: str, alias: str = "sb") -> str:
    """The province of the school whose sekolah_id is the SQL expression `sekolah_id`, as a
    scalar subquery ('' if none)."""
    return (
        f"COALESCE((SELECT substr({alias}.kode_wilayah, 1, 2) FROM {_SEKOLAH} {alias} "
        f"WHERE {alias}.sekolah_id = {sekolah_id}), '')"
    )


def changed_after_sql(alias: str) -> str:
    """Roster row `alias` (any of the three) was added, changed or departed by an import run
    after %(after)s."""
    return (
        f"({alias}.changed_run_id > %(after)s OR {alias}.first_run_id > %(after)s "
        f"OR {alias}.departed_run_id > %(after)s)"
    )


def touched_people_sql() -> str:
    """(person_type, person_id) of everybody whose roster rows an import run after %(after)s
    touched: a row of theirs added, changed or departed, or a row of a school that was."""
    schools = schools_changed_sql()
    return (
        f"SELECT 'peserta_didik', t.peserta_didik_id FROM {_PESERTA_DIDIK} t "
        f"WHERE {changed_after_sql('t')} OR t.sekolah_id IN ({schools}) "
        f"UNION SELECT 'ptk', t.ptk_id FROM {_PTK} t "
        f"WHERE {changed_after_sql('t')} OR t.sekolah_id IN ({schools})"
    )


def schools_changed_sql() -> str:
    """sekolah_id of the schools an import run after %(after)s added, changed or closed."""
    return f"SELECT k.sekolah_id FROM {_SEKOLAH} k WHERE {changed_after_sql('k')}"


def in_roster_sql(person_type: str, person_id: str) -> str:
    """A condition: person `person_id` (an SQL expression) of type `person_type` (a value:
    peserta_didik or ptk) has a roster row that has not departed."""
    table, key = _PERSON_KEY[person_type]
    return f"EXISTS (SELECT 1 FROM {table} r WHERE r.{key} = {person_id} AND r.departed_at IS NULL)"


def person_key_ranges(cur, person_type: str, batch_rows: int) -> list[tuple]:
    """[(lo, hi), ...] of person ids (None: open end) covering every roster row of
    `person_type`, each range with at most batch_rows rows."""
    table, key = _PERSON_KEY[person_type]
    n = int(batch_rows)
    cur.execute(
        f"SELECT k FROM (SELECT {key} AS k, row_number() OVER (ORDER BY {key}) AS rn "
        f"FROM {table}) t WHERE rn % {n} = 1 AND rn > 1 ORDER BY k"
    )
    bounds = [r[0] for r in cur.fetchall()]
    edges = [None, *bounds, None]
    return list(zip(edges[:-1], edges[1:], strict=True))


def school_batches(cur, person_type: str, batch_rows: int) -> list[tuple]:
    """Every school with roster rows of `person_type`, in batches of whole schools: as many
    as fit in batch_rows rows (a bigger school is a batch of its own). Lists, not ranges of
    ids: the planner estimates a list's rows from the rows per school, where a narrow range
    of UUIDs inside one histogram bucket looks like one row and gets a nested-loop plan."""
    table, _key = _PERSON_KEY[person_type]
    cur.execute(f"SELECT sekolah_id, count(*) FROM {table} GROUP BY sekolah_id ORDER BY 1")
    batches, batch, rows = [], [], 0
    for sekolah_id, n in cur.fetchall():
        if batch and rows + n > batch_rows:
            batches.append(tuple(batch))
            batch, rows = [], 0
        batch.append(sekolah_id)
        rows += n
    if batch:
        batches.append(tuple(batch))
    return batches


def people_estimate(cur) -> int:
    """About how many roster rows of people there are (PostgreSQL: the planner's statistics,
    counted if never analysed)."""
    cur.execute(
        "SELECT coalesce(sum(greatest(reltuples, 0)), 0) FROM pg_class "
        f"WHERE relname IN ('{_PESERTA_DIDIK}', '{_PTK}') AND relkind = 'r'"
    )
    n = int(cur.fetchone()[0])
    if n == 0:  # never analysed
        cur.execute(
            f"SELECT (SELECT count(*) FROM {_PESERTA_DIDIK}) + (SELECT count(*) FROM {_PTK})"
        )
        n = cur.fetchone()[0]
    return n
