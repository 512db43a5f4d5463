"""Typed reads of the environment, for the settings modules only (akun/settings.py and the
settings modules it loads, e.g. akun/sso/conf.py); the rest of Akun reads django.conf.settings.

A value that does not parse stops start-up with ImproperlyConfigured naming the variable.
Every read is recorded in READ so that tests/test_configuration.py can hold
docs/configuration.md to exactly the variables read: read each variable unconditionally
(also those that matter only in production), or the test cannot see it.
"""

import datetime as dt
import os

from django.core.exceptions import ImproperlyConfigured

READ: set[str] = set()


def _raw(name: str, default: object) -> str:
    READ.add(name)
    return os.environ.get(name, str(default))


def text(name: str, default: str) -> str:
    return _raw(name, default)


def named_secret(name: str) -> str:
    """A secret whose variable an admin names in a record (a SCIM target's `token_env`), read
    when it is used. Not a setting of Akun: not in READ, not in docs/configuration.md."""
    return os.environ.get(name, "")


def choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _raw(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be {' or '.join(choices)}, not {value!r}.")
    return value


def flag(name: str, default: bool) -> bool:
    value = _raw(name, "1" if default else "0")
    if value not in ("0", "1"):
        raise ImproperlyConfigured(f"{name} must be 1 (on) or 0 (off), not {value!r}.")
    return value == "1"


def whole(name: str, default: int, *, minimum: int = 0) -> int:
    value = _raw(name, default).strip()
    if not value.isdigit() or int(value) < minimum:
        raise ImproperlyConfigured(
            f"{name} must be a whole number of {minimum} or more, not {value!r}."
        )
    return int(value)


def number(name: str, default: float, *, minimum: float = 0.0, maximum: float | None = None):
    value = _raw(name, default)
    try:
        parsed = float(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed < minimum or (maximum is not None and parsed > maximum):
        bounds = (
            f"from {minimum:g} to {maximum:g}" if maximum is not None else f"{minimum:g} or more"
        )
        raise ImproperlyConfigured(f"{name} must be a number {bounds}, not {value!r}.")
    return parsed


def items(name: str, default: str) -> list[str]:
    """A comma-separated list; blanks dropped."""
    return [item.strip() for item in _raw(name, default).split(",") if item.strip()]


def whole_items(name: str, default: str) -> list[int]:
    values = items(name, default)
    if not all(v.isdigit() for v in values):
        raise ImproperlyConfigured(
            f"{name} must be comma-separated whole numbers, not {','.join(values)!r}."
        )
    return [int(v) for v in values]


def date(name: str) -> dt.date | None:
    """An ISO date (2026-06-30), or None when unset or empty."""
    value = _raw(name, "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be an ISO date such as 2026-06-30, not {value!r}."
        ) from None
