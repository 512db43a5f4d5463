"""Database sessions without the existence check before each new key.

Django's db backend SELECTs to see whether a fresh random key exists, then INSERTs with
must_create (which fails on a duplicate anyway). On the sign-in path that SELECT is pure
overhead: 32 random characters from 36 never collide in practice, and if one did, the INSERT
would raise CreateError and create() would pick another key."""

from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.utils.crypto import get_random_string

VALID_KEY_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


class SessionStore(DbSessionStore):
    def _get_new_session_key(self):
        return get_random_string(32, VALID_KEY_CHARS)

    def cycle_key(self):
        """A session that was never saved has no key to rotate: let the first save create it
        (one INSERT at the end of the sign-in instead of an INSERT now and an UPDATE later)."""
        if self.session_key is None:
            self._session_cache = self._session
            self.modified = True
            return
        super().cycle_key()
