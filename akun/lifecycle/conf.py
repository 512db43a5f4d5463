"""Lifecycle settings, read from the environment by akun/settings.py (tests override them)."""

from django.conf import settings


def max_share() -> float:
    """A run that would deactivate or delete more than this share of a province's accounts
    holds that province until an admin confirms."""
    return float(settings.AKUN_LIFECYCLE_MAX_SHARE)


def inactivity_months() -> int:
    return int(settings.AKUN_INACTIVITY_MONTHS)


def notice_days() -> int:
    """Days from the deletion notice to the deletion."""
    return int(settings.AKUN_DELETION_NOTICE_DAYS)


def reminder_days() -> list[int]:
    """Reminders, in days before the deletion. One that falls on the notice day (30 with a
    30-day notice) is the notice itself and is not sent twice."""
    days = sorted({int(d) for d in settings.AKUN_DELETION_REMINDER_DAYS}, reverse=True)
    return [d for d in days if 0 < d < notice_days()]


def batch_rows() -> int:
    return int(settings.AKUN_LIFECYCLE_BATCH_ROWS)
