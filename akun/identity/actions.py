"""State changes of sign-in and self-service: atomic, audited, side effects on commit."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from akun.accounts import api as accounts_api
from akun.audit.api import record
from akun.core import clock
from akun.identity import terms
from akun.identity.models import AccountRequest, ServiceSignIn, SessionGeneration
from akun.sso import api as sso_api


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
        "identity.accept_terms",
        actor=actor,
        object_type="account",
        object_id=row.user_id,
        before=before,
        after={"terms_version": version, "terms_accepted_at": _iso(row.terms_accepted_at)},
        **_scope(row),
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
        "identity.activate_account",
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
    generation = end_every_session(row.pk, reason=reason or "password changed")
    record(
        "identity.change_password",
        actor=actor,
        object_type="account",
        object_id=row.user_id,
        reason=reason,
        before={"password": "old"},
        after={"password": "new", "session_generation": generation},
        **_scope(row),
    )
    return account


def end_every_session(account_id: int, *, reason: str) -> int:
    """Whatever is signed in as the account stops: its sessions at Akun, full or half-way
    (activation, reset, new terms, appeal: flow and the middleware compare the generation
    this bumps), and every SSO grant (sso's revoke_account_grants), which ends its OpenID
    Connect and SAML sign-ins at Akun too, since those ride on the Akun session.

    The one entry point for every event that must end them: call it inside the event's
    transaction (its audit row records the event). Returns the new generation."""
    with transaction.atomic():
        now = clock.now()
        gen, _ = SessionGeneration.objects.select_for_update().get_or_create(
            account_id=account_id, defaults={"changed_at": now}
        )
        gen.generation += 1
        gen.changed_at = now
        gen.save(update_fields=["generation", "changed_at"])
        sso_api.revoke_account_grants(account_id, reason=reason)
    return gen.generation


# Account transitions after which nothing signed in before may go on: leaving `active` or
# `issued`, coming back (a session or token the bulk path left would revive), a reissue.
ENDS_SESSIONS = {"suspend", "unsuspend", "deactivate", "reactivate", "delete", "reissue"}


def end_sessions_on_state_change(sender, account, verb, **kwargs):
    """Receiver of accounts' state_changed (connected in IdentityConfig.ready)."""
    if verb in ENDS_SESSIONS:
        end_every_session(account.pk, reason=f"accounts.{verb}")


@transaction.atomic
def do_sign_out_everywhere(account, *, actor: str) -> int:
    generation = end_every_session(account.pk, reason="sign out everywhere")
    record(
        "identity.sign_out_everywhere",
        actor=actor,
        object_type="account",
        object_id=account.user_id,
        before={"session_generation": generation - 1},
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
        "identity.request_account",
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
