"""One configuration: every environment variable is read by the settings modules through
akun.core.env, checked at start-up, and documented in docs/configuration.md -- both ways."""

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from akun.core import env
from tests.test_settings import _settings_import

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]*)` \|", re.M)
ENVIRON_READ = re.compile(r"os\.environ|getenv")
# Read by the importer itself until its split (issue 14) moves them to settings.AKUN_IMPORT_*.
NOT_YET_FROM_SETTINGS: set[str] = set()


def documented() -> list[str]:
    return ROW.findall((ROOT / "docs" / "configuration.md").read_text())


def test_every_variable_read_is_documented_and_every_documented_one_is_read():
    names = documented()
    assert len(names) == len(set(names)), "a variable has two rows"
    assert sorted(env.READ - set(names)) == [], "read but not in docs/configuration.md"
    assert sorted(set(names) - env.READ) == [], "in docs/configuration.md but not read"


def test_only_the_settings_modules_read_the_environment():
    readers = {}
    for path in sorted((ROOT / "akun").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for line in path.read_text().splitlines():
            if ENVIRON_READ.search(line) and "DJANGO_SETTINGS_MODULE" not in line:
                readers.setdefault(rel, []).append(line.strip())
    assert set(readers) - {"akun/core/env.py"} <= NOT_YET_FROM_SETTINGS, readers
    for rel in NOT_YET_FROM_SETTINGS & set(readers):
        names = set(re.findall(r"AKUN_[A-Z0-9_]+", " ".join(readers[rel])))
        assert names <= set(documented()), names


@pytest.mark.parametrize(
    "name, value, read",
    [
        ("AKUN_ENV", "prod", lambda n: env.choice(n, "development", ("development", "production"))),
        ("AKUN_DEBUG", "yes", lambda n: env.flag(n, True)),
        ("AKUN_PORT", "80a", lambda n: env.whole(n, 8000, minimum=1)),
        ("AKUN_SESSION_SECONDS", "0", lambda n: env.whole(n, 3600, minimum=1)),
        ("AKUN_LIFECYCLE_MAX_SHARE", "5%", lambda n: env.number(n, 0.05, maximum=1)),
        ("AKUN_MAX_DEPARTURE_SHARE", "1.5", lambda n: env.number(n, 0.05, maximum=1)),
        ("AKUN_DELETION_REMINDER_DAYS", "30,x", lambda n: env.whole_items(n, "30,3")),
        ("AKUN_ACTIVATION_DEADLINE", "30/06/2026", env.date),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(monkeypatch, name, value, read):
    monkeypatch.setattr(env, "READ", set(env.READ))
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        read(name)


def test_typed_values(monkeypatch):
    monkeypatch.setattr(env, "READ", set(env.READ))
    assert env.whole_items("AKUN_TEST_UNSET_LIST", "30, 3,") == [30, 3]
    assert env.date("AKUN_TEST_UNSET_DATE") is None
    assert env.flag("AKUN_TEST_UNSET_FLAG", True) is True


@pytest.mark.parametrize(
    "name, value",
    [("AKUN_ENV", "prod"), ("AKUN_SSO_ID_TOKEN_SECONDS", "1h"), ("AKUN_PORTAL_IDLE_SECONDS", "")],
)
def test_start_up_stops_on_a_bad_value_naming_the_variable(name, value):
    result = _settings_import({name: value})
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {name} must be" in result.stderr
