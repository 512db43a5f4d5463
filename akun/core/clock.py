"""One clock for the whole platform, so tests can move time (deadlines, notices, expiry)."""

import datetime as dt

from django.utils import timezone

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    return _frozen if _frozen is not None else timezone.now()


def today() -> dt.date:
    return timezone.localdate(now())


def freeze(at: dt.datetime | None) -> None:
    """Tests: fix the time (None releases it)."""
    global _frozen
    _frozen = at
