"""State changes of sign-in and self-service: atomic, audited, side effects on commit."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from akun.accounts import api as accounts_api
from akun.audit.api import Action, record
from akun.core import clock
from akun.identity import terms
from akun.identity.flow import current_generation
from akun.identity.models import AccountRequest, ServiceSignIn, SessionGeneration


class ActivationOrderError(Exception):
    """Activation steps out of order (a password before the terms, or not `issued`)."""


class SessionEnded(ActivationOrderError):
    """The half-finished session doing this step has been ended (a reset, a new password,
    sign out everywhere) since it began."""


def _iso(value):
    return value.isoformat() if value else None


def _scope(account) -> dict:
    sekolah = getattr(account, "sekolah", None) if account.sekolah_id else None
    if sekolah is None:
        return {}
    return {"npsn": sekolah.npsn, "kode_wilayah": sekolah.kode_wilayah}


def _locked(account, session_generation=None):
    """The account's row, locked. With the session generation a pending session began
    under: refused if its sessions were ended since. Under the lock, so an end that commits
    after the page checked the pending session (a reset holds the same lock) still wins."""
    row = get_user_model().objects.select_for_update().get(pk=account.pk)
    if session_generation is not None:
        now = SessionGeneration.objects.filter(account_id=row.pk).values_list(
            "generation", flat=True
        )
        if session_generation != (now.first() or 0):
            raise SessionEnded(f"the sessions of {row.user_id} were ended meanwhile")
    return row


@transaction.atomic
def do_accept_terms(account, version: str, *, actor: str):
    if version not in {t.version for t in terms.TERMS}:
        raise ValueError(f"unknown terms version {version!r}")
    row = _locked(account)
    before = {"terms_version": row.terms_version, "terms_accepted_at": _iso(row.terms_accepted_at)}
    row.terms_version = version
    row.terms_accepted_at = clock.now()
    row.save(update_fields=["terms_version", "terms_accepted_at"])
    account.terms_version, account.terms_accepted_at = row.terms_version, row.terms_accepted_at
    record(
        Action.IDENTITY_ACCEPT_TERMS,
        actor=actor,
        object_type="account",
        object_id=row.user_id,
        before=before,
        after={"terms_version": version, "terms_accepted_at": _iso(row.terms_accepted_at)},
        **_scope(row),
    )
    accounts_api.record_event(
        accounts_api.EventKind.TERMS_ACCEPTED, row.pk, data={"version": version}, actor=actor
    )
    return account


@transaction.atomic
def do_activate_account(account, new_password: str, *, actor: str, session_generation=None):
    """issued -> active with a password of the holder's choosing; the initial password dies.

    Identity's rules come first: the account must be issued and have accepted the current
    terms (else ActivationOrderError), and the password must pass every rule (else
    ValidationError). The state change itself -- password set, initial password destroyed,
    state and dates, the `accounts.activate` audit row -- is accounts' do_activate_account,
    the one place it happens. Identity adds its own audit row with the terms accepted.
    `session_generation`: that of the pending session (else SessionEnded)."""
    row = _locked(account, session_generation)
    if row.state != "issued":
        raise ActivationOrderError(f"account is {row.state}, not issued")
    if terms.needs_acceptance(row):
        raise ActivationOrderError("the current terms of use must be accepted first")
    validate_password(new_password, user=row)
    accounts_api.do_activate_account(
        row,
        raw_password=new_password,
        actor=actor,
        reason=f"first sign-in: terms {row.terms_version} accepted, own password chosen",
    )
    record(
        Action.IDENTITY_ACTIVATE_ACCOUNT,
        actor=actor,
        object_type="account",
        object_id=row.user_id,
        before={"state": "issued", "activated_at": None, "initial_password": "stored"},
        after={
            "state": row.state,
            "activated_at": _iso(row.activated_at),
            "initial_password": "destroyed",
            "terms_version": row.terms_version,
        },
        **_scope(row),
    )
    for name in ("password", "initial_password_enc", "state", "state_changed_at", "activated_at"):
        setattr(account, name, getattr(row, name))
    return account


@transaction.atomic
def do_change_password(
    account, new_password: str, *, actor: str, reason: str = "", session_generation=None
):
    """A new password for an active account (Akun Saya, or a reset with a code). Every
    session of the account ends, half-finished resets included, and every SSO grant; the
    caller may keep its own session (flow.keep_session). `session_generation`: that of a
    reset's pending session (else SessionEnded)."""
    row = _locked(account, session_generation)
    if row.state != "active":
        raise ActivationOrderError(f"account is {row.state}, not active")
    validate_password(new_password, user=row)
    row.set_password(new_password)
    row.save(update_fields=["password"])
    account.password = row.password
    # The event ends every session (end_sessions_of_change) and SSO grant (sso), subscribed.
    kind = K.PASSWORD_RESET if "reset" in reason else K.PASSWORD_CHANGED
    accounts_api.password_set(
        row.pk, new_password, reason="reset" if kind == K.PASSWORD_RESET else "change"
    )
    accounts_api.record_event(kind, row.pk, actor=actor, reason=reason or "password changed")
    record(
        Action.IDENTITY_CHANGE_PASSWORD,
        actor=actor,
        object_type="account",
        object_id=row.user_id,
        reason=reason,
        before={"password": "old"},
        after={"password": "new", "session_generation": current_generation(row)},
        **_scope(row),
    )
    return account


def end_every_session(account_id: int, *, reason: str) -> int:
    """Whatever is signed in as the account stops: its sessions at Akun, full or half-way
    (activation, reset, new terms, appeal: flow and the middleware compare the generation
    this bumps). sso revokes the account's grants on the same events (its own subscriber),
    which ends its OpenID Connect and SAML sign-ins at Akun too.

    Run by end_sessions_of_change for every event that must end them, inside the event's
    transaction (its audit row records the event). Returns the new generation."""
    with transaction.atomic():
        now = clock.now()
        gen, _ = SessionGeneration.objects.select_for_update().get_or_create(
            account_id=account_id, defaults={"changed_at": now}
        )
        gen.generation += 1
        gen.changed_at = now
        gen.save(update_fields=["generation", "changed_at"])
    return gen.generation


K = accounts_api.EventKind
ENDS_SESSIONS = accounts_api.ENDS_SESSIONS
# Leaving: Django refuses a session of an account that is not active (Account.is_active)
# and the token endpoint checks the state on every grant, so a bulk set's sessions need no
# new generation (a national sweep would write a row per account); its tokens are revoked,
# and the way back (unsuspend, reactivate) bumps the generation.
_LEAVING = {K.SUSPENDED, K.DEACTIVATED, K.DELETED}


def end_sessions_of_change(change) -> None:
    """Subscriber (accounts.api.subscribe, in the change's transaction) for ENDS_SESSIONS:
    one account through end_every_session, a bulk set in a few set-based statements."""
    reason = change.reason or f"accounts.{change.kind}"
    if change.count == 1:
        for account_id in change.account_ids():
            end_every_session(account_id, reason=reason)
        return
    if change.kind not in _LEAVING:
        _bump_generations(change.ids_sql, change.params)


def _bump_generations(ids_sql: str, params: dict) -> None:
    """A new session generation for every account of the set (one upsert)."""
    from django.db import connection

    table = SessionGeneration._meta.db_table
    now = connection.ops.adapt_datetimefield_value(clock.now())
    with connection.cursor() as cur:
        cur.execute(
            f"WITH x(id) AS ({ids_sql}) INSERT INTO {table} (account_id, generation, changed_at) "
            "SELECT x.id, 1, %(gen_now)s FROM x WHERE true "
            f"ON CONFLICT (account_id) DO UPDATE SET generation = {table}.generation + 1, "
            "changed_at = excluded.changed_at",
            {**params, "gen_now": now},
        )


@transaction.atomic
def do_sign_out_everywhere(account, *, actor: str) -> int:
    before = current_generation(account)
    # The event ends every session (end_sessions_of_change) and SSO grant (sso), subscribed.
    accounts_api.record_event(K.SIGNED_OUT, account.pk, actor=actor, reason="sign out everywhere")
    generation = current_generation(account)
    record(
        Action.IDENTITY_SIGN_OUT_EVERYWHERE,
        actor=actor,
        object_type="account",
        object_id=account.user_id,
        before={"session_generation": before},
        after={"session_generation": generation},
        **_scope(account),
    )
    return generation


@transaction.atomic
def do_set_recovery_contact(account, kind: str, value: str, *, actor: str):
    """A verified recovery e-mail or phone (verification happened before: a code)."""
    if kind not in ("email", "phone"):
        raise ValueError(kind)
    row = _locked(account)
    field, at_field = f"recovery_{kind}", f"recovery_{kind}_verified_at"
    before = {field: getattr(row, field), at_field: _iso(getattr(row, at_field))}
    setattr(row, field, value)
    setattr(row, at_field, clock.now())
    row.save(update_fields=[field, at_field])
    setattr(account, field, value)
    setattr(account, at_field, getattr(row, at_field))
    record(
        f"identity.set_recovery_{kind}",
        actor=actor,
        object_type="account",
        object_id=row.user_id,
        before=before,
        after={field: value, at_field: _iso(getattr(row, at_field))},
        **_scope(row),
    )
    accounts_api.record_event(
        accounts_api.EventKind.PROFILE_CHANGED, row.pk, data={"field": field}, actor=actor
    )
    return account


@transaction.atomic
def do_request_account(
    *, role, npsn, nama, tanggal_lahir, contact, message, explanation, client_address, actor
):
    req = AccountRequest.objects.create(
        role=role,
        npsn=npsn,
        nama=nama,
        tanggal_lahir=tanggal_lahir,
        contact=contact,
        message=message,
        explanation=explanation,
        created_at=clock.now(),
        client_address=client_address,
    )
    record(
        Action.IDENTITY_REQUEST_ACCOUNT,
        actor=actor,
        object_type="account_request",
        object_id=req.pk,
        after={"role": role, "npsn": npsn, "nama": nama},
        npsn=npsn,
    )
    return req


def do_record_service_sign_in(account, service_id: str, service_name: str):
    """For the SSO work: note that the account signed in to a service (shown in Akun Saya).
    Not audited here: the SSO flow records its own audit event."""
    now = clock.now()
    obj, created = ServiceSignIn.objects.get_or_create(
        account=account,
        service_id=service_id,
        defaults={"service_name": service_name, "first_at": now, "last_at": now},
    )
    if not created:
        ServiceSignIn.objects.filter(pk=obj.pk).update(last_at=now, service_name=service_name)
    return obj


__all__ = [
    "ActivationOrderError",
    "SessionEnded",
    "ValidationError",
    "do_accept_terms",
    "do_activate_account",
    "do_change_password",
    "do_record_service_sign_in",
    "do_request_account",
    "do_set_recovery_contact",
    "do_sign_out_everywhere",
    "end_every_session",
]
