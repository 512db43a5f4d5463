"""The accounts' sync state at the Google target, for counts kept elsewhere (akun.statistik):
the SQL that reads it, and the subscribers told which accounts' sync state may have changed,
in the transaction of the write, by every statement here that writes `Provisioned.state`.

Counts follow the first enabled Google target by name: a deployment normally has one Google
Workspace domain (docs/provisioning.md)."""

import json
from collections.abc import Callable

from django.db import connection

from akun.provisioning.models import Provisioned, Target

TABLE = Provisioned._meta.db_table
TARGETS = Target._meta.db_table
# handler(cursor, ids_sql, params, count): ids_sql is a SELECT of account ids (one column)
_subscribers: list[Callable] = []


def subscribe(handler: Callable) -> None:
    if handler not in _subscribers:
        _subscribers.append(handler)


def changed(cur, ids_sql: str, params: dict, count: int) -> None:
    """Tell the subscribers: the accounts `ids_sql` selects (about `count`) may have a new
    sync state. Called after the write, before its transaction commits."""
    if count <= 0:
        return
    for handler in _subscribers:
        handler(cur, ids_sql, params, count)


def join(account_col: str, alias: str = "ps") -> str:
    """A LEFT JOIN giving `{alias}.state` (NULL: never queued) of the account at the
    Google target; COALESCE({alias}.state, '') is the counted sync state."""
    return (
        f"LEFT JOIN {TABLE} {alias} ON {alias}.account_id = {account_col} "
        f"AND {alias}.target_id = (SELECT min(t.name) FROM {TARGETS} t "
        "WHERE t.enabled AND t.kind = 'google')"
    )


def ids_source(ids) -> tuple[str, object]:
    """(a SELECT of these account ids named `id` reading the parameter %(ids)s, its value)."""
    if connection.vendor == "postgresql":
        return "SELECT DISTINCT unnest(%(ids)s::bigint[]) AS id", sorted(ids)
    return "SELECT DISTINCT CAST(value AS integer) AS id FROM json_each(%(ids)s)", json.dumps(
        sorted(ids)
    )
