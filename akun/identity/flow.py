"""The half-signed-in session: after a right password, before a full session.

An issued account (activation), an account with outdated terms, or a reset in progress holds
only a `pending` marker in its session: request.user stays anonymous, so no other page can be
reached until the steps are done. The marker expires after PENDING_SECONDS, and dies with
every other session of the account when its session generation moves on (a reset, a new
password, sign out everywhere: actions.end_every_session).
"""

from django.contrib.auth import get_user_model, login
from django.utils.http import url_has_allowed_host_and_scheme

from akun.audit.api import Action, record
from akun.core import clock
from akun.identity.models import SessionGeneration

PENDING = "akun_pending"
GENERATION = "akun_session_generation"
AUTH_TIME = "akun_auth_time"  # when this session last entered a password (a timestamp)
REAUTH = "akun_reauthenticate"  # the sign-in page asks again although signed in
PENDING_SECONDS = 30 * 60
BACKEND = "akun.identity.signin.AkunBackend"

ACTIVATE = "activate"  # issued: terms, then a new password
TERMS = "terms"  # active: a new terms version to accept
RESET = "reset"  # active: code checked, a new password to choose
APPEAL = "appeal"  # suspended for misuse, right password: may send an appeal, nothing else


def safe_next(request, url: str | None) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


def start(request, account, purpose: str, next_url: str = "", generation=None) -> None:
    """`generation`: the session generation the steps so far were checked under (a reset's
    code), else the account's as sign-in read it."""
    request.session.cycle_key()  # no session fixation across the password step
    request.session[PENDING] = {
        "account": account.pk,
        "purpose": purpose,
        "since": clock.now().timestamp(),
        "next": safe_next(request, next_url),
        "generation": _generation(account) if generation is None else generation,
    }


def pending(request):
    """(account, purpose, next) of a pending session, or (None, None, '')."""
    data = request.session.get(PENDING)
    if not data:
        return None, None, ""
    if clock.now().timestamp() - data.get("since", 0) > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None, None, ""
    account = get_user_model().objects.filter(pk=data["account"]).first()
    if account is None or data.get("generation", 0) != current_generation(account):
        request.session.pop(PENDING, None)  # ended since (a reset, sign out everywhere)
        return None, None, ""
    return account, data["purpose"], data.get("next", "")


def pending_generation(request) -> int:
    """The session generation the pending session began under (checked by pending())."""
    return (request.session.get(PENDING) or {}).get("generation", 0)


def end_pending(request) -> None:
    request.session.pop(PENDING, None)


def set_purpose(request, purpose: str) -> None:
    data = dict(request.session[PENDING])
    data["purpose"] = purpose
    request.session[PENDING] = data


def current_generation(account) -> int:
    gen = SessionGeneration.objects.filter(account=account).values_list("generation", flat=True)
    return gen.first() or 0


def _generation(account) -> int:
    """The account's session generation: as sign-in loaded it with the account, else read."""
    known = getattr(account, "session_generation_now", False)
    return (known or 0) if known is not False else current_generation(account)


def keep_session(request, account) -> None:
    """This session survives the end of the account's others (a password change here)."""
    request.session[GENERATION] = current_generation(account)


def ask_password_again(request) -> None:
    """The next visit to the sign-in page shows the form even to a signed-in person (SSO's
    prompt=login and max_age); signing in there moves authenticated_at()."""
    request.session[REAUTH] = True


def authenticated_at(request) -> float | None:
    """When this session's person last signed in with a password (None: unknown)."""
    return request.session.get(AUTH_TIME)


def complete(request, account) -> None:
    """A full session: only for an active account with the current terms."""
    request.session.pop(PENDING, None)
    request.session.pop(REAUTH, None)
    login(request, account, backend=BACKEND)
    request.session[AUTH_TIME] = clock.now().timestamp()
    request.session[GENERATION] = _generation(account)
    codes = getattr(account, "school_codes", None)  # loaded with the account at sign-in
    if codes is None:
        school = account.sekolah if account.sekolah_id else None
        codes = (school.npsn, school.kode_wilayah) if school else ("", "")
    record(
        Action.IDENTITY_SIGN_IN,
        actor=account.user_id,
        object_type="account",
        object_id=account.user_id,
        # So that the operator's and the region's audit views see their people's sign-ins.
        npsn=codes[0],
        kode_wilayah=codes[1],
    )
