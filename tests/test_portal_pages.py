"""The operator's pages: Beranda counts, the account list (search, filters, pages), the CSV
(accounts' own export) and the PDF slips, the reset, why-no-account, regional tables, the
audit log, page weight, headers and translations."""

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.test import Client

from akun.accounts.api import export_accounts_csv, get_initial_password
from akun.accounts.models import Account
from akun.audit.models import AuditEvent
from akun.core import clock
from akun.statistik import api as statistics
from tests import builders
from tests import portal_support as ps

pytestmark = pytest.mark.django_db

NPSN = "20100001"


@pytest.fixture
def world():
    a = builders.school(NPSN, kode_wilayah="320412", nama="SD NEGERI 1 CIBODAS")
    b = builders.school("20100002", kode_wilayah="320413", nama="SD NEGERI 2 LEMBANG")
    c = builders.school(
        "20200003", kode_wilayah="327301", nama="SD NEGERI 3 KOTA", kab="Kota Bandung"
    )
    op = builders.operator(a)
    s1 = builders.student(a, "Siti Nurhaliza", "sitinurhaliza7", rombel="5A", nisn="0012345678")
    s2 = builders.student(a, "Budi Santoso", "budisantoso12", rombel="6B", state="active")
    s3 = builders.student(a, "Ahmad Fauzi", "ahmadfauzi3", rombel="5A")
    t = builders.teacher(a)
    other = builders.student(b, "Dewi Lestari", "dewilestari1", rombel="5A", nisn="0099999999")
    builders.student(c, "Rina Kota", "rinakota1")
    statistics.rebuild()  # the builders write accounts behind the change stream
    return {"a": a, "b": b, "c": c, "op": op, "s1": s1, "s2": s2, "s3": s3, "t": t, "other": other}


@pytest.fixture
def opc(client, world):
    ps.sign_in(client, world["op"])
    return client


def test_beranda_counts_rate_and_deadline(opc, world, settings):
    settings.AKUN_ACTIVATION_DEADLINE = dt.date(2099, 12, 31)
    body = opc.get(f"/operator/sekolah/{NPSN}/").content.decode()
    assert "SD NEGERI 1 CIBODAS" in body
    counts = re.search(r'<table class="list counts" id="counts">(.*?)</table>', body, re.S).group(1)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", counts, re.S)[1:]
    cells = [re.findall(r'<td class="n">(?:<strong>)?(\d+)', row) for row in rows]
    # columns: students, teachers, school admins; rows: issued, active, suspended,
    # deactivated, total. Students: 2 issued, 1 active; the teacher and the operator active.
    assert cells == [
        ["2", "0", "0"],
        ["1", "1", "1"],
        ["0", "0", "0"],
        ["0", "0", "0"],
        ["3", "1", "1"],
    ]
    assert re.search(r'<span class="num">5</span><span>akun</span>', body)
    assert 'id="activation-rate">60,0%' in body  # 3 active of 5
    assert "31 Des 2099" in body and "hari lagi" in body


def _names(body):
    return re.findall(r'<span class="acc-name">([^<]+)</span>', body)


def test_account_list_search_and_filters(opc, world):
    url = f"/operator/sekolah/{NPSN}/akun"
    assert set(_names(opc.get(url).content.decode())) == {
        "Siti Nurhaliza",
        "Budi Santoso",
        "Ahmad Fauzi",
        "Guru Satu",
        "Operator Sekolah",
    }
    assert _names(opc.post(url, {"q": "siti"}).content.decode()) == ["Siti Nurhaliza"]
    assert _names(opc.post(url, {"q": "0012345678"}).content.decode()) == ["Siti Nurhaliza"]
    assert _names(opc.post(url, {"q": "budisantoso12"}).content.decode()) == ["Budi Santoso"]
    assert _names(opc.post(url, {"q": "6543210987654321"}).content.decode()) == ["Guru Satu"]
    assert _names(opc.post(url, {"q": "Dewi"}).content.decode()) == []  # school B's
    assert _names(opc.post(url, {"q": "0099999999"}).content.decode()) == []
    assert _names(opc.post(url, {"q": "ahmad", "rombel": "5A"}).content.decode()) == ["Ahmad Fauzi"]
    assert set(_names(opc.get(url, {"rombel": "5A"}).content.decode())) == {
        "Siti Nurhaliza",
        "Ahmad Fauzi",
    }
    assert _names(opc.get(url, {"role": "pendidik"}).content.decode()) == ["Guru Satu"]
    assert _names(opc.get(url, {"role": "peserta_didik", "state": "active"}).content.decode()) == [
        "Budi Santoso"
    ]


def test_account_list_is_paginated(opc, world):
    for i in range(60):
        builders.student(world["a"], f"Murid {i:02d}", f"murid{i}", rombel="4C")
    body = opc.get(f"/operator/sekolah/{NPSN}/akun", {"rombel": "4C"}).content.decode()
    assert len(_names(body)) == 50 and "60 akun" in body
    assert "rombel=4C&amp;page=2" in body
    body = opc.get(f"/operator/sekolah/{NPSN}/akun", {"rombel": "4C", "page": 2}).content.decode()
    assert len(_names(body)) == 10


def _forms(body):
    """(method, the form's HTML) of every form of a page."""
    return [
        (m.lower(), f) for m, f in re.findall(r'<form[^>]*method="(\w+)"(.*?)</form>', body, re.S)
    ]


def test_searches_by_personal_identifiers_never_put_them_in_a_url(opc, world):
    """A NISN, NIK or name in a query string lands in access logs, proxies and history: the
    searches are POSTs, a query string is not searched, and no link carries one."""
    for path in (f"/operator/sekolah/{NPSN}/akun", f"/operator/sekolah/{NPSN}/kenapa"):
        body = opc.get(path).content.decode()
        searches = [(m, f) for m, f in _forms(body) if 'name="q"' in f]
        assert searches and all(m == "post" for m, _ in searches), path
        assert all("csrfmiddlewaretoken" in f for _, f in searches)
        # An old link or bookmark with ?q= is not searched, nor put in the search field.
        body = opc.get(path, {"q": "0012345678"}).content.decode()
        assert 'value="0012345678"' not in body and "Berhak" not in body
    body = opc.get(f"/operator/sekolah/{NPSN}/akun", {"q": "0012345678"}).content.decode()
    assert len(_names(body)) == 5  # the whole list, unfiltered
    # The account page asks "why" with a POST of the NISN, not a link holding it.
    body = opc.get(f"/operator/sekolah/{NPSN}/akun/{world['s1'].pk}").content.decode()
    assert "NISN" in body or "0012345678" in body
    assert not re.search(r'href="[^"]*\?[^"]*(0012345678|Siti|q=)', body)
    why = re.search(rf'<form method="post" action="/operator/sekolah/{NPSN}/kenapa".*?</form>',
                    body, re.S)  # fmt: skip
    assert why and 'name="q" value="0012345678"' in why.group(0)


def test_account_search_pages_by_post_keeping_the_search(opc, world):
    for i in range(60):
        builders.student(world["a"], f"Murid {i:02d}", f"murid{i}", rombel="4C")
    url = f"/operator/sekolah/{NPSN}/akun"
    body = opc.post(url, {"q": "murid"}).content.decode()
    assert len(_names(body)) == 50 and "60 akun" in body
    nav = re.search(r'<nav class="pages".*?</nav>', body, re.S).group(0)
    assert 'method="post"' in nav and 'name="q" value="murid"' in nav
    assert 'name="page" value="2"' in nav and "?" not in nav
    body = opc.post(url, {"q": "murid", "page": "2"}).content.decode()
    assert len(_names(body)) == 10 and all(n.startswith("Murid") for n in _names(body))


def test_csv_is_the_accounts_export_and_can_be_one_class(opc, world):
    r = opc.get(f"/operator/sekolah/{NPSN}/unduh/akun.csv", {"role": "peserta_didik"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert "attachment" in r["Content-Disposition"]
    same = export_accounts_csv(NPSN, role="peserta_didik", actor="test").content
    assert r.content == same  # the very file of `akun accounts export`
    assert AuditEvent.objects.filter(
        action="accounts.export", actor=world["op"].user_id, npsn=NPSN
    ).exists()

    r = opc.get(
        f"/operator/sekolah/{NPSN}/unduh/akun.csv", {"role": "peserta_didik", "rombel": "5A"}
    )
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0] == "ID Pengguna"
    assert sorted(row[1] for row in rows[1:]) == ["Ahmad Fauzi", "Siti Nurhaliza"]
    assert all(row[5] == "Kt4mPq7rXa" for row in rows[1:])
    ev = AuditEvent.objects.get(action="portal.download_csv")
    assert ev.npsn == NPSN and ev.after["rombel"] == "5A" and ev.after["rows"] == 2

    r = opc.get(f"/operator/sekolah/{NPSN}/unduh/akun.csv", {"role": "ptk"})
    names = [row[1] for row in csv.reader(io.StringIO(r.content.decode().lstrip("\ufeff")))][1:]
    assert sorted(names) == ["Guru Satu", "Operator Sekolah"]


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page[^s]", pdf))


def test_pdf_slips_for_a_class_and_the_whole_school(opc, world):
    for i in range(12):
        builders.student(world["a"], f"Murid {i:02d}", f"murid{i}", rombel="4C")
    r = opc.get(f"/operator/sekolah/{NPSN}/unduh/slip.pdf", {"role": "peserta_didik"})
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    # 14 issued students (the active one has no initial password): 10 per page.
    assert _pages(r.content) == 2
    ev = AuditEvent.objects.get(action="portal.download_slips")
    assert ev.npsn == NPSN and ev.after["slips"] == 14 and ev.actor == world["op"].user_id
    r = opc.get(
        f"/operator/sekolah/{NPSN}/unduh/slip.pdf", {"role": "peserta_didik", "rombel": "5A"}
    )
    assert _pages(r.content) == 1
    assert AuditEvent.objects.filter(action="portal.download_slips").last().after["slips"] in (
        2,
        14,
    )
    assert AuditEvent.objects.filter(action="portal.download_slips", after__slips=2).exists()


def test_slip_contents(world):
    from akun.portal.actions import slip_accounts
    from akun.portal.slips import render_slips

    slips = slip_accounts([world["a"].pk], role="peserta_didik", rombel="5A")
    assert [(s.nama, s.rombel, s.user_id, s.password) for s in slips] == [
        ("Ahmad Fauzi", "5A", "ahmadfauzi3@sd.belajar.test", "Kt4mPq7rXa"),
        ("Siti Nurhaliza", "5A", "sitinurhaliza7@sd.belajar.test", "Kt4mPq7rXa"),
    ]
    pdf = render_slips(slips, school="SD NEGERI 1 CIBODAS", signin_url="https://akun.example/masuk")
    # Drawn once, placed by reference: the QR code and the slip template (labels, address).
    assert pdf.count(b"/Subtype /Form") == 2
    text = render_slips(
        slips, school="SD NEGERI 1 CIBODAS", signin_url="https://akun.example/masuk", compress=False
    )
    for needle in (b"Ahmad Fauzi", b"ahmadfauzi3@sd.belajar.test", b"Kt4mPq7rXa", b"5A"):
        assert needle in text
    assert b"https://akun.example/masuk" in text
    assert text.count(b"[3 3] 0 d") >= 1  # dashed cut lines


def test_reset_password_shows_it_once_and_puts_it_in_the_next_download(opc, world):
    s2 = world["s2"]  # active
    url = f"/operator/sekolah/{NPSN}/akun/{s2.pk}"
    assert "Atur ulang kata sandi" in opc.get(url).content.decode()
    r = opc.post(url + "/reset", {})  # not confirmed
    assert r.status_code == 302
    s2.refresh_from_db()
    assert s2.state == "active"
    r = opc.post(url + "/reset", {"confirm": "on"})
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    password = re.search(r'id="new-password">([^<]+)<', r.content.decode()).group(1)
    s2.refresh_from_db()
    assert s2.state == "issued" and get_initial_password(s2) == password
    ev = AuditEvent.objects.get(action="accounts.reissue", object_id=s2.user_id)
    assert ev.actor == world["op"].user_id and ev.npsn == NPSN
    assert ev.before["state"] == "active" and ev.after["state"] == "issued"
    csv_text = opc.get(f"/operator/sekolah/{NPSN}/unduh/akun.csv", {"role": "peserta_didik"})
    assert password in csv_text.content.decode()
    assert password not in opc.get(url).content.decode()  # shown once only
    # The old password is dead, the new one starts activation.
    r = Client().post("/masuk", {"user_id": s2.user_id, "password": builders.PASSWORD})
    assert r.status_code == 200
    r = Client().post("/masuk", {"user_id": s2.user_id, "password": password})
    assert r.status_code == 302 and "/aktivasi/" in r["Location"]


def test_reset_refused_for_a_suspended_account(opc, world):
    Account.objects.filter(pk=world["s1"].pk).update(state="suspended")
    r = opc.post(f"/operator/sekolah/{NPSN}/akun/{world['s1'].pk}/reset", {"confirm": "on"})
    assert r.status_code == 302
    world["s1"].refresh_from_db()
    assert world["s1"].state == "suspended"


def test_why_no_account_by_nisn_name_and_nuptk_at_this_school_only(opc, world):
    url = f"/operator/sekolah/{NPSN}/kenapa"
    body = opc.post(url, {"q": "0012345678"}).content.decode()
    assert "Siti Nurhaliza" in body and "sitinurhaliza7@sd.belajar.test" in body
    assert "Berhak" in body
    body = opc.post(url, {"q": "fauzi"}).content.decode()
    assert "Ahmad Fauzi" in body and "ahmadfauzi3" in body
    body = opc.post(url, {"q": "6543210987654321"}).content.decode()
    assert "Guru Satu" in body and "gurusatu" in body
    body = opc.post(url, {"q": "0099999999"}).content.decode()  # school B's student
    assert 'id="no-match"' in body and "Dewi" not in body
    opc.post("/i18n/setlang/", {"language": "en", "next": url})
    body = opc.post(url, {"q": "0012345678"}).content.decode()
    assert "Eligible" in body and "Why no account?" in body


def test_region_table_counts_sort_and_csv(client, world):
    ps.sign_in(client, ps.dinas("32", nama="Admin Provinsi"))
    body = client.get("/operator/wilayah/32/").content.decode()
    assert "Kab. Bandung" in body and "Kota Bandung" in body
    body = client.get("/operator/wilayah/3204/", {"sort": "total", "dir": "desc"}).content.decode()
    order = re.findall(r'<a href="/operator/sekolah/(\d+)/">', body)
    assert order == [NPSN, "20100002"]  # 5 accounts before 1
    body = client.get("/operator/wilayah/3204/", {"sort": "total"}).content.decode()
    assert re.findall(r'<a href="/operator/sekolah/(\d+)/">', body) == ["20100002", NPSN]
    r = client.get("/operator/wilayah/3204/sekolah.csv", {"sort": "rate", "dir": "desc"})
    rows = list(csv.reader(io.StringIO(r.content.decode().lstrip("\ufeff"))))
    assert rows[0][0] == "Kode" and rows[1][:4] == [NPSN, "SD NEGERI 1 CIBODAS", "1", "5"]
    assert rows[1][-1] == "60.0" and rows[2][-1] == "0.0"
    ev = AuditEvent.objects.get(action="portal.download_region_csv")
    assert ev.kode_wilayah == "3204" and ev.after["rows"] == 2


def test_audit_log_shows_the_scope_only(client, opc, world):
    opc.get(f"/operator/sekolah/{NPSN}/unduh/akun.csv", {"role": "peserta_didik"})
    AuditEvent.objects.create(
        at=world["a"].pk and clock.now(), actor="x", action="accounts.export", npsn="20100002"
    )
    body = opc.get(f"/operator/sekolah/{NPSN}/log").content.decode()
    assert "accounts.export" in body and "portal.sign_in" in body and "identity.sign_in" in body
    assert "20100002" not in body


def test_pages_are_small_and_protected(opc, world):
    for path in ("/", "akun", "unduh", "kenapa", "log"):
        url = f"/operator/sekolah/{NPSN}/" + ("" if path == "/" else path)
        r = opc.get(url)
        assert r.status_code == 200
        assert len(r.content) < 100_000, (url, len(r.content))
        assert r["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in r["Content-Security-Policy"]
        assert "no-store" in r["Cache-Control"]
        assert 'name="csrfmiddlewaretoken"' in r.content.decode() or path in ("/", "log")
    css = Path("akun/portal/static/portal/portal.css").stat().st_size
    assert css < 10_000


def test_every_portal_string_is_translated_to_indonesian():
    po = Path("akun/portal/locale/id/LC_MESSAGES/django.po").read_text(encoding="utf-8")
    entries = po.split("\n\n")[1:]
    empty = [
        e
        for e in entries
        if re.search(r'msgstr(\[0\])? ""\n?$', e.strip() + "\n") and "#~" not in e
    ]
    assert entries and not empty, empty[:3]
    assert "#, fuzzy" not in po
    mo = Path("akun/portal/locale/id/LC_MESSAGES/django.mo")
    assert mo.exists() and mo.stat().st_mtime >= Path(po and mo).stat().st_mtime - 1


def test_english_is_switchable(opc, world):
    opc.post("/i18n/setlang/", {"language": "en", "next": "/operator/"})
    body = opc.get(f"/operator/sekolah/{NPSN}/").content.decode()
    assert "Accounts by role and state" in body and 'lang="en"' in body


def test_beranda_uses_the_lifecycle_deadline_and_count_down(opc, world):
    import datetime as dt

    from akun.accounts.models import IssueRun
    from akun.core import clock
    from akun.lifecycle import api as lifecycle

    now = clock.now()
    run = IssueRun.objects.create(started_at=now, heartbeat_at=now, actor="test")
    Account.objects.filter(sekolah=world["a"]).update(issue_run=run.pk)
    day = clock.today() + dt.timedelta(days=10)
    lifecycle.do_set_deadline(day, actor="test")
    body = opc.get(f"/operator/sekolah/{NPSN}/").content.decode()
    deadline = re.search(r'<div class="stat" id="deadline">(.*?)</div>', body, re.S).group(1)
    assert "10 hari lagi" in deadline and "2 belum diaktifkan" in deadline
