"""Checking a user ID and password: throttled, the same work and answer for unknown user IDs.

`attempt()` is what the sign-in page calls; the Django authentication backend wraps it for
anything using django.contrib.auth.authenticate() (it only yields fully usable accounts).
"""

import enum
from dataclasses import dataclass
from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import check_password, make_password
from django.db import connection

from akun.accounts import api as accounts_api
from akun.accounts.api import check_initial_password_token, local_part_of
from akun.core import clock, rows
from akun.identity import terms, throttle
from akun.identity.models import SessionGeneration, Throttle
from akun.roster import api as roster_api


class Outcome(enum.Enum):
    OK = "ok"  # active, terms current: may hold a session
    NEEDS_TERMS = "needs_terms"  # active, but a new terms version must be accepted first
    ACTIVATE = "activate"  # issued, initial password right: terms, then a new password
    REFUSED = "refused"  # right password, but suspended / deactivated / deleted
    INVALID = "invalid"  # unknown user ID or wrong password: one answer for both
    THROTTLED = "throttled"


@dataclass
class Result:
    outcome: Outcome
    account: object = None
    wait: int = 0
    locked: bool = False


@cache
def _dummy_hash() -> str:
    return make_password("akun-dummy-password-for-timing")


def dummy_verify(password: str) -> None:
    """The cost of one real verify, so failures for unknown user IDs take as long."""
    check_password(password, _dummy_hash())


def normalize_user_id(user_id: str) -> str:
    return (user_id or "").strip().lower()


def verify_password(account, password: str) -> bool:
    """The initial password while one is stored (until activation), else the argon2id hash.

    Both paths cost one argon2id verify. A right password on an old-parameter hash is
    rehashed (Django's check_password setter saves it)."""
    if account.initial_password_enc:
        ok = check_initial_password_token(account.initial_password_enc, password)
        dummy_verify(password)
        return ok
    if not (account.password or "").startswith("argon2"):
        dummy_verify(password)
        return False
    return account.check_password(password)


@cache
def _account_sql() -> str:
    """One row always: the account (NULLs if none), its school's NPSN and region, its
    session generation, and the throttle rows of the two keys (database throttle store)."""
    Account = get_user_model()
    qn = connection.ops.quote_name
    throttle_table = qn(Throttle._meta.db_table)
    return (
        f"SELECT {rows.columns(Account, 'a')}, s.npsn, s.kode_wilayah, g.generation, "
        "t1.failures, t1.last_failure_at, t2.failures, t2.last_failure_at "
        "FROM (SELECT 1 AS one) x "
        f"LEFT JOIN {accounts_api.accounts_sql('a')} "
        "ON a.local_part = %s AND a.user_id = %s "
        f"{roster_api.join_sekolah('a.sekolah_id', 's')} "
        f"LEFT JOIN {qn(SessionGeneration._meta.db_table)} g ON g.account_id = a.id "
        f"LEFT JOIN {throttle_table} t1 ON t1.key = %s "
        f"LEFT JOIN {throttle_table} t2 ON t2.key = %s"
    )


def _load(uid: str, keys: list[str]):
    """(account or None, throttle states of `keys`) in one statement, on the local_part and
    throttle key indexes.

    The hottest query of the platform: a cursor (akun.core.rows), not a compiled queryset
    (the ORM spent ~3 ms of CPU per sign-in building the account query alone). The account
    is read even when the throttle then refuses: the same work either way."""
    with connection.cursor() as cur:
        cur.execute(_account_sql(), [local_part_of(uid), uid, *keys])
        row = cur.fetchone()
    Account = get_user_model()
    n = rows.width(Account)
    states = {}
    for key, (failures, last) in zip(keys, (row[n + 3 : n + 5], row[n + 5 : n + 7]), strict=True):
        if failures is not None:
            states[key] = throttle.State(failures, throttle.aware(last))
    if row[0] is None:  # the primary key: no account
        return None, states
    account = rows.instance(Account, row[:n], "a")
    account.school_codes = (row[n] or "", row[n + 1] or "")
    account.session_generation_now = row[n + 2]
    return account, states


def _load_account(uid: str):
    return _load(uid, ["", ""])[0]


def attempt(request, user_id: str, password: str) -> Result:
    uid = normalize_user_id(user_id)
    acct_key = throttle.account_key(uid)
    pairs = [
        (acct_key, throttle.ACCOUNT),
        (
            throttle.address_key(throttle.ADDRESS, throttle.client_address(request)),
            throttle.ADDRESS,
        ),
    ]
    keys = [k for k, _ in pairs]
    if throttle.in_database():
        account, states = _load(uid, keys)
    else:
        states = throttle.store().get_many(keys)
        account = _load_account(uid)
    decision = throttle.evaluate(pairs, states)
    if not decision.allowed:
        return Result(Outcome.THROTTLED, wait=decision.wait, locked=decision.locked)

    if account is None:
        dummy_verify(password or "")
        ok = False
    else:
        ok = verify_password(account, password or "")
    if not ok:
        throttle.fail(pairs)
        return Result(Outcome.INVALID)

    if acct_key in states:
        throttle.clear(acct_key)
    state = account.state
    if state == "issued":
        return Result(Outcome.ACTIVATE, account)
    if state == "active":
        if terms.needs_acceptance(account):
            return Result(Outcome.NEEDS_TERMS, account)
        return Result(Outcome.OK, account)
    return Result(Outcome.REFUSED, account)


def record_last_login(sender, user, **kwargs):
    """user_logged_in receiver (connected in IdentityConfig.ready): every full sign-in --
    password, activation, new terms, reset -- stamps Account.last_login with the platform's
    clock, which lifecycle's inactivity rule reads."""
    now = clock.now()
    user.last_login = now
    table = connection.ops.quote_name(type(user)._meta.db_table)
    with connection.cursor() as cur:  # on every sign-in: no queryset to compile
        cur.execute(
            f"UPDATE {table} SET last_login = %s WHERE id = %s",
            [connection.ops.adapt_datetimefield_value(now), user.pk],
        )


class AkunBackend(ModelBackend):
    """django.contrib.auth backend: yields only active accounts with the current terms;
    issued accounts go through activation on the sign-in page instead."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None or request is None:
            return None
        result = attempt(request, username, password)
        return result.account if result.outcome is Outcome.OK else None

    def user_can_authenticate(self, user):
        return user.state == "active"
