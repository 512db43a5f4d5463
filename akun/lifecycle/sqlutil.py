"""Set-based building blocks shared by the rules: temp tables, province keys.

Every sweep works the same way: the accounts it will change go into a temp table (on
PostgreSQL selected FOR UPDATE, which re-checks the condition against concurrent changes;
on SQLite the IMMEDIATE transaction already holds the write lock), then accounts'
transition_many changes them (state, audit rows, events) and the rule writes its own tables.
Nothing loops over accounts in Python, and no rule writes accounts or the audit itself.
"""

from django.db import connection

from akun.accounts import api as accounts
from akun.audit import api as audit
from akun.roster import api as roster

# The other apps' tables, through their api: accounts as `a`, an account's school as `s`.
ACCOUNTS = accounts.accounts_sql("a")
JOIN_ACCOUNT = accounts.join_account("ds.account_id", "a")  # of a deletion schedule `ds`
JOIN_SEKOLAH = roster.join_sekolah("a.sekolah_id", "s")
# The province of an account: the first two digits of its school's kode_wilayah ('' = none).
PROV = roster.province_sql("s")


def pg() -> bool:
    return connection.vendor == "postgresql"


def dt(value):
    return connection.ops.adapt_datetimefield_value(value)


def date(value):
    return connection.ops.adapt_datefield_value(value)


def for_update() -> str:
    return " FOR UPDATE OF a" if pg() else ""


def uuid_type() -> str:
    return "uuid" if pg() else "text"


def create_temp(cur, name: str, columns: str) -> None:
    if pg():
        cur.execute(f"DROP TABLE IF EXISTS {name}")
        cur.execute(f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP")
    else:
        cur.execute(f"DROP TABLE IF EXISTS temp.{name}")
        cur.execute(f"CREATE TEMP TABLE {name} ({columns})")


def drop_temp(cur, name: str) -> None:
    # Explicitly too: inside an outer transaction (tests) there is no commit to drop it.
    cur.execute(f"DROP TABLE IF EXISTS {name}")


def json_obj(**exprs: str) -> str:
    """SQL for a JSON object from SQL expressions (for the audit's before/after)."""
    return audit.json_sql(**exprs)


def in_list(values) -> str:
    """A literal SQL list of short codes (province codes, states): digits and letters only."""
    vals = [str(v) for v in values]
    for v in vals:
        if not v.replace("_", "").isalnum() and v != "":
            raise ValueError(f"unsafe literal {v!r}")
    return "(" + ", ".join(f"'{v}'" for v in vals) + ")" if vals else "('')"


def not_blocked(blocked: set[str]) -> str:
    """A condition on account `a`: its province is not held by the safety stop."""
    if not blocked:
        return "1=1"
    return f"{roster.school_province_sql('a.sekolah_id')} NOT IN {in_list(sorted(blocked))}"


def by_province(cur, sql: str, params=None) -> dict[str, int]:
    """{province: n} from a query returning (province, n)."""
    cur.execute(sql, params or {})
    return {str(p or ""): int(n) for p, n in cur.fetchall()}


def province_totals(cur) -> dict[str, int]:
    """Accounts per province that are not deleted: the base of the safety stop's share."""
    return by_province(
        cur,
        f"SELECT {PROV}, count(*) FROM {ACCOUNTS} {JOIN_SEKOLAH} "
        "WHERE a.state <> 'deleted' GROUP BY 1",
    )


def id_ranges(cur, batch: int, where: str = "1=1", params=None) -> list[tuple[int, int]]:
    """[lo, hi) ranges of account ids, each `batch` ids wide, covering the accounts."""
    cur.execute(f"SELECT min(id), max(id) FROM {ACCOUNTS} WHERE {where}", params or {})
    lo, hi = cur.fetchone()
    if lo is None:
        return []
    return [(start, min(start + batch, hi + 1)) for start in range(lo, hi + 1, batch)]
