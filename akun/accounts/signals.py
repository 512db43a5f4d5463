"""What other apps may follow of accounts' state changes.

`state_changed` is sent by every transition (actions._change) inside its transaction, after
the account row and its audit row are written: what a receiver writes commits or rolls back
with the change. Arguments: account (the locked row, in its new state), verb (a key of
TRANSITIONS), before (the state it left). Bulk updates outside actions send nothing."""

from django.dispatch import Signal

state_changed = Signal()
