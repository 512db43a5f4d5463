"""Academic sessions: the school year and its two semesters (terms).

Dapodik's export has no semester data, so the year comes from AKUN_ONEROSTER_SCHOOL_YEAR
(the year it starts, 2025 for 2025/2026), or from today's date: the Indonesian school year
starts in July. Semester ganjil runs July-December, genap January-June. Their sourcedIds
name the year (`ta-2025-2026`, `ta-2025-2026-s1`, `-s2`): stable."""

import dataclasses
import datetime as dt

from django.conf import settings

from akun.core import clock


@dataclasses.dataclass(frozen=True)
class Session:
    sourced_id: str
    title: str
    type: str  # schoolYear | term
    start: dt.date
    end: dt.date  # exclusive, as the spec has it
    school_year: str  # the year it ends, as the spec has it
    parent: str = ""
    children: tuple[str, ...] = ()

    @property
    def date_last_modified(self) -> dt.datetime:
        return dt.datetime(self.start.year, self.start.month, 1, tzinfo=dt.UTC)


def start_year(today: dt.date | None = None) -> int:
    if settings.AKUN_ONEROSTER_SCHOOL_YEAR:
        return settings.AKUN_ONEROSTER_SCHOOL_YEAR
    today = today or clock.now().date()
    return today.year if today.month >= 7 else today.year - 1


def current() -> list[Session]:
    """The school year, then its two semesters."""
    y = start_year()
    year_id = f"ta-{y}-{y + 1}"
    s1, s2 = f"{year_id}-s1", f"{year_id}-s2"
    return [
        Session(
            year_id,
            f"Tahun Ajaran {y}/{y + 1}",
            "schoolYear",
            dt.date(y, 7, 1),
            dt.date(y + 1, 7, 1),
            str(y + 1),
            children=(s1, s2),
        ),
        Session(
            s1,
            f"Semester Ganjil {y}/{y + 1}",
            "term",
            dt.date(y, 7, 1),
            dt.date(y + 1, 1, 1),
            str(y + 1),
            parent=year_id,
        ),
        Session(
            s2,
            f"Semester Genap {y}/{y + 1}",
            "term",
            dt.date(y + 1, 1, 1),
            dt.date(y + 1, 7, 1),
            str(y + 1),
            parent=year_id,
        ),
    ]


def terms() -> list[Session]:
    return [s for s in current() if s.type == "term"]


def school_year() -> Session:
    return current()[0]
