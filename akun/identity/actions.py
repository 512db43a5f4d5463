"""State changes of sign-in and self-service: atomic, audited, side effects on commit."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from akun.accounts import api as accounts_api
from akun.audit.api import Action, record
from akun.core import clock
from akun.identity import terms
from akun.identity.models import AccountRequest, ServiceSignIn, SessionGeneration


class ActivationOrderError(Exception):
    """Activation steps out of order (a password before the terms, or not `issued`)."""


def _iso(value):
    return value.isoformat() if value else None


def _scope(account) -> dict:
    sekolah = getattr(account, "sekolah", None) if account.sekolah_id else None
    if sekolah is None:
        return {}
    return {"npsn": sekolah.npsn, "kode_wilayah": sekolah.kode_wilayah}


def _locked(account):
    return get_user_model().objects.select_for_update().get(pk=account.pk)


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
def do_activate_account(account, new_password: str, *, actor: str):
    """issued -> active with a password of the holder's choosing; the initial password dies.

    Identity's rules come first: the account must be issued and have accepted the current
    terms (else ActivationOrderError), and the password must pass every rule (else
    ValidationError). The state change itself -- password set, initial password destroyed,
    state and dates, the `accounts.activate` audit row -- is accounts' do_activate_account,
    the one place it happens. Identity adds its own audit row with the terms accepted."""
    row = _locked(account)
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
def do_change_password(account, new_password: str, *, actor: str, reason: str = ""):
    """A new password for an active account (Akun Saya, or a reset with a code). Other
    sessions end: Django ties each session to the password hash."""
    row = _locked(account)
    if row.state != "active":
        raise ActivationOrderError(f"account is {row.state}, not active")
    validate_password(new_password, user=row)
    row.set_password(new_password)
    row.save(update_fields=["password"])
    account.password = row.password
    record(
        Action.IDENTITY_CHANGE_PASSWORD,
        actor=actor,
        object_type="account",
        object_id=row.user_id,
        reason=reason,
        before={"password": "old"},
        after={"password": "new"},
        **_scope(row),
    )
    # A reset (with a code) and a change by the holder are told apart downstream.
    kind = (
        accounts_api.EventKind.PASSWORD_RESET
        if "reset" in reason
        else (accounts_api.EventKind.PASSWORD_CHANGED)
    )
    accounts_api.record_event(kind, row.pk, actor=actor, reason=reason)
    return account


@transaction.atomic
def do_sign_out_everywhere(account, *, actor: str) -> int:
    now = clock.now()
    gen, _ = SessionGeneration.objects.select_for_update().get_or_create(
        account=account, defaults={"changed_at": now}
    )
    before = gen.generation
    gen.generation += 1
    gen.changed_at = now
    gen.save(update_fields=["generation", "changed_at"])
    record(
        Action.IDENTITY_SIGN_OUT_EVERYWHERE,
        actor=actor,
        object_type="account",
        object_id=account.user_id,
        before={"session_generation": before},
        after={"session_generation": gen.generation},
        **_scope(account),
    )
    accounts_api.record_event(accounts_api.EventKind.SIGNED_OUT, account.pk, actor=actor)
    return gen.generation


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
    "ValidationError",
    "do_accept_terms",
    "do_activate_account",
    "do_change_password",
    "do_record_service_sign_in",
    "do_request_account",
    "do_set_recovery_contact",
    "do_sign_out_everywhere",
]
