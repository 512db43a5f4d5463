"""The school-year rollover window: opened and closed by an admin, audited.

Inside an open window the roster's expected July changes pass the safety stops: departures
of students in the last grade of a level (graduations: grade 6, 9, 12, and 13 at a 4-year
SMK) and, in the roster pass, level changes (a grade-7 student whose old account is SD, a
grade-10 one whose old account is SMP). The stop still counts everything else: a province's
file cut in half is held inside a window as outside it."""

import datetime as dt
import re

from django.db import transaction

from akun.audit import api as audit
from akun.audit.api import Action
from akun.core import clock
from akun.roster.models import RolloverWindow

# Grades that end a level: their departures are graduations.
GRADUATING_GRADES = (6, 9, 12, 13)
# (jenjang of the old account, first grade of the next level): a level change.
LEVEL_CHANGES = (("SD", 7), ("SMP", 10))
_YEAR = re.compile(r"^(\d{4})/(\d{4})$")


class RolloverError(ValueError):
    pass


def _year(year: str) -> str:
    m = _YEAR.match((year or "").strip())
    if not m or int(m.group(2)) != int(m.group(1)) + 1:
        raise RolloverError(f"a school year is written 2027/2028, not {year!r}")
    return m.group(0)


def open_window(now: dt.datetime | None = None) -> RolloverWindow | None:
    """The rollover window open now, if any."""
    now = now or clock.now()
    from django.utils import timezone

    today = timezone.localdate(now)
    for w in RolloverWindow.objects.filter(closed_at__isnull=True).order_by("-opened_at"):
        if w.opened_at <= now and (w.until is None or w.until >= today):
            return w
    return None


def do_open_rollover(year: str, *, actor: str, until: dt.date | None = None) -> RolloverWindow:
    year = _year(year)
    now = clock.now()
    from django.utils import timezone

    if until is not None and until < timezone.localdate(now):
        raise RolloverError(f"--until {until} is in the past")
    with transaction.atomic():
        other = open_window(now)
        if other is not None and other.year != year:
            raise RolloverError(f"the rollover window {other.year} is open; close it first")
        w, created = RolloverWindow.objects.select_for_update().get_or_create(
            year=year, defaults={"opened_at": now, "opened_by": actor, "until": until}
        )
        before = None
        if not created:
            before = {"until": _iso(w.until), "closed_at": _iso(w.closed_at)}
            w.opened_at, w.opened_by, w.until = now, actor, until
            w.closed_at, w.closed_by = None, ""
            w.save()
        audit.record(
            Action.ROSTER_ROLLOVER_OPEN,
            actor=actor,
            object_type="rollover",
            object_id=year,
            reason=f"school-year rollover {year} opened",
            before=before,
            after={"year": year, "until": _iso(until)},
        )
    return w


def do_close_rollover(*, actor: str, year: str = "") -> RolloverWindow:
    with transaction.atomic():
        qs = RolloverWindow.objects.select_for_update().filter(closed_at__isnull=True)
        if year:
            qs = qs.filter(year=_year(year))
        w = qs.order_by("-opened_at").first()
        if w is None:
            raise RolloverError("no rollover window is open")
        w.closed_at, w.closed_by = clock.now(), actor
        w.save(update_fields=["closed_at", "closed_by"])
        audit.record(
            Action.ROSTER_ROLLOVER_CLOSE,
            actor=actor,
            object_type="rollover",
            object_id=w.year,
            reason=f"school-year rollover {w.year} closed",
            before={"closed_at": None},
            after={"closed_at": _iso(w.closed_at)},
        )
    return w


def graduation_sql(alias: str) -> str:
    """SQL: the student row `alias` (roster_pesertadidik) is in a graduating grade."""
    grades = ", ".join(str(g) for g in GRADUATING_GRADES)
    return f"{alias}.tingkat_pendidikan IN ({grades})"


def level_change_sql(account: str, row: str) -> str:
    """SQL: account `account` (old jenjang) and its person's present row `row` are a
    level change (SD -> grade 7, SMP -> grade 10)."""
    return "(" + " OR ".join(
        f"(UPPER({account}.jenjang) = '{j}' AND {row}.tingkat_pendidikan = {g})"
        for j, g in LEVEL_CHANGES
    ) + ")"  # fmt: skip


def _iso(value):
    return value.isoformat() if value else None
