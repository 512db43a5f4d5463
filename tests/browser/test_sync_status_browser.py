"""The sync status on a 360-px phone in Debian's chromium: the operator's "Akun Google"
block (counts, the failed accounts with their reason in Indonesian, retry) and Akun Saya's
"Akun Google". Screenshots go to $AKUN_SCREENS_DIR (docs/screens) when set."""

import os
from pathlib import Path

import pyotp
import pytest

from akun.provisioning.models import Provisioned
from tests import builders
from tests.provisioning_support import provisioned, target

pytestmark = pytest.mark.django_db(transaction=True)

SCREENS = os.environ.get("AKUN_SCREENS_DIR", "")
NPSN = "20104321"


def shot(page, heading, block, name):
    """The heading and its block, as they sit on the phone's screen."""
    if SCREENS:
        Path(SCREENS).mkdir(parents=True, exist_ok=True)
        heading.scroll_into_view_if_needed()
        scroll = page.evaluate("window.scrollY")  # bounding boxes are on the viewport
        top, bottom = heading.bounding_box(), block.bounding_box()
        y = max(top["y"] + scroll - 8, 0)
        end = bottom["y"] + scroll + bottom["height"] + 8
        clip = {"x": 0, "y": y, "width": 360, "height": end - y}
        page.screenshot(path=str(Path(SCREENS) / f"{name}.png"), clip=clip, full_page=True)


def fits(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def _world():
    a = builders.school(NPSN, kode_wilayah="320412", nama="SD NEGERI 1 CIBODAS")
    op = builders.operator(a, local_part="operatorcibodas", nama="Rahmat Hidayat")
    g = target("google")
    people = [
        ("Siti Nurhaliza", "sitinurhaliza7", "synced", "", ""),
        ("Budi Santoso", "budisantoso12", "synced", "", ""),
        ("Ahmad Fauzi", "ahmadfauzi3", "pending", "quota", ""),
        ("I", "i1", "failed", "name_rejected", "Invalid Given/Family Name"),
        ("Dewi Lestari", "dewilestari1", "failed", "conflict", ""),
    ]
    out = {}
    for nama, local, state, reason, detail in people:
        s = builders.student(a, nama, local, state="active")
        provisioned(g, s, state, reason=reason, detail=detail, synced=state == "synced")
        out[local] = s
    return op, out


def test_operator_block_and_retry_on_a_phone(live_server, phone):
    op, people = _world()
    page, base = phone, live_server.url
    page.goto(base + "/operator/")
    page.wait_for_url("**/masuk**")
    page.fill("#id_user_id", op.user_id)
    page.fill("#id_password", builders.PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/operator/verifikasi**")
    secret = page.inner_text("#totp-secret").replace(" ", "")
    page.fill("#id_code", pyotp.TOTP(secret).now())
    page.click("button.primary")
    page.wait_for_selector("#recovery-codes")
    page.goto(f"{base}/operator/sekolah/{NPSN}/")
    block = page.locator(".sync-card")
    assert page.inner_text("#sync-synced") == "2" and page.inner_text("#sync-failed") == "2"
    text = block.inner_text()
    assert "nama ditolak Google: Invalid Given/Family Name" in text
    assert "menunggu kuota" in text
    fits(page)
    shot(page, page.locator("h2#google"), block, "portal-360-akun-google")
    page.locator("#sync-problems li", has_text="Dewi Lestari").locator("button").click()
    page.wait_for_selector(".messages")
    assert "1 akun akan dikirim lagi ke Google" in page.inner_text(".messages")
    assert page.inner_text("#sync-failed") == "1"
    row = Provisioned.objects.get(account_id=people["dewilestari1"].pk)
    assert row.state == "pending" and row.priority == Provisioned.Priority.URGENT


def test_akun_saya_block_on_a_phone(live_server, phone):
    _op, people = _world()
    page, s = phone, people["sitinurhaliza7"]
    page.goto(live_server.url + "/masuk")
    page.fill("#id_user_id", s.user_id)
    page.fill("#id_password", builders.PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/akun-saya")
    block = page.locator("#sync-google")
    assert "tersinkron" in block.inner_text() and "Sinkron terakhir" in block.inner_text()
    fits(page)
    shot(page, page.locator("h2", has_text="Akun Google"), block, "akun-saya-360-akun-google")
