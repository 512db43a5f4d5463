"""What an outsider can learn by asking many times (issue 12): Cek Akun and the reset start
have a budget over the whole platform and one per school (NPSN), addresses count per /64 for
IPv6, and behind a proxy the address is the one the trusted proxies saw, not the client's
X-Forwarded-For. Database and Redis stores."""

import datetime as dt
import uuid

import pytest
from django.test import RequestFactory
from django.urls import reverse

from akun.core import clock
from akun.identity import throttle
from tests import builders
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2025, 7, 1, 8, 0, tzinfo=dt.UTC)
BORN = dt.date(2012, 3, 9)


def cek(client, npsn, nama, tgl, addr):
    return client.post(
        reverse("identity:cek_akun"),
        {"role": "peserta_didik", "npsn": npsn, "nama": nama, "tanggal_lahir": tgl},
        REMOTE_ADDR=addr,
    )


def start_reset(client, user_id, tgl, addr):
    return client.post(
        reverse("identity:reset"), {"user_id": user_id, "tanggal_lahir": tgl}, REMOTE_ADDR=addr
    )


def many_addresses(n):
    return [f"198.51.{i // 250}.{i % 250 + 1}" for i in range(n)]


# --- Cek Akun ----------------------------------------------------------------------------


def test_walking_one_childs_birth_date_from_many_addresses_is_stopped(store, client, settings):
    settings.AKUN_CEK_AKUN_PER_SCHOOL_PER_DAY = 20
    clock.freeze(T0)
    school = builders.school()
    child = builders.student(school, tanggal_lahir=BORN)
    other = builders.student(builders.school("20109999", "SD NEGERI 9"), nama="Budi Santoso",
                         local_part="budisantoso1")  # fmt: skip
    # One lookup per address, a new birth date each time: no address is ever throttled.
    dates = [dt.date(2012, 1, 1) + dt.timedelta(days=i) for i in range(120)]
    assert BORN in dates[60:]
    revealed, refused = [], 0
    for d, addr in zip(dates, many_addresses(len(dates)), strict=True):
        r = cek(client, school.npsn, "Siti Nurhaliza", d.isoformat(), addr)
        body = r.content.decode()
        if 'id="cek-result"' in body:  # an answer: found, or not found
            revealed.append(d)
        if "terlalu banyak pencarian untuk sekolah ini" in body:
            refused += 1
    assert revealed == dates[:20] and BORN not in revealed
    assert refused == len(dates) - 20
    assert "operator sekolah" in body  # where to go instead
    # The budget is the school's: another school's child is still answered.
    r = cek(client, "20109999", "Budi Santoso", BORN.isoformat(), "203.0.113.5")
    assert other.user_id in r.content.decode()
    # A day after the last lookup the school is served again.
    clock.freeze(T0 + dt.timedelta(days=1, seconds=1))
    r = cek(client, school.npsn, "Siti Nurhaliza", BORN.isoformat(), "203.0.113.6")
    assert child.user_id in r.content.decode()


def test_global_budget_spent_the_page_says_so_politely(store, client, settings):
    settings.AKUN_CEK_AKUN_PER_HOUR = 5
    clock.freeze(T0)
    children = [
        builders.student(builders.school(f"2010000{i}", f"SD {i}"), local_part=f"siti{i}")
        for i in range(7)
    ]
    for i in range(5):
        r = cek(client, f"2010000{i}", "Siti Nurhaliza", BORN.isoformat(), f"203.0.113.{i + 1}")
        assert children[i].user_id in r.content.decode()
    r = cek(client, "20100005", "Siti Nurhaliza", BORN.isoformat(), "203.0.113.50")
    body = r.content.decode()
    assert r.status_code == 200 and children[5].user_id not in body
    assert "Cek Akun sedang menerima sangat banyak permintaan" in body
    assert "Silakan coba lagi dalam sekitar 60 menit" in body
    clock.freeze(T0 + dt.timedelta(minutes=30))
    body = cek(client, "20100006", "Siti Nurhaliza", BORN.isoformat(), "203.0.113.51").content
    assert b"sekitar 30 menit" in body and children[6].user_id.encode() not in body
    clock.freeze(T0 + dt.timedelta(hours=1, seconds=1))
    r = cek(client, "20100006", "Siti Nurhaliza", BORN.isoformat(), "203.0.113.52")
    assert children[6].user_id in r.content.decode()


def test_cek_akun_counts_ipv6_addresses_per_64(store, client):
    clock.freeze(T0)
    school = builders.school()
    child = builders.student(school)
    for i in range(throttle.CEK_AKUN.free + 1):
        cek(client, school.npsn, "x", BORN.isoformat(), f"2001:db8:1:2::{i + 1:x}")
    r = cek(client, school.npsn, "Siti Nurhaliza", BORN.isoformat(), "2001:db8:1:2:ffff:1:2:3")
    assert b"Tunggu" in r.content and child.user_id.encode() not in r.content
    r = cek(client, school.npsn, "Siti Nurhaliza", BORN.isoformat(), "2001:db8:1:3::1")
    assert child.user_id.encode() in r.content  # the next /64 is another client


def test_school_budget_outlives_the_other_policies_in_redis(settings):
    import redis

    settings.AKUN_REDIS_URL = REDIS_URL
    settings.AKUN_REDIS_PREFIX = f"akun-test-outsider:{uuid.uuid4().hex}:"
    try:
        pairs = throttle.cek_akun_pairs("20104321", "203.0.113.7")
        assert throttle.spend(pairs) is None
        r = redis.Redis.from_url(settings.AKUN_REDIS_URL)
        school_key = next(k for k, p in pairs if p.window == 86400)
        assert r.ttl(settings.AKUN_REDIS_PREFIX + school_key) >= 86400
    finally:
        r = redis.Redis.from_url(settings.AKUN_REDIS_URL)
        for key in r.scan_iter(settings.AKUN_REDIS_PREFIX + "*"):
            r.delete(key)


# --- Reset start -------------------------------------------------------------------------


def test_walking_a_schools_accounts_at_reset_start_is_stopped(store, client, settings):
    settings.AKUN_RESET_PER_SCHOOL_PER_DAY = 20
    clock.freeze(T0)
    school = builders.school()
    pupils = [
        builders.student(
            school, nama=f"Murid {i}", local_part=f"murid{i}", recovery_email=f"m{i}@x.id"
        )
        for i in range(25)
    ]
    elsewhere = builders.student(
        builders.school("20109999", "SD NEGERI 9"), local_part="budisantoso1",
        recovery_email="b@x.id",
    )  # fmt: skip
    # Each account once, with a wrong birth date, each from its own address.
    for pupil, addr in zip(pupils[:20], many_addresses(20), strict=True):
        r = start_reset(client, pupil.user_id, "2012-03-10", addr)
        assert "Tidak ada akun yang cocok" in r.content.decode()
    # The school's budget is spent: the next account of the school gets no answer, even with
    # the right birth date.
    r = start_reset(client, pupils[20].user_id, BORN.isoformat(), "203.0.113.20")
    body = r.content.decode()
    assert r.status_code == 200 and "Tidak ada akun yang cocok" not in body
    assert "terlalu banyak percobaan untuk akun sekolah ini" in body
    assert "operator sekolah" in body
    r = start_reset(client, pupils[21].user_id, "2012-03-11", "203.0.113.21")
    assert "Tidak ada akun yang cocok" not in r.content.decode()
    # Another school's account goes ahead.
    r = start_reset(client, elsewhere.user_id, BORN.isoformat(), "203.0.113.22")
    assert r.status_code == 302 and r["Location"] == reverse("identity:reset_contact")


def test_reset_global_budget_spent_the_page_says_so_politely(store, client, settings):
    settings.AKUN_RESET_PER_HOUR = 3
    clock.freeze(T0)
    s = builders.student(builders.school(), recovery_email="s@x.id")
    for i in range(3):
        start_reset(client, f"nobody{i}@sd.belajar.test", "2012-03-10", f"203.0.113.{i + 1}")
    r = start_reset(client, s.user_id, BORN.isoformat(), "203.0.113.50")
    body = r.content.decode()
    assert r.status_code == 200
    assert "Reset kata sandi sedang menerima sangat banyak permintaan" in body
    assert "sekitar 60 menit" in body
    clock.freeze(T0 + dt.timedelta(hours=1, seconds=1))
    r = start_reset(client, s.user_id, BORN.isoformat(), "203.0.113.51")
    assert r.status_code == 302


def test_reset_start_counts_ipv6_addresses_per_64(store, client):
    clock.freeze(T0)
    s = builders.student(builders.school(), recovery_email="s@x.id")
    for i in range(throttle.RESET.free + 1):
        start_reset(client, f"nobody{i}@sd.belajar.test", "2012-03-10", f"2001:db8:7:7::{i + 1}")
    r = start_reset(client, s.user_id, BORN.isoformat(), "2001:db8:7:7:abcd::9")
    assert r.status_code == 200 and b"Tunggu" in r.content
    r = start_reset(client, s.user_id, BORN.isoformat(), "2001:db8:7:8::9")
    assert r.status_code == 302


# --- Behind a proxy ----------------------------------------------------------------------


def test_spoofed_x_forwarded_for_is_still_throttled(store, client, settings):
    """The proxy appends the address it saw; what the client sent stays to the left of it."""
    settings.AKUN_TRUSTED_PROXY_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.AKUN_TRUSTED_PROXY_COUNT = 1
    clock.freeze(T0)
    answers = []
    for i in range(60):
        r = client.post(
            reverse("identity:signin"),
            {"user_id": f"guess{i}@sd.belajar.test", "password": "x"},
            REMOTE_ADDR="10.0.0.2",  # the proxy
            HTTP_X_FORWARDED_FOR=f"192.0.2.{i + 1}, 198.51.100.77",
        )
        answers.append(b"Tunggu" in r.content)
    assert answers[: throttle.ADDRESS.free + 1] == [False] * (throttle.ADDRESS.free + 1)
    assert all(answers[throttle.ADDRESS.free + 1 :])
    # Another real client behind the same proxy is not affected.
    r = client.post(
        reverse("identity:signin"),
        {"user_id": "guess@sd.belajar.test", "password": "x"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="192.0.2.1, 198.51.100.78",
    )
    assert b"Tunggu" not in r.content


@pytest.mark.parametrize(
    "header, count, expected",
    [
        ("203.0.113.9", 1, "203.0.113.9"),
        ("6.6.6.6, 203.0.113.9", 1, "203.0.113.9"),
        ("6.6.6.6,203.0.113.9 , 10.0.0.1", 2, "203.0.113.9"),  # two proxies: the second hop
        ("203.0.113.9, 10.0.0.1", 2, "203.0.113.9"),
        ("203.0.113.9", 2, "203.0.113.9"),  # fewer hops than proxies: all written by proxies
        ("6.6.6.6, 2001:DB8:0:0::0001", 1, "2001:db8::1"),  # one spelling per address
        ("6.6.6.6, [2001:db8::1]:4430", 1, "2001:db8::1"),
        ("6.6.6.6, 203.0.113.9:51000", 1, "203.0.113.9"),
        ("6.6.6.6, ::ffff:203.0.113.9", 1, "203.0.113.9"),
        ("", 1, "10.0.0.2"),  # no header: the peer
        (" , ,", 1, "10.0.0.2"),
        ("6.6.6.6, bad\x00<b>\xff' or 1=1", 1, "bad??b????or?1?1"),  # never stored as sent
        ("x" * 500, 1, "x" * 64),
    ],
)
def test_client_address_is_what_the_trusted_proxies_saw(settings, header, count, expected):
    settings.AKUN_TRUSTED_PROXY_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.AKUN_TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=header)
    assert throttle.client_address(request) == expected


def test_ipv6_addresses_share_a_key_per_64_ipv4_per_address():
    key = throttle.address_key
    assert key(throttle.CEK_AKUN, "2001:db8:1:2::1") == key(throttle.CEK_AKUN, "2001:db8:1:2:f::9")
    assert key(throttle.CEK_AKUN, "2001:db8:1:2::1") != key(throttle.CEK_AKUN, "2001:db8:1:3::1")
    assert key(throttle.CEK_AKUN, "203.0.113.1") != key(throttle.CEK_AKUN, "203.0.113.2")
    assert key(throttle.CEK_AKUN, "::ffff:203.0.113.1") == key(throttle.CEK_AKUN, "203.0.113.1")
    assert key(throttle.CEK_AKUN, "not an address") == "cek:ip:not an address"


@pytest.mark.django_db(transaction=True)
def test_concurrent_lookups_do_not_overrun_a_budget(store, settings):
    """28 addresses at once against a budget of 5: five answers, however the tries interleave."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from django.db import connection

    settings.AKUN_CEK_AKUN_PER_SCHOOL_PER_DAY = 5
    barrier = Barrier(28)

    def lookup(i):
        try:
            barrier.wait()
            return throttle.spend(throttle.cek_akun_pairs("20104321", f"198.51.100.{i + 1}"))
        finally:
            connection.close()

    with ThreadPoolExecutor(28) as pool:
        results = list(pool.map(lookup, range(28)))
    answered = [r for r in results if r is None]
    assert len(answered) == 5
    assert all(r[0].name == throttle.cek_akun_school().name for r in results if r is not None)
