"""Operator actions on single accounts that the lifecycle adds."""

from django.db import transaction

from akun.accounts.api import Account, do_reactivate_account, do_reissue_account


def do_reactivate_with_new_password(account: Account, *, actor: str, reason: str) -> str:
    """A deactivated account back in use, with a new initial password (returned, so the
    operator can hand it over; it stays downloadable until activation). Two audit rows:
    accounts.reactivate and accounts.reissue."""
    with transaction.atomic():
        do_reactivate_account(account, actor=actor, reason=reason)
        return do_reissue_account(account, actor=actor, reason=f"reactivated: {reason}")
