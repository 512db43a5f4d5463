"""Shared pieces of the lifecycle tests (no tests in this file); their `lifecycle_settings`
fixture is in tests/conftest.py."""

import datetime as dt

from django.utils import timezone

from akun.accounts.api import Account, issue_accounts
from akun.core import clock


def at(day: str, hour: int = 12) -> dt.datetime:
    """An aware datetime in Asia/Jakarta: at('2021-06-30')."""
    return timezone.make_aware(dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour)))


def freeze(day: str, hour: int = 12) -> None:
    clock.freeze(at(day, hour))


def issue() -> int:
    return issue_accounts(actor="test").run_id


def account_of(person, jenjang: str | None = None) -> Account:
    pid = getattr(person, "peserta_didik_id", None) or person.ptk_id
    qs = Account.objects.filter(person_id=pid).exclude(state="deleted")
    if jenjang:
        qs = qs.filter(jenjang=jenjang)
    return qs.get()
