"""Rate limits of the helpdesk's public doors: fixed windows per client address, per
contact and per report number, counted in the database (one row per key, locked while it
is counted). No third-party captcha: a person files a few reports a day at most."""

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from akun.core import clock
from akun.helpdesk.models import Bucket


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    seconds: int


FILE_PER_ADDRESS = Limit("file-addr", 10, 3600)
FILE_PER_CONTACT = Limit("file-contact", 5, 86400)
LOOKUP_PER_ADDRESS = Limit("lookup-addr", 20, 3600)
LOOKUP_PER_NUMBER = Limit("lookup-number", 10, 3600)
ANSWER_PER_ADDRESS = Limit("answer-addr", 30, 3600)
REPLY_PER_ADDRESS = Limit("reply-addr", 30, 3600)


def key(limit: Limit, value: str) -> str:
    return f"{limit.name}:{value.strip().lower()[:150]}"


def spend(pairs: list[tuple[Limit, str]]) -> int:
    """Count one try against every (limit, value); 0 if all allow it, else the seconds until
    the first refusing window ends (nothing is counted then)."""
    now = clock.now()
    with transaction.atomic():
        rows = []
        for limit, value in pairs:
            k = key(limit, value)
            try:
                with transaction.atomic():
                    Bucket.objects.create(key=k, window_start=now, count=0)
            except IntegrityError:
                pass
            row = Bucket.objects.select_for_update().get(key=k)
            end = row.window_start + dt.timedelta(seconds=limit.seconds)
            if end <= now:
                row.window_start, row.count = now, 0
            elif row.count >= limit.count:
                return max(1, int((end - now).total_seconds()))
            rows.append(row)
        for row in rows:
            row.count += 1
            row.save(update_fields=["window_start", "count"])
    return 0
