"""An account that leaves `active` loses its SSO tokens at once.

A receiver on Account's post_save, so akun.accounts needs no change: every state change there
goes through Account.save() (accounts.actions._change). The validator checks the state on each
grant as well, for changes made without a save()."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from akun.accounts.api import Account

ENDED = {Account.State.SUSPENDED, Account.State.DEACTIVATED, Account.State.DELETED}


@receiver(post_save, sender=Account, dispatch_uid="akun.sso.revoke_on_state_change")
def revoke_when_account_stops(sender, instance, created, update_fields=None, **kwargs):
    if created or instance.state not in ENDED:
        return
    if update_fields is not None and "state" not in update_fields:
        return
    from akun.sso import actions

    # In the transaction of the state change: both happen or neither.
    actions.revoke_account_tokens(instance)
