"""The projection follows the change stream of accounts: a durable consumer (run by `akun
worker` and `akun events run`) refreshes the objects of the accounts in each batch.
Idempotent: a batch run twice changes nothing the second time.

dateLastModified is the time the consumer applied the change (at or after the event's
`at`), not the event's own time: a consumer that lags would otherwise write times in the
past, and a platform that already asked for "changes since T" (T after the event) would never
see the change. Deltas stay exact; the docs tell platforms to keep the largest
dateLastModified they received as their next `since`."""

from akun.accounts.api import EventKind, register_consumer

CONSUMER = "oneroster"


def on_events(events) -> None:
    from akun.oneroster import project

    project.refresh({e.account_id for e in events})


def connect() -> None:
    from akun.oneroster import services

    register_consumer(CONSUMER, list(EventKind), on_events)
    services.connect()
