"""The sync status people read: the operator's school block (counts, failed accounts with
the reason in plain Indonesian, retry), the region and national counts, Akun Saya's "Akun
Google", and `akun accounts explain`. Counts are one GROUP BY each (set-based)."""

import json
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from akun.audit.models import AuditEvent
from akun.provisioning import api
from akun.provisioning.models import Provisioned
from akun.statistik import api as statistics
from tests import builders
from tests import portal_support as ps
from tests.provisioning_support import provisioned, target

pytestmark = pytest.mark.django_db

NPSN = "20100001"


@pytest.fixture
def world():
    a = builders.school(NPSN, kode_wilayah="320412", nama="SD NEGERI 1 CIBODAS")
    b = builders.school("20100002", kode_wilayah="320413", nama="SD NEGERI 2 LEMBANG")
    c = builders.school(
        "20200003", kode_wilayah="327301", nama="SD NEGERI 3 KOTA", kab="Kota Bandung"
    )
    d = builders.school(
        "30100004", kode_wilayah="310101", nama="SD NEGERI 4 JAKARTA", kab="Kota Jakarta"
    )
    op = builders.operator(a)
    s1 = builders.student(a, "Siti Nurhaliza", "sitinurhaliza7")
    s2 = builders.student(a, "Budi Santoso", "budisantoso12", state="active")
    s3 = builders.student(a, "Ahmad Fauzi", "ahmadfauzi3")
    s4 = builders.student(a, "I", "i1")
    other = builders.student(b, "Dewi Lestari", "dewilestari1")
    kota = builders.student(c, "Rina Kota", "rinakota1")
    jkt = builders.student(d, "Joko Jakarta", "jokojakarta1")
    g = target("google")
    provisioned(g, s2, "synced")
    provisioned(g, s1, "pending", reason="quota", synced=False)
    provisioned(g, s3, "failed", reason="name_rejected", detail="Invalid Given/Family Name: I")
    provisioned(g, s4, "failed", reason="conflict", synced=False)
    provisioned(g, other, "failed", reason="target_error", synced=False)
    provisioned(g, kota, "synced")
    provisioned(g, jkt, "pending", synced=False)
    # A disabled target counts for nothing.
    provisioned(target("lama", enabled=False), s2, "failed", reason="invalid")
    # The rows above were made behind provisioning's own writes: counted again, as a repair.
    statistics.rebuild()
    return locals()


@pytest.fixture
def opc(client, world):
    ps.sign_in(client, world["op"])
    return client


def _counts(c):
    return (c.synced, c.pending, c.failed)


def test_counts_per_school_region_and_nation_in_one_statement_each(world):
    a, b = world["a"], world["b"]
    with CaptureQueriesContext(connection) as q:
        assert _counts(api.counts(sekolah_ids=[a.pk])) == (1, 1, 2)
    assert len(q) == 1
    assert _counts(api.counts(sekolah_ids=[a.pk, b.pk])) == (1, 1, 3)
    assert _counts(api.counts(sekolah_ids=[])) == (0, 0, 0)
    assert _counts(api.counts(kode_wilayah="3204")) == (1, 1, 3)
    assert _counts(api.counts(kode_wilayah="32")) == (2, 1, 3)
    with CaptureQueriesContext(connection) as q:
        assert _counts(api.counts()) == (2, 2, 3)
    assert len(q) == 1

    # Per region and per school, the pages read the counts the statistics keep.
    def kept(sync: dict) -> tuple:
        return (sync.get("synced", 0), sync.get("pending", 0), sync.get("failed", 0))

    by = {g.kode: kept(g.sync) for g in statistics.regions("")}
    assert by == {"32": (2, 1, 3), "31": (0, 1, 0)}
    npsn = {a.pk.hex: NPSN, b.pk.hex: "20100002"}
    by = {npsn[k]: kept(g.sync) for k, g in statistics.schools("3204").items()}
    assert by == {NPSN: (1, 1, 2), "20100002": (0, 0, 1)}


def test_school_block_shows_counts_and_reasons_in_plain_indonesian(opc, world):
    body = opc.get(f"/operator/sekolah/{NPSN}/").content.decode()
    assert 'id="sync-synced">1<' in body and 'id="sync-pending">1<' in body
    assert 'id="sync-failed">2<' in body
    assert "Akun Google" in body
    problems = re.search(r'id="sync-problems">(.*?)</ul>', body, re.S).group(1)
    assert "nama ditolak Google: Invalid Given/Family Name: I" in problems
    assert "menunggu kuota" in problems
    assert "alamat sudah dipakai akun lain" in problems
    assert "Dewi" not in problems  # another school's failure
    assert problems.count('name="account"') == 2  # a retry button per failed account
    assert "Coba lagi" in problems


def test_retry_one_and_all_own_school_only(opc, world):
    s3, s4, other = world["s3"], world["s4"], world["other"]
    url = f"/operator/sekolah/{NPSN}/google/ulang"
    r = opc.post(url, {"account": [str(s3.pk)]})
    assert r.status_code == 302 and r["Location"].endswith(f"/sekolah/{NPSN}/#google")
    row = Provisioned.objects.get(target_id="google", account_id=s3.pk)
    assert (row.state, row.priority, row.reason, row.attempts) == ("pending", 0, "queued", 0)
    ev = AuditEvent.objects.get(action="provisioning.retry")
    assert ev.actor == world["op"].user_id and ev.after["count"] == 1
    assert ev.after["accounts"] == [s3.pk]
    # Another school's account, alone or slipped in among one's own: 404, nothing changes.
    for ids in ([other.pk], [s4.pk, other.pk]):
        assert opc.post(url, {"account": [str(i) for i in ids]}).status_code == 404
    assert Provisioned.objects.get(target_id="google", account_id=other.pk).state == "failed"
    assert Provisioned.objects.get(target_id="google", account_id=s4.pk).state == "failed"
    # Another school's page: 404 as well (outside the operator's scope).
    r = opc.post("/operator/sekolah/20100002/google/ulang", {"all": "1"})
    assert r.status_code == 404
    # Hostile ids: not digits, NULs, huge, too many; nothing at all.
    for bad in (["x"], ["1\x00"], ["9" * 40], ["-1"], [str(s4.pk)] * 51, ["١٢"]):
        assert opc.post(url, {"account": bad}).status_code == 400, bad
    assert opc.post(url, {}).status_code == 400
    assert opc.get(url).status_code == 405
    r = opc.post(url, {"all": "1"})
    assert r.status_code == 302
    assert Provisioned.objects.get(target_id="google", account_id=s4.pk).state == "pending"
    assert Provisioned.objects.get(target_id="google", account_id=other.pk).state == "failed"
    body = opc.get(f"/operator/sekolah/{NPSN}/").content.decode()
    assert "1 akun akan dikirim lagi ke Google" in body
    assert 'id="sync-failed">0<' in body


def test_retry_needs_the_csrf_token(opc, world):
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = opc.cookies  # the operator's session, second factor passed
    assert strict.get(f"/operator/sekolah/{NPSN}/").status_code == 200
    r = strict.post(f"/operator/sekolah/{NPSN}/google/ulang", {"all": "1"})
    assert r.status_code == 403
    assert Provisioned.objects.filter(state="failed", target_id="google").count() == 3


def test_no_block_without_a_google_target(opc, world):
    Provisioned.objects.all().delete()
    api.Target.objects.all().update(enabled=False)
    body = opc.get(f"/operator/sekolah/{NPSN}/").content.decode()
    assert "sync-counts" not in body


def test_region_and_national_pages_show_the_same_counts(client, world):
    ps.sign_in(client, ps.dinas("nasional", nama="Admin Nasional"))
    body = client.get("/operator/wilayah/nasional/").content.decode()
    assert 'id="sync-synced">2<' in body and 'id="sync-failed">3<' in body
    assert 'id="sync-pending">2<' in body
    body = client.get("/operator/wilayah/3204/").content.decode()
    assert 'id="sync-synced">1<' in body and 'id="sync-failed">3<' in body
    row = re.search(rf"<tr>\s*<td><a [^>]*>{NPSN}</a></td>(.*?)</tr>", body, re.S).group(1)
    assert re.findall(r'class="n sync-(?:synced|failed)">(\d+)', row) == ["1", "2"]


def test_akun_saya_shows_the_google_state_and_last_sync(client, world):
    s2 = world["s2"]  # active, synced
    client.post("/masuk", {"user_id": s2.user_id, "password": ps.PASSWORD})
    body = client.get("/akun-saya").content.decode()
    block = re.search(r'id="sync-google">(.*?)</div>', body, re.S).group(1)
    assert "tersinkron" in block and "Sinkron terakhir" in block
    assert "Akun Google" in body
    assert "lama" not in body  # the disabled target is not shown


def test_akun_saya_without_a_target_says_nothing_of_google(client, world):
    api.Target.objects.all().delete()
    client.post("/masuk", {"user_id": world["s2"].user_id, "password": ps.PASSWORD})
    assert "Akun Google" not in client.get("/akun-saya").content.decode()


def test_explain_includes_the_sync_state(world, capsys):
    s3 = world["s3"]
    call_command("accounts", "explain", "--user-id", s3.user_id)
    out = capsys.readouterr().out
    assert f"{s3.user_id}: Akun Google (google): gagal; nama ditolak Google: Invalid" in out
    call_command("accounts", "explain", "--user-id", s3.user_id, "--lang", "en")
    out = capsys.readouterr().out
    assert "Google account (google): failed; name refused by Google" in out
    call_command("accounts", "explain", "--user-id", s3.user_id, "--json")
    d = json.loads(capsys.readouterr().out)
    (line,) = d["details"][s3.user_id]
    assert line["state"] == "failed" and line["reason"] == "name_rejected"
