"""The helpdesk's figures for a region (the nation, a province, a regency): reports by
category, by region below and by week; time to first answer; the backlog; the share of
questions answered before anything was filed. Charts are SVG drawn on the server."""

import datetime as dt
import statistics
from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import Substr, TruncWeek
from django.utils.html import escape
from django.utils.safestring import mark_safe

from akun.core import clock
from akun.helpdesk.models import Report, SelfAnswer

WEEKS = 12
OPEN = (Report.State.NEW, Report.State.WAITING_PERSON, Report.State.WAITING_SCHOOL)


@dataclass
class Figures:
    by_category: list[tuple[str, int]]
    by_region: list[tuple[str, int]]
    by_week: list[tuple[str, int]]
    backlog: list[tuple[str, int]]
    first_answer_hours: float | None  # median, over the weeks shown
    answered_before_filing: float | None  # share, 0..1
    reports: int


def _region_q(kode: str, field: str = "kode_wilayah") -> Q:
    return Q() if not kode else Q(**{f"{field}__startswith": kode})


def figures(kode: str) -> Figures:
    """`kode`: '' for the nation, 2 or 4 digits."""
    since = clock.now() - dt.timedelta(weeks=WEEKS)
    reports = Report.objects.filter(_region_q(kode), created_at__gte=since)
    by_category = list(
        reports.values_list("category").annotate(n=Count("id")).order_by("-n", "category")
    )
    width = {0: 2, 2: 4}.get(len(kode), 6)
    by_region = list(
        reports.annotate(sub=Substr("kode_wilayah", 1, width))
        .values_list("sub")
        .annotate(n=Count("id"))
        .order_by("-n", "sub")[:15]
    )
    by_week = [
        (w.date().isoformat() if hasattr(w, "date") else str(w), n)
        for w, n in reports.annotate(w=TruncWeek("created_at"))
        .values_list("w")
        .annotate(n=Count("id"))
        .order_by("w")
    ]
    backlog = list(
        Report.objects.filter(_region_q(kode), state__in=OPEN)
        .values_list("state")
        .annotate(n=Count("id"))
        .order_by("state")
    )
    waits = [
        (answered - created).total_seconds() / 3600
        for created, answered in reports.filter(first_answer_at__isnull=False).values_list(
            "created_at", "first_answer_at"
        )[:200_000]
    ]
    answers = SelfAnswer.objects.filter(_region_q(kode), at__gte=since)
    total = answers.count()
    unfiled = answers.filter(report__isnull=True).count()
    return Figures(
        by_category=by_category,
        by_region=[(r or "-", n) for r, n in by_region],
        by_week=by_week,
        backlog=backlog,
        first_answer_hours=statistics.median(waits) if waits else None,
        answered_before_filing=(unfiled / total) if total else None,
        reports=sum(n for _c, n in by_category),
    )


def bar_chart(rows: list[tuple[str, int]], *, title: str, width: int = 320) -> str:
    """Horizontal bars, one per row, labels left; fits a 360-px phone (scales down)."""
    bar_h, gap, label_w = 22, 6, 110
    height = max(1, len(rows)) * (bar_h + gap) + 30
    top = max([n for _l, n in rows] or [1]) or 1
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} '
        f'{height}" width="100%" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="16" font-size="13" font-weight="600">{escape(title)}</text>',
    ]
    for i, (label, n) in enumerate(rows):
        y = 26 + i * (bar_h + gap)
        w = int((width - label_w - 40) * n / top)
        parts.append(
            f'<text x="0" y="{y + 15}" font-size="12">{escape(str(label)[:16])}</text>'
            f'<rect x="{label_w}" y="{y}" width="{max(w, 1)}" height="{bar_h}" fill="#0b5cad"/>'
            f'<text x="{label_w + w + 4}" y="{y + 15}" font-size="12">{n}</text>'
        )
    if not rows:
        parts.append('<text x="0" y="40" font-size="12">—</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every label is escaped above
