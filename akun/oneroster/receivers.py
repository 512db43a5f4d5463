"""The projection follows the change stream of accounts: a durable consumer (run by `akun
worker` and `akun events run`) refreshes the objects of the accounts in each batch.
Idempotent: a batch run twice changes nothing the second time.

dateLastModified is the time the consumer applied the change (at or after the event's
`at`), not the event's own time: a consumer that lags would otherwise write times in the
past, and a platform that already asked for "changes since T" (T after the event) would never
see the change. Deltas stay exact; the docs tell platforms to keep the largest
dateLastModified they received as their next `since`."""

from akun.accounts.api import EventKind, register_consumer
from akun.roster.api import roster_imported

CONSUMER = "oneroster"


def on_events(events) -> None:
    from akun.oneroster import project

    project.refresh({e.account_id for e in events})


def on_roster_imported(sender, run, **kwargs) -> None:
    """A new rombel or grade changes no account: the import's changed records are refreshed
    by a task (akun worker)."""
    from akun.oneroster.tasks import refresh_after_import

    refresh_after_import.enqueue(import_run=run.pk)


def connect() -> None:
    from akun.oneroster import services

    register_consumer(CONSUMER, list(EventKind), on_events)
    roster_imported.connect(on_roster_imported, dispatch_uid="akun.oneroster.refresh")
    services.connect()
