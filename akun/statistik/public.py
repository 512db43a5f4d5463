"""The public statistics: national totals, activation by province (an SVG chart and a
table), the daily trend of activations, and the same as open data (CSV, JSON).

No personal data and nothing below a province: the smallest published group is a
province (thousands of accounts nationally). A cell under MIN_PUBLIC accounts is withheld
all the same (a tiny or young installation), and a rate needs MIN_PUBLIC accounts under it.
"""

import dataclasses
import datetime as dt

from akun.core import clock
from akun.statistik import api

MIN_PUBLIC = 10
TREND_DAYS = 30
ROLES = ("peserta_didik", "pendidik", "tenaga_kependidikan")


def _public(n: int) -> int | None:
    return n if n >= MIN_PUBLIC else None


@dataclasses.dataclass
class Row:
    kode: str
    nama: str
    peserta_didik: int | None
    pendidik: int | None
    tenaga_kependidikan: int | None
    accounts: int | None
    active: int | None
    rate: float | None  # active / (issued + active), percent

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _row(g) -> Row:
    # A rate with its base would give away a small active (or issued) count: both are needed.
    base = g.active + g.issued
    shown = g.active >= MIN_PUBLIC and g.issued >= MIN_PUBLIC
    rate = round(100.0 * g.active / base, 1) if shown else None
    nama = g.nama.removeprefix("Prov. ") if g.nama else (g.kode or "Indonesia")
    return Row(
        g.kode,
        nama,
        *(_public(g.role(r)) for r in ROLES),
        _public(sum(g.role(r) for r in ROLES)),
        _public(sum(n for (r, s), n in g.cells.items() if s == "active" and r in ROLES)),
        rate,
    )


def provinces() -> list[Row]:
    return [_row(g) for g in api.regions("")]


def national() -> Row:
    return _row(api.national())


def trend(days: int = TREND_DAYS) -> list[tuple[dt.date, int]]:
    """Activations per day for the last `days` days, every day listed (0 if none)."""
    today = clock.today()
    since = today - dt.timedelta(days=days - 1)
    got = dict(api.daily("activated", since=since))
    return [(d, got.get(d, 0)) for d in (since + dt.timedelta(i) for i in range(days))]


# --- SVG, drawn here: bars and labels as positions, no script ----------------------------

CHART_W = 360
LABEL_W = 112
BAR_W = 196
BAR_H = 18
GAP = 6


def rate_chart(rows: list[Row]) -> dict:
    bars = []
    for i, r in enumerate(rows):
        y = GAP + i * (BAR_H + GAP)
        w = 0 if r.rate is None else round(BAR_W * r.rate / 100, 1)
        bars.append(
            {"y": y, "text_y": y + BAR_H - 4, "w": w, "label": r.nama[:18], "rate": r.rate,
             "x": LABEL_W, "value_x": LABEL_W + w + 4}
        )  # fmt: skip
    return {
        "width": CHART_W,
        "height": GAP + len(rows) * (BAR_H + GAP),
        "label_x": LABEL_W - 4,
        "bar_h": BAR_H,
        "bars": bars,
        "grid": [{"x": LABEL_W + BAR_W * p / 100, "p": p} for p in (0, 50, 100)],
    }


def trend_chart(days: list[tuple[dt.date, int]]) -> dict:
    height, top, bottom = 150, 16, 22
    most = max((n for _d, n in days), default=0) or 1
    step = (CHART_W - 8) / max(1, len(days))
    bars = []
    for i, (day, n) in enumerate(days):
        h = round((height - top - bottom) * n / most, 1)
        bars.append(
            {"x": round(4 + i * step, 1), "w": round(step * 0.8, 1), "h": h,
             "y": round(height - bottom - h, 1), "day": day, "n": n}
        )  # fmt: skip
    return {
        "width": CHART_W,
        "height": height,
        "bars": bars,
        "most": most,
        "base_y": height - bottom,
        "label_y": height - 5,
        "first": days[0][0] if days else None,
        "last": days[-1][0] if days else None,
        "last_x": CHART_W - 4,
    }
