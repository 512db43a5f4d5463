"""Database sessions without the existence check before each new key.

Django's db backend SELECTs to see whether a fresh random key exists, then INSERTs with
must_create (which fails on a duplicate anyway). On the sign-in path that SELECT is pure
overhead: 32 random characters from 32 (160 bits) never collide in practice, and if one did,
the INSERT would raise CreateError and create() would pick another key."""

import secrets

from django.contrib.sessions.backends.base import CreateError
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.db import IntegrityError, connections, router

# 32 symbols: a random byte maps to one without bias; 32 of them carry 160 bits.
KEY_SYMBOLS = b"abcdefghijklmnopqrstuvwxyz012345"
_KEY_TABLE = bytes(KEY_SYMBOLS[i % 32] for i in range(256))


class SessionStore(DbSessionStore):
    def _get_new_session_key(self):
        # One urandom call instead of get_random_string's 32 (one per character).
        return secrets.token_bytes(32).translate(_KEY_TABLE).decode()

    def save(self, must_create=False):
        """A new session is one INSERT on a cursor: no BEGIN/COMMIT around a single statement
        and no model save (every sign-in creates a session). Inside a transaction, and for
        updates, Django's own path."""
        if self.session_key is None:
            return self.create()
        using = router.db_for_write(self.model)
        conn = connections[using]
        if not must_create or conn.in_atomic_block:
            return super().save(must_create=must_create)
        data = self._get_session(no_load=True)
        table = conn.ops.quote_name(self.model._meta.db_table)
        try:
            with conn.cursor() as cur:
                cur.execute(
                    f"INSERT INTO {table} (session_key, session_data, expire_date) "
                    "VALUES (%s, %s, %s)",
                    [
                        self.session_key,
                        self.encode(data),
                        conn.ops.adapt_datetimefield_value(self.get_expiry_date()),
                    ],
                )
        except IntegrityError as exc:
            raise CreateError from exc

    def cycle_key(self):
        """A session that was never saved has no key to rotate: let the first save create it
        (one INSERT at the end of the sign-in instead of an INSERT now and an UPDATE later)."""
        if self.session_key is None:
            self._session_cache = self._session
            self.modified = True
            return
        super().cycle_key()
