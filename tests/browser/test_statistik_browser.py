"""The public statistics page in Debian's chromium on a 360-px phone and a desktop: no
sign-in, the totals, the SVG charts and the table fit the screen, the downloads work.
Screenshots go to $AKUN_SCREENS_DIR (docs/screens) when set."""

import datetime as dt
import os
from pathlib import Path

import pytest

from akun.core import clock
from akun.statistik import api as statistik
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)

SCREENS = os.environ.get("AKUN_SCREENS_DIR", "")
PLACES = [
    ("320412", "Kab. Bandung", "Prov. Jawa Barat", 60, 0.7),
    ("350101", "Kab. Pacitan", "Prov. Jawa Timur", 40, 0.45),
    ("110101", "Kab. Aceh Selatan", "Prov. Aceh", 25, 0.2),
    ("940101", "Kab. Merauke", "Prov. Papua Selatan", 12, 0.5),
]


def shot(page, name):
    if SCREENS:
        Path(SCREENS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENS) / f"statistik-{name}.png"), full_page=True)


def fits(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def _country():
    n = 0
    start = dt.datetime(2026, 8, 1, 5, tzinfo=dt.UTC)
    for kode, kab, prov, students, share in PLACES:
        s = builders.sekolah("SD", kode_wilayah=kode, kab=kab, prov=prov)
        t = builders.ptk(s, nama="Guru")
        for i in range(students):
            p = builders.peserta_didik(s, 5, nama=f"Murid {i}")
            active = i < students * share
            clock.freeze(start + dt.timedelta(days=(i * 7) % 20))  # activated over 20 days
            builders.account(f"murid{n}", "peserta_didik", p.peserta_didik_id, "peserta_didik",
                             s, "Murid", state="active" if active else "issued")  # fmt: skip
            n += 1
        builders.account(f"guru{n}", "ptk", t.ptk_id, "pendidik", s, "Guru", state="active")
    statistik.rebuild()  # the builders write behind the change stream


def test_public_statistics_on_a_phone_and_a_desktop(live_server, phone, desktop):
    _country()
    clock.freeze(dt.datetime(2026, 8, 20, 5, tzinfo=dt.UTC))  # the live server's day too
    page = phone
    page.goto(live_server.url + "/statistik/")
    assert page.locator("#total-pd").inner_text() == "137"
    assert page.locator("h1").inner_text() == "Akun belajar di Indonesia"
    chart = page.locator("svg.chart").first
    box = chart.bounding_box()
    assert box["width"] <= 360 and box["height"] > 50
    assert chart.locator("rect.bar").count() == len(PLACES)
    assert page.locator("svg.trend rect.bar").count() == 30
    heights = [float(h) for h in page.locator("svg.trend rect.bar").evaluate_all(
        "rs => rs.map(r => r.getAttribute('height'))")]  # fmt: skip
    assert sum(1 for h in heights if h > 0) >= 10
    assert page.locator("#provinces tbody tr").count() == len(PLACES)
    assert "Jawa Barat" in page.locator("#provinces").inner_text()
    fits(page)
    shot(page, "360")
    with page.expect_download() as dl:
        page.get_by_text("Per provinsi (CSV)").click()
    path = dl.value.path()
    assert Path(path).read_text(encoding="utf-8").startswith("kode,nama,peserta_didik")
    desktop.goto(live_server.url + "/statistik/")
    fits(desktop)
    shot(desktop, "desktop")
