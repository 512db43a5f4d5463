import os
import subprocess
import sys
import uuid

import pytest
from django.db import connection

from akun.core import clock
from akun.sso import keys, validator
from tests import builders

# The Redis the throttling tests use; each test writes under its own prefix and removes it.
REDIS_URL = os.environ.get("AKUN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(autouse=True)
def _release_clock():
    yield
    clock.freeze(None)


@pytest.fixture(autouse=True)
def _fresh_sso():
    """No signing keys or OAuth clients cached in memory from another test (its rows are
    gone, the process-wide caches would not be)."""
    keys.reset()
    validator.forget_clients()
    yield
    keys.reset()
    validator.forget_clients()


@pytest.fixture
def school():
    """SD NEGERI 1 CIBODAS (a module may define its own)."""
    return builders.school()


@pytest.fixture
def student(school):
    """An active student of `school`, password builders.PASSWORD."""
    return builders.student(school, state="active", password=builders.PASSWORD)


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


@pytest.fixture(params=["database", "redis"])
def store(request, settings):
    """The throttle store, each test twice: the database, then Redis (under a fresh prefix,
    removed afterwards)."""
    if request.param == "redis":
        import redis

        settings.AKUN_REDIS_URL = REDIS_URL
        settings.AKUN_REDIS_PREFIX = f"akun-test:{uuid.uuid4().hex}:"
        yield request.param
        client = redis.Redis.from_url(settings.AKUN_REDIS_URL)
        for key in client.scan_iter(settings.AKUN_REDIS_PREFIX + "*"):
            client.delete(key)
    else:
        settings.AKUN_REDIS_URL = ""
        yield request.param


@pytest.fixture
def lifecycle_settings(settings):
    """No safety stop unless a test asks for one (tiny test rosters are all 'one province')."""
    settings.AKUN_LIFECYCLE_MAX_SHARE = 1.0
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return settings


@pytest.fixture
def send_codes_at_once(monkeypatch):
    """identity's codes are sent on commit; inside a test's transaction, send them at once."""
    from types import SimpleNamespace

    from django.db import transaction

    from akun.identity import codes

    shim = SimpleNamespace(atomic=transaction.atomic, on_commit=lambda fn, **kw: fn())
    monkeypatch.setattr(codes, "transaction", shim)


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
