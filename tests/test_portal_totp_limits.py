"""Issue 12.1: second-factor guesses are limited per account, in the database, across sessions,
sign-ins and concurrent requests; recovery codes share the limit.

A guess is a code compared with the account's secret (or its recovery codes); every one is
audited as portal.second_factor_failed. The promise tested: at most 4 guesses at one instant
(then growing delays), at most 10 in any hour (then a lock), whatever the attacker does.
On PostgreSQL the bursts are real concurrency (threads, each with its own connection); on
SQLite they run one after another.
"""

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pyotp
import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client

from akun.audit.models import AuditEvent
from akun.core import clock
from akun.portal import totp
from tests import builders
from tests import portal_support as ps
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.django_db(transaction=True)

T0 = dt.datetime(2026, 3, 2, 8, 0, 10, tzinfo=dt.UTC)
AT_ONCE = 4  # guesses before the first delay
PER_HOUR = 10  # guesses before the lock (an hour)
HOUR = dt.timedelta(hours=1)
WRONG_RECOVERY = "aaaaa-aaaaa"


@pytest.fixture
def op():
    clock.freeze(T0)
    account = builders.operator(builders.school("20100001"))
    ps.sign_in(Client(), account)  # sets up the authenticator
    return account


def _workers(n: int) -> int:
    return n if connection.vendor == "postgresql" else 1


def _wrong_code(account) -> str:
    secret = totp.secret_of(totp.device_of(account))
    now = clock.now().timestamp()
    right = {pyotp.TOTP(secret).at(now + d * 30) for d in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


def _signed_in_session(account) -> str:
    """A fresh password sign-in (a new session, as an attacker would start again)."""
    c = Client()
    r = c.post("/masuk", {"user_id": account.user_id, "password": builders.PASSWORD})
    assert r.status_code == 302
    return c.cookies[settings.SESSION_COOKIE_NAME].value


def _burst(session_key: str, posts: list[dict]) -> list:
    """POST every form to the second-factor page in one session, all at once."""
    workers = _workers(len(posts))

    def one(data, barrier=None):
        c = Client()
        c.cookies[settings.SESSION_COOKIE_NAME] = session_key
        if barrier is not None:
            barrier.wait(timeout=120)
        return c.post("/operator/verifikasi", data)

    if workers == 1:
        return [one(d) for d in posts]
    barrier = threading.Barrier(workers)

    def threaded(data):
        try:
            return one(data, barrier)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(threaded, posts))


def _guess_times(account) -> list[dt.datetime]:
    return sorted(
        AuditEvent.objects.filter(
            action="portal.second_factor_failed", object_id=account.user_id
        ).values_list("at", flat=True)
    )


def _passed(response) -> bool:
    """Whether the client that got this response is through to the portal."""
    return response.client.get("/operator/sekolah/20100001/").status_code == 200


def test_concurrent_wrong_codes_in_one_session_get_at_most_the_limit(op):
    wrong = _wrong_code(op)
    posts = [{"code": wrong}] * 16 + [{"recovery_code": WRONG_RECOVERY}] * 4
    _burst(_signed_in_session(op), posts)
    assert len(_guess_times(op)) <= AT_ONCE
    # Signing in again, and again, at the same instant gives no new tries.
    for _ in range(3):
        _burst(_signed_in_session(op), [{"code": wrong}] * 5)
    assert len(_guess_times(op)) <= AT_ONCE


def test_at_most_ten_guesses_in_any_hour_across_sign_ins_and_bursts(op):
    """An attacker with the password signs in again every two minutes for over two hours and
    each time sends four wrong codes at once (three TOTP, one recovery code)."""
    codes = totp.do_regenerate_recovery_codes(op, actor="test")
    t = T0
    while t <= T0 + dt.timedelta(hours=2, minutes=10):
        clock.freeze(t)
        wrong = _wrong_code(op)
        posts = [{"code": wrong}] * 3 + [{"recovery_code": WRONG_RECOVERY}]
        _burst(_signed_in_session(op), posts)
        t += dt.timedelta(minutes=2)
    times = _guess_times(op)
    assert len(times) >= PER_HOUR  # the attacker did get the first ones (no lock-out at 0)
    in_any_hour = max(sum(1 for u in times if s <= u < s + HOUR) for s in times)
    assert in_any_hour <= PER_HOUR
    assert len(times) <= PER_HOUR + 3  # then one per hour at most

    # Locked: the right code and an unused recovery code are refused too, in a new session.
    locked_at = times[-1]
    clock.freeze(locked_at + dt.timedelta(minutes=30))
    session = _signed_in_session(op)
    [right] = _burst(session, [{"code": totp.current_code(op)}])
    [recovery] = _burst(_signed_in_session(op), [{"recovery_code": codes[0]}])
    assert not _passed(right) and not _passed(recovery)
    assert totp.recovery_codes_left(op) == len(codes)

    # After the lock the owner gets in with the right code, and that clears the failures.
    clock.freeze(locked_at + HOUR + dt.timedelta(seconds=31))
    [right] = _burst(_signed_in_session(op), [{"code": totp.current_code(op)}])
    assert _passed(right)
    clock.freeze(clock.now() + dt.timedelta(seconds=31))
    before = len(_guess_times(op))
    _burst(_signed_in_session(op), [{"code": _wrong_code(op)}] * AT_ONCE)
    assert len(_guess_times(op)) == before + AT_ONCE


def test_the_count_is_in_the_database_also_when_other_throttles_use_redis(op, settings):
    """The check and the count must be one locked step: Redis is not used for it."""
    from akun.identity.models import Throttle

    settings.AKUN_REDIS_URL = REDIS_URL
    settings.AKUN_REDIS_PREFIX = "akun-test-h1-mfa:"
    wrong = _wrong_code(op)
    for _ in range(2):
        _burst(_signed_in_session(op), [{"code": wrong}] * 3)
    assert len(_guess_times(op)) == AT_ONCE
    assert Throttle.objects.get(key=f"mfa:{op.pk}").failures == AT_ONCE
