"""Reads that tolerate lag, from a streaming replica (AKUN_READ_REPLICA_URL).

    with reading_from_replica():          # a block of a view, a report, an API
        rows = list(Sekolah.objects.filter(...))

    @read_from_replica                    # a whole read-only view
    def npsn_search_view(request): ...

Inside, the ORM's reads go to the `replica` alias (ReplicaRouter); writes always go to the
primary (`default`), so a throttle row or a session written by the same request is safe, and a
raw write on connections["replica"] fails: PostgreSQL refuses it on a standby. Raw SQL on
django.db.connection stays on the primary; use connections[replica_alias()] to read there.

When the replica does not answer, reads fall back to the primary: a warning is logged and the
replica is left alone for AKUN_READ_REPLICA_RETRY_SECONDS. A marked view whose replica
connection breaks mid-request runs once more on the primary (it reads only, so that is safe).
Without AKUN_READ_REPLICA_URL all of this is a no-op.
"""

import contextvars
import functools
import logging
import time
from contextlib import contextmanager

from django.conf import settings
from django.db import OperationalError, connections

log = logging.getLogger("akun.replica")
ALIAS = "replica"
_reading = contextvars.ContextVar("akun_reading_from_replica", default=False)
_down_until = {"t": 0.0}


def configured() -> bool:
    return ALIAS in settings.DATABASES


def _mark_down(exc: BaseException) -> None:
    _down_until["t"] = time.monotonic() + float(settings.AKUN_READ_REPLICA_RETRY_SECONDS)
    log.warning("read replica unavailable, reading from the primary: %s", exc)
    try:
        connections[ALIAS].close()
    except Exception:  # noqa: BLE001 - already broken
        pass


def _available() -> bool:
    if not configured() or time.monotonic() < _down_until["t"]:
        return False
    try:
        connections[ALIAS].ensure_connection()
    except OperationalError as exc:
        _mark_down(exc)
        return False
    return True


def replica_alias() -> str:
    """The alias to read from now: `replica` inside reading_from_replica() when it answers,
    else `default`."""
    return ALIAS if _reading.get() and _available() else "default"


@contextmanager
def reading_from_replica():
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


def read_from_replica(view):
    """Marks a read-only view: its reads go to the replica, falling back to the primary."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not configured():
            return view(request, *args, **kwargs)
        try:
            with reading_from_replica():
                return view(request, *args, **kwargs)
        except OperationalError as exc:
            conn = connections[ALIAS]
            if conn.connection is not None and conn.is_usable():
                raise  # not the replica's fault
            _mark_down(exc)
            return view(request, *args, **kwargs)

    return wrapped


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return replica_alias()

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies

    def allow_migrate(self, db, app_label, **hints):
        return db == "default"
