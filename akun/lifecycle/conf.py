"""Lifecycle settings: Django settings first (tests override them), then the environment."""

import os

from django.conf import settings


def _get(name: str, default: str) -> str:
    value = getattr(settings, name, None)
    return str(value) if value is not None else os.environ.get(name, default)


def max_share() -> float:
    """A run that would deactivate or delete more than this share of a province's accounts
    holds that province until an admin confirms."""
    return float(_get("AKUN_LIFECYCLE_MAX_SHARE", "0.05"))


def inactivity_months() -> int:
    return int(_get("AKUN_INACTIVITY_MONTHS", "12"))


def notice_days() -> int:
    """Days from the deletion notice to the deletion."""
    return int(_get("AKUN_DELETION_NOTICE_DAYS", "30"))


def reminder_days() -> list[int]:
    """Reminders, in days before the deletion. One that falls on the notice day (30 with a
    30-day notice) is the notice itself and is not sent twice."""
    raw = _get("AKUN_DELETION_REMINDER_DAYS", "30,3")
    days = sorted({int(d) for d in raw.split(",") if d.strip()}, reverse=True)
    return [d for d in days if 0 < d < notice_days()]


def batch_rows() -> int:
    return int(_get("AKUN_LIFECYCLE_BATCH_ROWS", "100000"))
