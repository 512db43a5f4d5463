"""The operator portal in Debian's chromium against a live server: an operator signs in with
TOTP, finds a student, downloads the CSV and the PDF, resets a password; a regional admin
sees only their region. Screenshots (desktop and 360 px) go to $AKUN_SCREENS_DIR
(docs/screens) when set."""

import csv
import io
import re

import pyotp
import pytest

from akun.accounts.api import get_initial_password
from akun.audit.models import AuditEvent
from akun.portal import totp
from akun.statistik import api as statistik
from tests import builders
from tests import portal_support as ps
from tests.browser.conftest import fits
from tests.browser.conftest import shot as browser_shot

pytestmark = pytest.mark.django_db(transaction=True)

NPSN = "20104321"
FIRST = ["Siti", "Budi", "Ahmad", "Dewi", "Rina", "Agus", "Putri", "Eko", "Wulan", "Joko"]
LAST = ["Nurhaliza", "Santoso", "Fauzi", "Lestari", "Wati", "Saputra", "Ayu", "Prasetyo"]


def shot(page, name):
    browser_shot(page, f"portal-{name}")


def _world():
    a = builders.school(NPSN, kode_wilayah="320412", nama="SD NEGERI 1 CIBODAS")
    b = builders.school("20104322", kode_wilayah="320413", nama="SD NEGERI 2 LEMBANG")
    c = builders.school(
        "20219999", kode_wilayah="327301", nama="SD NEGERI 9 KOTA BANDUNG", kab="Kota Bandung"
    )
    op = builders.operator(a, local_part="operatorcibodas", nama="Rahmat Hidayat")
    n = 0
    for rombel in ("5A", "5B", "6A"):
        for _ in range(8):
            nama = f"{FIRST[(n * 3) % len(FIRST)]} {LAST[n % len(LAST)]}"
            state = "active" if n % 3 == 0 else "issued"
            builders.student(a, nama, f"murid{n}", rombel=rombel, state=state)
            n += 1
    target = builders.student(a, "Siti Nurhaliza", "sitinurhaliza7", rombel="5A", nisn="0012345678")
    builders.teacher(a, local_part="gurusatu", nama="Sri Mulyani")
    for i in range(5):
        builders.student(b, f"Murid Lembang {i}", f"lembang{i}", rombel="5A")
    builders.student(c, "Murid Kota", "muridkota1")
    statistik.rebuild()  # the builders write accounts behind the change stream
    return {"a": a, "b": b, "c": c, "op": op, "target": target}


def _sign_in_with_totp(page, base, account, prefix):
    page.goto(base + "/operator/")
    page.wait_for_url("**/masuk**")
    page.fill("#id_user_id", account.user_id)
    page.fill("#id_password", builders.PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/operator/verifikasi**")
    assert page.locator(".qr svg").count() == 1
    fits(page)
    shot(page, f"{prefix}totp-setup")
    secret = page.inner_text("#totp-secret").replace(" ", "")
    page.fill("#id_code", pyotp.TOTP(secret).now())
    page.click("button.primary")
    page.wait_for_selector("#recovery-codes")
    assert page.locator("#recovery-codes li").count() == 10
    fits(page)
    shot(page, f"{prefix}recovery-codes")
    page.click("a.btn")


def test_operator_signs_in_finds_downloads_and_resets(live_server, phone, desktop, tmp_path):
    w = _world()
    base = live_server.url
    page = phone
    _sign_in_with_totp(page, base, w["op"], "360-")
    page.wait_for_url(f"**/operator/sekolah/{NPSN}/")
    assert (
        "SD NEGERI 1 CIBODAS" in page.content()
        and "Akun menurut peran dan status" in page.content()
    )
    fits(page)
    shot(page, "360-beranda")

    # Find a student by name.
    page.click("nav.pnav >> text=Akun")
    page.fill("#id_q", "nurhaliza")
    with page.expect_navigation():
        page.click("form.filters button.primary")
    assert "nurhaliza" not in page.url  # a POST: no name in the URL
    names = page.locator(".acc-name").all_inner_texts()
    assert "Siti Nurhaliza" in names
    fits(page)
    shot(page, "360-akun")
    page.click("text=sitinurhaliza7@sd.belajar.test")
    page.wait_for_url(f"**/operator/sekolah/{NPSN}/akun/{w['target'].pk}")
    fits(page)
    shot(page, "360-akun-detail")

    # Reset the password: shown once, the account back to issued.
    page.check("#id_confirm")
    page.click("#reset")
    page.wait_for_selector("#new-password")
    new_password = page.inner_text("#new-password").strip()
    fits(page)
    shot(page, "360-reset")
    w["target"].refresh_from_db()
    assert w["target"].state == "issued" and get_initial_password(w["target"]) == new_password

    # Download the CSV of class 5A and the PDF slips.
    page.click("nav.pnav >> text=Unduh Akun")
    page.select_option("#id_rombel", "5A")
    fits(page)
    shot(page, "360-unduh")
    with page.expect_download() as dl:
        page.click("#dl-csv")
    path = tmp_path / "akun.csv"
    dl.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows[0][0] == "ID Pengguna" and {r[3] for r in rows[1:]} == {"5A"}
    assert any(r[0] == w["target"].user_id and r[5] == new_password for r in rows[1:])
    with page.expect_download() as dl:
        page.click("#dl-pdf")
    pdf = tmp_path / "slip.pdf"
    dl.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF") and dl.value.suggested_filename.endswith(".pdf")
    actions = set(AuditEvent.objects.filter(actor=w["op"].user_id).values_list("action", flat=True))
    assert {"identity.sign_in", "portal.sign_in", "accounts.reissue", "portal.download_csv",
            "portal.download_slips"} <= actions  # fmt: skip

    # Why no account, and the log.
    page.click("nav.pnav >> text=Kenapa tidak ada akun?")
    page.fill("#id_q", "0012345678")
    page.click("button.primary")
    assert "Berhak" in page.content()
    fits(page)
    shot(page, "360-kenapa")
    page.click("nav.pnav >> text=Log")
    assert "accounts.reissue" in page.content()
    fits(page)
    shot(page, "360-log")

    # Another school's NPSN in the URL: not found.
    r = page.goto(base + "/operator/sekolah/20104322/")
    assert r.status == 404

    # The same operator on a desktop (a second session), then sign out everywhere.
    d = desktop
    d.goto(base + "/masuk?next=/operator/")
    d.fill("#id_user_id", w["op"].user_id)
    d.fill("#id_password", builders.PASSWORD)
    d.click("button.primary")
    d.wait_for_url("**/operator/verifikasi**")
    assert d.locator(".qr svg").count() == 0  # already set up: just the code
    shot(d, "desktop-totp")
    secret = totp.secret_of(totp.device_of(w["op"]))
    code = pyotp.TOTP(secret).now()
    d.fill("#id_code", code)
    d.click("button.primary")
    if "/verifikasi" in d.url:  # the phone used this 30-second step's code: wait for the next
        d.wait_for_timeout(31_000)
        d.fill("#id_code", pyotp.TOTP(secret).now())
        d.click("button.primary")
    d.wait_for_url(f"**/operator/sekolah/{NPSN}/")
    shot(d, "desktop-beranda")
    d.goto(base + f"/operator/sekolah/{NPSN}/akun?rombel=5A")
    shot(d, "desktop-akun")
    d.goto(base + f"/operator/sekolah/{NPSN}/unduh")
    shot(d, "desktop-unduh")
    d.goto(base + f"/operator/sekolah/{NPSN}/kenapa")
    d.fill("#id_q", "siti")
    with d.expect_navigation():
        d.click("button.primary")
    assert "Siti" in d.content() and "siti" not in d.url
    shot(d, "desktop-kenapa")
    d.goto(base + "/operator/keamanan")
    shot(d, "desktop-keamanan")
    d.click("#signout-everywhere")
    d.wait_for_url("**/masuk")
    page.goto(base + f"/operator/sekolah/{NPSN}/")
    assert "/masuk" in page.url  # the phone's session ended too


def test_regional_admin_sees_only_their_region(live_server, phone, desktop):
    _world()
    admin = ps.dinas("3204", nama="Dinas Pendidikan Kab Bandung")
    base = live_server.url
    page = desktop
    _sign_in_with_totp(page, base, admin, "desktop-dinas-")
    page.wait_for_url("**/operator/wilayah/3204/")
    body = page.content()
    assert "SD NEGERI 1 CIBODAS" in body and "SD NEGERI 2 LEMBANG" in body
    assert "KOTA BANDUNG" not in body
    shot(page, "desktop-wilayah")
    page.click("#region-table th >> text=Tingkat aktivasi")
    page.wait_for_url("**sort=rate**")
    order = re.findall(r'href="/operator/sekolah/(\d+)/"', page.content())
    assert order == ["20104322", NPSN]  # 0% before ~33%
    assert page.goto(base + "/operator/wilayah/3273/").status == 404
    assert page.goto(base + "/operator/wilayah/32/").status == 404
    assert page.goto(base + "/operator/sekolah/20219999/").status == 404
    assert page.goto(base + f"/operator/sekolah/{NPSN}/").status == 200
    page.goto(base + "/operator/log")
    shot(page, "desktop-dinas-log")
    # The same on a phone: the table scrolls inside its card, the page does not.
    context = phone.context
    context.add_cookies(page.context.cookies())
    phone.goto(base + "/operator/wilayah/3204/")
    fits(phone)
    shot(phone, "360-wilayah")
