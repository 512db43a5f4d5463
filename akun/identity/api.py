"""What other apps may use of akun.identity (sign-in and self-service).

- sign-in: `attempt(request, user_id, password)` -> `Result(outcome, account, wait, locked)`
  with `Outcome` (OK, NEEDS_TERMS, ACTIVATE, REFUSED, INVALID, THROTTLED); the same work and
  answer for unknown user IDs and wrong passwords. `normalize_user_id`, `safe_next`.
- messages to people: `send_sms(to, text)` through the configured sender
  (AKUN_SMS_SENDER; a file outbox in development, `sms_outbox_path()`).
- notices about an account to its holder: `send_account_notice(account, subject=, body=,
  sms=)` to the account's mailbox and every contact on record (recovery, and the roster's
  for PTK); call it on commit.
- contacts shown masked: `mask_email`, `mask_phone`, `normalize_phone` (08… form).
- services signed in to (Akun Saya's list, for SSO): `do_record_service_sign_in(account,
  service_id, service_name)` and the `ServiceSignIn` model.
- the terms of use: `current_terms()`, `TERMS`.
- ending the sessions of an account at Akun (half-finished activations and resets too):
  `end_every_session(account_id, *, reason)`, inside the transaction of the event that
  demands it (sso revokes its tokens on the same events of accounts' change stream).
- throttling a second factor: `guarded(key, SECOND_FACTOR, attempt)` -> `Guarded(decision,
  ok, failures)`: decides, makes the try and counts it as one locked step in the database.
- the helpdesk: `cek_akun(role, npsn, nama, tanggal_lahir)` -> `CekResult` (Cek Akun's
  roster match), `cek_akun_budget(npsn, address)` (spends one lookup: 0 or seconds to wait),
  `signin_lock(user_id)` -> `SigninLock(failures, wait, locked)`, `client_address(request)`.
- re-authentication (SSO's prompt=login, max_age): `authenticated_at(request)` (when this
  session last signed in with a password), `ask_password_again(request)`.
"""

from akun.core.sms import send_sms, sms_outbox_path
from akun.identity.actions import (
    do_record_service_sign_in,
    do_sign_out_everywhere,
    end_every_session,
)
from akun.identity.flow import ask_password_again, authenticated_at, safe_next
from akun.identity.masking import mask_email, mask_phone, normalize_phone
from akun.identity.models import ServiceSignIn
from akun.identity.notices import send_account_notice
from akun.identity.selfservice import CekResult, cek_akun
from akun.identity.signin import Outcome, Result, attempt, normalize_user_id
from akun.identity.terms import TERMS
from akun.identity.terms import current as current_terms
from akun.identity.throttle import (
    SECOND_FACTOR,
    Guarded,
    SigninLock,
    cek_akun_budget,
    client_address,
    guarded,
    signin_lock,
)

__all__ = [
    "SECOND_FACTOR",
    "TERMS",
    "CekResult",
    "Guarded",
    "Outcome",
    "Result",
    "ServiceSignIn",
    "SigninLock",
    "ask_password_again",
    "authenticated_at",
    "attempt",
    "cek_akun",
    "cek_akun_budget",
    "client_address",
    "current_terms",
    "do_record_service_sign_in",
    "do_sign_out_everywhere",
    "end_every_session",
    "guarded",
    "mask_email",
    "mask_phone",
    "normalize_phone",
    "normalize_user_id",
    "safe_next",
    "send_account_notice",
    "send_sms",
    "signin_lock",
    "sms_outbox_path",
]
