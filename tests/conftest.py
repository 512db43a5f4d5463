import os
import subprocess
import sys

import pytest
from django.db import connection

from akun.core import clock


@pytest.fixture(autouse=True)
def _release_clock():
    yield
    clock.freeze(None)


def database_url_for_subprocess() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or "postgres"
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{s['NAME']}"


@pytest.fixture
def run_akun():
    """Run the real `akun` console command in a subprocess against the test database;
    `hook=(name, value)` installs a test hook first (tests/hooks.py)."""

    def run(*args, env=None, timeout=300, hook=None, **kwargs):
        full_env = dict(os.environ, DATABASE_URL=database_url_for_subprocess())
        full_env.update(env or {})
        entry = ["tests.hooks", *hook, "--"] if hook else ["akun"]
        return subprocess.run(
            [sys.executable, "-m", *entry, *args],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
            **kwargs,
        )

    return run


@pytest.fixture(scope="session")
def _google_standin_server():
    from tests.google_standin import start_thread

    standin = start_thread()
    yield standin
    standin.stop()


@pytest.fixture
def google_standin(_google_standin_server):
    """The Google Directory API stand-in (standins/google), emptied for each test: no users,
    no org units but the root, no schemas, no quota, no faults (tests/google_standin.py)."""
    _google_standin_server.reset()
    _google_standin_server.set_quota(None)
    yield _google_standin_server
    _google_standin_server.reset()
