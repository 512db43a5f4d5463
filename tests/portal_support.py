"""Portal-only test pieces: a dinas admin made the CLI's way and a signed-in admin session
(password, then the real TOTP page). Schools, people and accounts: tests.builders."""

import datetime as dt

from akun.accounts.models import Account
from akun.core import clock
from akun.identity import terms
from akun.portal import actions, totp
from tests.builders import PASSWORD


def dinas(region, nama="Admin Dinas"):
    """A regional admin made the CLI's way, then activated (as after the first sign-in)."""
    account, _password = actions.do_create_admin(nama=nama, region=region, actor="test")
    account.set_password(PASSWORD)
    account.initial_password_enc = None
    account.state = Account.State.ACTIVE
    account.activated_at = clock.now()
    account.terms_version = terms.current().version
    account.terms_accepted_at = clock.now()
    account.save()
    return account


def sign_in(client, account):
    """Password sign-in through the real page, then TOTP set up through the real page."""
    r = client.post("/masuk", {"user_id": account.user_id, "password": PASSWORD})
    assert r.status_code == 302, r.content[:500]
    r = client.get("/operator/")
    assert r.status_code == 302 and "/operator/verifikasi" in r["Location"]
    if not totp.is_enrolled(account):
        r = client.get("/operator/verifikasi")
        assert b"<svg" in r.content
    _next_step()
    r = client.post(
        "/operator/verifikasi", {"code": totp.current_code(account), "next": "/operator/"}
    )
    assert r.status_code in (200, 302), r.content[:500]
    return r


def _next_step():
    """Move the clock one TOTP step on, so that a new code is not a replay of the last."""
    now = clock.now()
    clock.freeze(now + dt.timedelta(seconds=31))
