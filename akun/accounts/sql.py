"""The accounts as other apps' set-based SQL reads them (through akun.accounts.api).

Reads only: every write to accounts goes through transition_many / move_many (akun.accounts
.bulk) or the do_* actions. Other apps get SQL fragments to put in their own statements (the
lifecycle's sweeps select millions of accounts FOR UPDATE in one statement), so the table
name appears only here. The columns other apps may read: id, user_id, state, role,
person_type, person_id, jenjang, sekolah_id, issue_run, issued_at, activated_at, last_login,
state_changed_at, recovery_email, recovery_phone, recovery_phone_verified_at (and, on
PostgreSQL, ctid for physical batches: see table_pages).
"""

from akun.accounts.models import Account

_ACCOUNT = Account._meta.db_table


def accounts_sql(alias: str = "a") -> str:
    """The accounts, for a FROM clause: `accounts.accounts_sql('a')`."""
    return f"{_ACCOUNT} {alias}"


def join_account(on: str, alias: str = "a") -> str:
    """A join to the account whose id is the SQL expression `on`."""
    return f"JOIN {_ACCOUNT} {alias} ON {alias}.id = {on}"


def table_pages(cur) -> tuple[int, float, int]:
    """PostgreSQL: (pages as last analysed, rows as last analysed, pages now) of the accounts
    table, for batches by physical position (`a.ctid` ranges)."""
    cur.execute(
        "SELECT relpages, reltuples, "
        "pg_relation_size(oid) / current_setting('block_size')::int "
        f"FROM pg_class WHERE oid = '{_ACCOUNT}'::regclass"
    )
    return cur.fetchone()
