"""Brute-force protection: growing delays, a temporary lock, per account and per address, the
same answer and the same work for unknown user IDs; database and Redis stores."""

import datetime as dt

import pytest
from django.urls import reverse

from akun.core import clock
from akun.identity import signin, throttle
from tests import builders
from tests.identity_support import csrf_free

pytestmark = pytest.mark.django_db
PW = builders.PASSWORD


@pytest.fixture
def active():
    return builders.student(builders.school(), state="active", password=PW)


def post(client, user_id, password, addr="10.1.1.1"):
    return client.post(
        reverse("identity:signin"), {"user_id": user_id, "password": password}, REMOTE_ADDR=addr
    )


def test_store_is_the_configured_one(store):
    kind = type(throttle.store()).__name__
    assert kind == ("RedisStore" if store == "redis" else "DatabaseStore")
    if store == "redis":
        assert throttle.store().client.ping()


def test_growing_delays_then_lock_then_release(store, active, client):
    t0 = dt.datetime(2025, 7, 1, 8, 0, tzinfo=dt.UTC)
    clock.freeze(t0)
    for _ in range(throttle.ACCOUNT.free):
        assert b"salah" in post(client, active.user_id, "wrong").content  # plain "wrong"
    # The 4th failure: from now on each try waits, growing 1 s, 2 s, 4 s …
    post(client, active.user_id, "wrong")
    r = post(client, active.user_id, PW)
    assert b"Tunggu 1 detik" in r.content and "_auth_user_id" not in client.session
    waits = []
    t = t0
    for _ in range(throttle.ACCOUNT.lock_after - throttle.ACCOUNT.free - 1):
        d = throttle.check([(throttle.account_key(active.user_id), throttle.ACCOUNT)])
        waits.append(d.wait)
        t += dt.timedelta(seconds=d.wait)
        clock.freeze(t)
        post(client, active.user_id, "wrong")
    assert waits == sorted(waits) and waits[-1] > waits[0]
    # Locked: even the right password is refused until the lock ends.
    d = throttle.check([(throttle.account_key(active.user_id), throttle.ACCOUNT)])
    assert d.locked and d.wait > 800
    r = post(client, active.user_id, PW)
    assert b"dikunci" in r.content and "_auth_user_id" not in client.session
    clock.freeze(t + dt.timedelta(seconds=throttle.ACCOUNT.lock_seconds + 1))
    r = post(client, active.user_id, PW)
    assert r.status_code == 302 and r["Location"] == reverse("identity:akun_saya")
    # Success clears the account's failures.
    assert not throttle.store().get_many([throttle.account_key(active.user_id)])


def test_unknown_user_id_gets_the_same_answer_and_throttling(store, active, client):
    clock.freeze(dt.datetime(2025, 7, 1, 8, 0, tzinfo=dt.UTC))
    unknown = "nobody99@sd.belajar.test"
    for i in range(throttle.ACCOUNT.free + 3):
        a = post(client, active.user_id, "wrong-" + str(i), addr="10.2.0.1")
        b = post(client, unknown, "wrong-" + str(i), addr="10.3.0.1")
        assert a.status_code == b.status_code == 200
        ca = csrf_free(a.content).replace(active.user_id.encode(), b"U")
        cb = csrf_free(b.content).replace(unknown.encode(), b"U")
        assert ca == cb, i


def test_unknown_user_id_costs_one_argon2_verify_like_a_wrong_password(active, rf, monkeypatch):
    import argon2

    calls = []
    real = argon2.PasswordHasher.verify

    def counting(self, *a, **k):
        calls.append(1)
        return real(self, *a, **k)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting)
    issued = builders.student(active.sekolah, nama="Budi", local_part="budi1")
    for uid in (active.user_id, "nobody@sd.belajar.test", issued.user_id, ""):
        calls.clear()
        res = signin.attempt(rf.post("/masuk", REMOTE_ADDR=f"10.9.{len(uid)}.1"), uid, "wrong!")
        assert res.outcome is signin.Outcome.INVALID
        assert len(calls) == 1, uid


def test_per_address_throttling_across_user_ids(store, client):
    clock.freeze(dt.datetime(2025, 7, 1, 8, 0, tzinfo=dt.UTC))
    for i in range(throttle.ADDRESS.free + 1):
        post(client, f"guess{i}@sd.belajar.test", "x", addr="10.4.4.4")
    r = post(client, "another@sd.belajar.test", "x", addr="10.4.4.4")
    assert b"Tunggu" in r.content
    r = post(client, "another@sd.belajar.test", "x", addr="10.5.5.5")  # other address: free
    assert b"Tunggu" not in r.content


def test_failures_forgotten_after_the_window(store, active):
    t0 = dt.datetime(2025, 7, 1, 8, 0, tzinfo=dt.UTC)
    clock.freeze(t0)
    key = throttle.account_key(active.user_id)
    for _ in range(5):
        throttle.fail([(key, throttle.ACCOUNT)])
    assert not throttle.check([(key, throttle.ACCOUNT)]).allowed
    clock.freeze(t0 + dt.timedelta(seconds=throttle.ACCOUNT.window + 1))
    assert throttle.check([(key, throttle.ACCOUNT)]).allowed
    throttle.fail([(key, throttle.ACCOUNT)])
    assert throttle.store().get_many([key])[key].failures == 1


def test_state_refusals_say_what_to_do_only_with_the_right_password(store, active, client):
    for state, word in (("suspended", b"ditangguhkan"), ("deactivated", b"dinonaktifkan"),
                        ("deleted", b"tidak dapat digunakan lagi")):  # fmt: skip
        active.state = state
        active.save(update_fields=["state"])
        r = post(client, active.user_id, PW)
        assert r.status_code == 200 and word in r.content, state
        assert b"operator sekolah" in r.content
        assert "_auth_user_id" not in client.session
        r = post(client, active.user_id, "wrong password")
        assert word not in r.content  # a stranger learns nothing about the state


def test_suspending_ends_existing_sessions(client, active):
    post(client, active.user_id, PW)
    assert client.get(reverse("identity:akun_saya")).status_code == 200
    active.state = "suspended"
    active.save(update_fields=["state"])
    assert client.get(reverse("identity:akun_saya")).status_code == 302
