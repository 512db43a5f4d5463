"""Butuh Bantuan in Debian's chromium: a student on a 360-px phone asks for help, gets the
answer from the account's state, files a report and gets its number; an agent of the
regency signs in (TOTP), opens the report from the queue and answers with a canned reply.
Screenshots go to $AKUN_SCREENS_DIR (docs/screens) when set."""

import os
import re
from pathlib import Path

import pyotp
import pytest
from django.core import mail

from akun.helpdesk.models import Report
from tests import builders
from tests import helpdesk_support as hs

pytestmark = pytest.mark.django_db(transaction=True)

SCREENS = os.environ.get("AKUN_SCREENS_DIR", "")


def shot(page, name):
    if SCREENS:
        Path(SCREENS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENS) / f"helpdesk-{name}.png"), full_page=True)


def fits(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


@pytest.fixture
def server():
    port = hs.port(10)
    thread = hs.live_server_on(port)
    yield f"http://127.0.0.1:{port}"
    thread.terminate()


def test_student_files_on_a_phone_and_an_agent_answers(server, phone, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    w = hs.world()
    agent = hs.agent("3204", nama="Agen Bandung")
    page = phone

    # From any public page: "Butuh Bantuan?".
    page.goto(server + "/masuk")
    page.click("#butuh-bantuan")
    page.wait_for_url("**/bantuan/")
    page.check("input[name=who][value=student]")
    page.check("input[name=category][value=account]")
    fits(page)
    shot(page, "360-1-start")
    page.click("#help-start button.primary")
    page.fill("#id_npsn", "20400001")
    page.fill("#id_nama", "Siti Nurhaliza")
    page.fill("#id_tanggal_lahir", "2013-01-02")
    fits(page)
    shot(page, "360-2-details")
    page.click("#help-details button.primary")
    page.wait_for_selector("#help-answer")
    answer = page.inner_text("#help-answer")
    assert "sitinurhaliza7@sd.belajar.test" in answer and "belum diaktifkan" in answer
    fits(page)
    shot(page, "360-3-answer")

    # It does not help: file the report.
    page.fill("#help-file #id_contact_email", "siti.n@gmail.com")
    page.fill("#help-file #id_description", "Slip kata sandi saya hilang.")
    page.click("#help-file button.primary")
    page.wait_for_selector("#report-number")
    shown = page.inner_text("#report-number").strip()
    assert re.fullmatch(r"#[2-9A-Z]{4}-[2-9A-Z]{4}", shown)
    report = Report.objects.get()
    assert report.display_number == shown and report.account_id == w["issued"].pk
    assert any(shown in m.subject for m in mail.outbox)
    fits(page)
    shot(page, "360-4-filed")

    # The agent signs in (password, then TOTP set up on the phone) and opens the queue.
    page.context.clear_cookies()
    page.goto(server + "/bantuan/agen/")
    page.wait_for_url("**/masuk**")
    page.fill("#id_user_id", agent.user_id)
    page.fill("#id_password", builders.PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/operator/verifikasi**")
    secret = page.inner_text("#totp-secret").replace(" ", "")
    page.fill("#id_code", pyotp.TOTP(secret).now())
    page.click("button.primary")
    page.wait_for_selector("#recovery-codes")
    page.click("a.btn")
    page.wait_for_url("**/bantuan/agen/")
    assert shown in page.inner_text("#queue")
    fits(page)
    shot(page, "360-5-queue")
    page.click(f"text={shown}")
    page.wait_for_url(f"**/bantuan/agen/laporan/{report.number}")
    assert "Slip kata sandi saya hilang." in page.content()
    shot(page, "360-6-report")

    # Answer with a canned reply; the report waits for the person.
    page.select_option("#id_reply-canned", "activate")
    page.click("#reply-form button.primary")
    page.wait_for_selector(".msg.success")
    report.refresh_from_db()
    assert report.state == "waiting_person" and report.first_answer_at is not None
    reply = [m for m in mail.outbox if m.subject.startswith("Re: ")][-1]
    assert "kata sandi awal" in reply.body and reply.to == ["siti.n@gmail.com"]
    assert "menunggu pelapor" in page.inner_text("#report-state")
    fits(page)
    shot(page, "360-7-answered")
