"""Personal data stays out of the access log (issue 12 point 9): the real `akun serve
--access-log` (gunicorn), an operator searching by NISN, NIK and name through the pages' own
forms, a Cek Akun lookup, and an old link with the NIK in its query string; then the log is
scanned for the identifiers."""

import datetime as dt
import html
import os
import re
import socket
import subprocess
import sys
import time

import pyotp
import pytest
import requests

from akun.portal import totp
from akun.roster.api import PesertaDidik, nik_hash
from tests import builders
from tests.conftest import database_url_for_subprocess

pytestmark = pytest.mark.django_db(transaction=True)

NPSN = "20100001"
NISN = "0012345678"
NIK = "3204123456780001"
NAME = "Siti Nurhaliza"
BIRTH = "2013-01-02"


def _free_port() -> int:
    for port in range(8130, 8140):  # this engineer's ports
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail("no free port in 8130..8139")


@pytest.fixture
def server(tmp_path):
    port = _free_port()
    log = tmp_path / "access.log"
    env = dict(os.environ, DATABASE_URL=database_url_for_subprocess())
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "akun", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", "1", "--access-log"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail(log.read_text())
        yield base, proc, log
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _form(body: str, containing: str) -> tuple[str, str, dict]:
    """(method, action, hidden fields) of the first form of a page holding `containing`."""
    for attrs, inner in re.findall(r"<form([^>]*)>(.*?)</form>", body, re.S):
        if containing in inner:
            method = re.search(r'method="(\w+)"', attrs)
            action = re.search(r'action="([^"]*)"', attrs)
            hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', inner))
            return (
                (method.group(1) if method else "get").lower(),
                html.unescape(action.group(1)) if action else "",
                {k: html.unescape(v) for k, v in hidden.items()},
            )
    raise AssertionError(f"no form with {containing}")


def _submit(session, base, page_url, containing, fields):
    """Submit a page's form the way a browser does: its method, its action, its hidden fields."""
    page = session.get(base + page_url)
    method, action, hidden = _form(page.text, containing)
    url = base + (action or page_url)
    data = {**hidden, **fields}
    if method == "post":
        return session.post(url, data=data, headers={"Referer": base + page_url})
    return session.get(url, params=data, headers={"Referer": base + page_url})


def test_access_log_holds_no_nisn_nik_name_or_birth_date_after_searches(server):
    base, proc, log = server
    school = builders.school(NPSN, kode_wilayah="320412", nama="SD NEGERI 1 CIBODAS")
    op = builders.operator(school)
    student = builders.student(
        school, NAME, "sitinurhaliza7", nisn=NISN, tanggal_lahir=dt.date.fromisoformat(BIRTH)
    )
    PesertaDidik.objects.filter(pk=student.person_id).update(nik_hash=nik_hash(NIK))

    s = requests.Session()
    # Sign in (password, then the TOTP set-up page) through the pages, over HTTP.
    r = _submit(s, base, "/masuk?next=/operator/", 'name="password"',
                {"user_id": op.user_id, "password": builders.PASSWORD})  # fmt: skip
    assert "/operator/verifikasi" in r.url, r.text[:300]
    code = pyotp.TOTP(totp.secret_of(totp.device_of(op))).now()
    r = _submit(s, base, r.url.removeprefix(base), 'name="code"', {"code": code})
    assert r.status_code == 200  # the recovery codes, shown once
    assert "/verifikasi" not in s.get(base + "/operator/").url

    # The operator's searches, through the pages' own forms.
    accounts = f"/operator/sekolah/{NPSN}/akun"
    why = f"/operator/sekolah/{NPSN}/kenapa"
    for query in (NISN, "nurhaliza"):
        r = _submit(s, base, accounts, 'name="q"', {"q": query})
        assert r.status_code == 200 and NAME in r.text
    for query in (NIK, NISN, "Nurhaliza"):
        r = _submit(s, base, why, 'name="q"', {"q": query})
        assert r.status_code == 200 and NAME in r.text and "Berhak" in r.text
    # "Why" from the account's own page.
    r = _submit(s, base, f"{accounts}/{student.pk}", 'name="q"', {})
    assert r.status_code == 200 and "Berhak" in r.text
    # Cek Akun, anonymous.
    lookup = {"role": "peserta_didik", "npsn": NPSN, "nama": NAME, "tanggal_lahir": BIRTH}
    r = _submit(requests.Session(), base, "/cek-akun", 'name="nama"', lookup)
    assert student.user_id in r.text
    # An old link or bookmark with the NIK in its query string, and a referer holding one.
    s.get(base + why, params={"q": NIK}, headers={"Referer": f"{base}{why}?q={NISN}"})

    proc.terminate()
    proc.wait(timeout=30)
    text = log.read_text()
    assert f"POST {why}" in text and f"POST {accounts}" in text and "POST /cek-akun" in text
    assert f"GET {why}" in text  # the bookmark's request is logged, without its query
    for secret in (NISN, NIK, "nurhaliza", "Nurhaliza", BIRTH, NAME.split()[0]):
        assert secret not in text, (secret, [line for line in text.splitlines() if secret in line])
