"""Database dumps for the accounts tests (no tests in this file); roster rows come from
tests.builders."""

import subprocess

from django.db import connection


def all_cells():
    """Every value in every table of the database: (table, column, value)."""
    with connection.cursor() as cur:
        for table in connection.introspection.table_names(cur):
            cur.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cur.description]
            for row in cur.fetchall():
                for name, value in zip(names, row, strict=True):
                    yield table, name, value


def pg_dump_data() -> str:
    """What `pg_dump --data-only` writes for the test database (PostgreSQL; it reads over its
    own connection, so the test's rows must be committed)."""
    s = connection.settings_dict
    return subprocess.run(
        ["pg_dump", "--data-only", "-h", s["HOST"] or "127.0.0.1", "-U",
         s["USER"] or "postgres", s["NAME"]],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
