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
from django.db.models import OuterRef, Subquery

from akun.accounts import crypto
from akun.core import clock
from akun.identity import terms, throttle
from akun.identity.models import SessionGeneration


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
        ok = crypto.check_initial_password(account.initial_password_enc, password)
        dummy_verify(password)
        return ok
    if not (account.password or "").startswith("argon2"):
        dummy_verify(password)
        return False
    return account.check_password(password)


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
    decision, states = throttle.check_with_states(pairs)
    if not decision.allowed:
        return Result(Outcome.THROTTLED, wait=decision.wait, locked=decision.locked)

    account = None
    if uid:
        # The session generation comes along, saving a query when the sign-in completes.
        gen = SessionGeneration.objects.filter(account=OuterRef("pk")).values("generation")[:1]
        account = (
            get_user_model()
            .objects.filter(user_id=uid)
            .select_related("sekolah")  # the sign-in's audit row carries the school and region
            .annotate(session_generation_now=Subquery(gen))
            .first()
        )
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
    type(user).objects.filter(pk=user.pk).update(last_login=now)


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
