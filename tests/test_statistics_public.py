"""The public statistics page and its open data: no sign-in, national and provincial only,
Indonesian number format, small counts withheld, nothing personal, no input reflected."""

import csv
import io
import json
import re

import pytest

from akun.accounts import api as accounts
from akun.accounts.models import Account
from akun.statistik import api as statistics
from akun.statistik.models import Region, RegionCount
from tests import builders as roster
from tests.lifecycle_support import freeze, issue

pytestmark = pytest.mark.django_db

SEEDS = {"peserta_didik": 27_008_332, "pendidik": 2_850_424, "tenaga_kependidikan": 529_310}


@pytest.fixture
def country():
    """The seeds' national figures in one province, and a tiny second one."""
    Region.objects.create(kode="3204", nama="Kab. Bandung", provinsi="Prov. Jawa Barat",
                          schools=900)  # fmt: skip
    Region.objects.create(kode="9101", nama="Kab. Merauke", provinsi="Prov. Papua", schools=1)
    for role, n in SEEDS.items():
        n -= 3 if role == "peserta_didik" else 0  # Papua's three
        active = n * 2 // 3
        RegionCount.objects.create(kode="3204", jenjang="SD", role=role, state="active", n=active)
        RegionCount.objects.create(
            kode="3204", jenjang="SD", role=role, state="issued", n=n - active
        )
    RegionCount.objects.create(kode="9101", jenjang="SD", role="peserta_didik", state="issued",
                               n=3)  # fmt: skip
    RegionCount.objects.create(kode="3204", jenjang="SD", role="peserta_didik", state="deleted",
                               n=999)  # fmt: skip


def test_the_page_shows_the_national_totals_in_indonesian_without_sign_in(client, country):
    r = client.get("/statistik/")
    assert r.status_code == 200
    body = r.content.decode()
    assert '<strong id="total-tk">529.310</strong>' in body
    assert '<strong id="total-pendidik">2.850.424</strong>' in body
    assert '<strong id="total-pd">27.008.332</strong>' in body
    assert "Jawa Barat" in body and "66,7%" in body
    assert "public" in r["Cache-Control"] and "max-age=300" in r["Cache-Control"]
    client.post("/i18n/setlang/", {"language": "en", "next": "/statistik/"})
    body = client.get("/statistik/").content.decode()
    assert '<strong id="total-pd">27,008,332</strong>' in body and "66.7%" in body


def test_the_chart_is_svg_with_plain_numbers_and_the_table_beside_it(client, country):
    body = client.get("/statistik/").content.decode()
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert 'width="130.7"' in svg and "66,7%" in svg  # 66.7% of 180 px: a dot in attributes
    assert not re.search(r'="[0-9]+,[0-9]+"', svg)
    assert "<script" not in body and "style=" not in body  # the CSP allows neither inline
    table = body[body.index('id="provinces"') :]
    assert '<th scope="row">Papua</th>' in table


def test_small_counts_are_withheld(client, country):
    data = client.get("/statistik/statistik.json").json()
    papua = next(p for p in data["provinces"] if p["kode"] == "91")
    assert papua["peserta_didik"] is None and papua["accounts"] is None and papua["rate"] is None
    assert data["min_public"] == 10
    rows = list(csv.reader(io.StringIO(client.get("/statistik/statistik.csv").content.decode())))
    assert rows[0] == ["kode", "nama", "peserta_didik", "pendidik", "tenaga_kependidikan",
                       "accounts", "active", "rate"]  # fmt: skip
    assert rows[1][:3] == ["", "Indonesia", "27008332"]
    assert ["91", "Papua", "", "", "", "", "", ""] in rows


def test_open_data_national_first_deleted_left_out(client, country):
    data = client.get("/statistik/statistik.json").json()
    nation = data["national"]
    assert nation["peserta_didik"] == SEEDS["peserta_didik"]  # not the 999 deleted
    assert nation["accounts"] == sum(SEEDS.values())
    assert data["fields"][0] == "kode" and len(data["activations_per_day"]) == 30
    r = client.get("/statistik/statistik.csv")
    assert r["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in r["Content-Disposition"]


def test_only_safe_methods_and_no_reflection(client, country):
    assert client.post("/statistik/").status_code == 405
    assert client.head("/statistik/statistik.json").status_code == 200
    body = client.get("/statistik/", {"kode": "<script>x</script>", "q": "\x00"}).content
    assert b"<script>x" not in body
    assert client.get("/statistik/3204/").status_code == 404  # nothing below a province


def test_no_personal_data_from_real_accounts_and_the_daily_trend(client):
    freeze("2026-07-01")
    s = roster.sekolah("SD", npsn="20100001", nama="SD NEGERI RAHASIA", kode_wilayah="320412")
    for i in range(12):
        roster.peserta_didik(s, 5, nama=f"Rahasia Murid {i}")
    issue()
    statistics.refresh_regions()
    acc = Account.objects.first()
    accounts.do_activate_account(acc, raw_password="teh manis di sore hari", actor="t")
    body = client.get("/statistik/").content.decode()
    json_body = client.get("/statistik/statistik.json").content.decode()
    for text in (body, json_body, client.get("/statistik/aktivasi-harian.csv").content.decode()):
        assert "Rahasia" not in text and "20100001" not in text and acc.user_id not in text
    data = json.loads(json_body)
    assert data["national"]["peserta_didik"] == 12 and data["national"]["active"] is None  # 1
    assert data["activations_per_day"][-1] == {"day": "2026-07-01", "n": 1}
    trend = client.get("/statistik/aktivasi-harian.csv").content.decode().splitlines()
    assert trend[0] == "day,activated" and trend[-1] == "2026-07-01,1"
