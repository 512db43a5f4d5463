"""State changes of one account: do_<verb>_account(account, *, actor, reason).

Each is atomic, re-reads the account under a row lock, refuses a transition that the table
below does not allow, writes one audit row with the state before and after and one event
to the change stream (its subscribers run in the transaction). The bulk twin, over sets of
accounts, is akun.accounts.bulk.transition_many.
"""

from django.contrib.auth.hashers import make_password
from django.db import transaction

from akun.accounts import crypto, stream
from akun.accounts.models import Account, AccountEvent
from akun.accounts.password_hooks import password_set
from akun.audit import api as audit
from akun.core import clock

S = Account.State

# verb -> (states it may start from, state it ends in; None = back to issued/active).
TRANSITIONS: dict[str, tuple[set[str], str | None]] = {
    "activate": ({S.ISSUED}, S.ACTIVE),
    "suspend": ({S.ISSUED, S.ACTIVE}, S.SUSPENDED),
    "unsuspend": ({S.SUSPENDED}, None),
    "deactivate": ({S.ISSUED, S.ACTIVE, S.SUSPENDED}, S.DEACTIVATED),
    "reactivate": ({S.DEACTIVATED}, None),
    "delete": ({S.ISSUED, S.ACTIVE, S.SUSPENDED, S.DEACTIVATED}, S.DELETED),
    "reissue": ({S.ISSUED, S.ACTIVE}, S.ISSUED),
}


K = AccountEvent.Kind
# The event each verb writes to the change stream.
VERB_KIND = {
    "activate": K.ACTIVATED,
    "suspend": K.SUSPENDED,
    "unsuspend": K.UNSUSPENDED,
    "deactivate": K.DEACTIVATED,
    "reactivate": K.REACTIVATED,
    "delete": K.DELETED,
    "reissue": K.PASSWORD_RESET,  # a new initial password, by an operator
}


class TransitionNotAllowed(Exception):
    pass


def _snapshot(account: Account) -> dict:
    return {
        "state": account.state,
        "has_initial_password": account.initial_password_enc is not None,
    }


def _change(account: Account, verb: str, *, actor: str, reason: str, apply) -> Account:
    with transaction.atomic():
        locked = (
            Account.objects.select_for_update(of=("self",))
            .select_related("sekolah")
            .get(pk=account.pk)
        )
        allowed_from, target = TRANSITIONS[verb]
        if locked.state not in allowed_from:
            raise TransitionNotAllowed(f"cannot {verb} an account that is {locked.state}")
        before = _snapshot(locked)
        if target is None:  # back to where it was before: active if it was ever activated
            target = S.ACTIVE if locked.activated_at else S.ISSUED
        locked.state = target
        locked.state_changed_at = clock.now()
        apply(locked)
        locked.save()
        sekolah = locked.sekolah
        audit.record(
            f"accounts.{verb}",
            actor=actor,
            object_type="account",
            object_id=locked.user_id,
            reason=reason,
            before=before,
            after=_snapshot(locked),
            npsn=sekolah.npsn if sekolah else "",
            kode_wilayah=sekolah.kode_wilayah if sekolah else "",
        )
        stream.emit(VERB_KIND[verb], locked.pk, actor=actor, reason=reason)
    account.refresh_from_db()
    return account


def do_activate_account(account: Account, *, raw_password: str, actor: str, reason: str = ""):
    """First sign-in done: the user's own password (argon2id); the initial one is destroyed."""

    def apply(a):
        a.password = make_password(raw_password)
        a.initial_password_enc = None
        a.activated_at = clock.now()

    with transaction.atomic():
        _change(account, "activate", actor=actor, reason=reason, apply=apply)
        password_set(account.pk, raw_password, reason="activate")
    return account


def do_suspend_account(account: Account, *, actor: str, reason: str):
    return _change(account, "suspend", actor=actor, reason=reason, apply=lambda a: None)


def do_unsuspend_account(account: Account, *, actor: str, reason: str):
    return _change(account, "unsuspend", actor=actor, reason=reason, apply=lambda a: None)


def do_deactivate_account(account: Account, *, actor: str, reason: str):
    return _change(account, "deactivate", actor=actor, reason=reason, apply=lambda a: None)


def do_reactivate_account(account: Account, *, actor: str, reason: str):
    return _change(account, "reactivate", actor=actor, reason=reason, apply=lambda a: None)


def do_delete_account(account: Account, *, actor: str, reason: str):
    """Personal data removed; the user ID stays reserved forever (never handed out again)."""

    def apply(a):
        a.password = make_password(None)
        a.initial_password_enc = None
        a.nama = ""
        a.person_id = None
        a.recovery_email = a.recovery_phone = ""
        a.recovery_email_verified_at = a.recovery_phone_verified_at = None

    return _change(account, "delete", actor=actor, reason=reason, apply=apply)


def do_reissue_account(account: Account, *, actor: str, reason: str) -> str:
    """A new initial password (lost letter, forgotten password); the user ID is unchanged.

    Returns the new password so the operator can hand it over; it stays downloadable
    (encrypted) until activation, like the first one.
    """
    new_password = crypto.generate_initial_password()

    def apply(a):
        a.password = make_password(None)
        a.initial_password_enc = crypto.encrypt(new_password)
        a.activated_at = None

    with transaction.atomic():
        _change(account, "reissue", actor=actor, reason=reason, apply=apply)
        password_set(account.pk, new_password, reason="reissue")
    return new_password
