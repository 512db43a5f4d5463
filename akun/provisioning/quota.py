"""One rate budget for every worker on every node: a token bucket per quota (Google's is
per project: one bucket per target), refilled at AKUN_PROVISION_QUOTA_PER_MINUTE (or the
target's own `quota_per_minute`). Each API call takes a token, calls inside a batch too.

In Redis when AKUN_REDIS_URL is set (one Lua script, atomic), else in the database (one
UPDATE on the QuotaBucket row): both nodes see the same bucket either way. The bucket holds
at most one second of calls and spends 98% of the quota, so a quiet spell never lets a
burst past Google's per-minute count (a rolling minute). `penalise` empties it for a
while: when the target refuses for quota, every worker slows down, not only the one that
was refused."""

import time

from django.conf import settings
from django.db import connection, transaction

from akun.provisioning.models import QuotaBucket

HEADROOM = 0.98

_LUA = """
local rate = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'updated') or ARGV[4])
tokens = math.min(cap, tokens + math.max(0, now - last) * rate)
local got = 0
if tokens >= 1 then
  got = math.min(want, math.floor(tokens))
  tokens = tokens - got
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
return {got, tostring(tokens)}
"""

_LUA_PENALISE = """
local now = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'tokens', tostring(-tonumber(ARGV[1])), 'updated', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
return 1
"""


class Bucket:
    """take(n) blocks until it has n tokens (or `timeout` passes: then what it got)."""

    def __init__(self, name: str, per_minute: int, *, redis_url: str | None = None):
        self.name = name
        self.per_minute = per_minute
        # A little under the quota: the target counts a rolling minute, and a bucket that
        # was full when the minute began adds up to one second of calls to it.
        self.rate = per_minute * HEADROOM / 60.0
        self.capacity = max(1.0, self.rate)  # one second of calls
        url = settings.AKUN_REDIS_URL if redis_url is None else redis_url
        self._redis = None
        if url:
            import redis

            self._redis = redis.Redis.from_url(url)
            self._take = self._redis.register_script(_LUA)
            self._penalise = self._redis.register_script(_LUA_PENALISE)
        self.waited = 0.0  # seconds spent waiting for tokens (benchmarks)

    @property
    def key(self) -> str:
        return f"akun:provision:quota:{self.name}"

    # -- one attempt -----------------------------------------------------------------------

    def _try(self, want: int) -> tuple[int, float]:
        """Tokens taken now (0..want) and the tokens left (negative: in a penalty)."""
        now = time.time()
        if self._redis is not None:
            got, left = self._take(keys=[self.key], args=[self.rate, self.capacity, want, now])
            return int(got), float(left)
        table = QuotaBucket._meta.db_table
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} (name, tokens, updated) VALUES (%s, %s, %s) "
                "ON CONFLICT (name) DO NOTHING",
                [self.name, 0.0, now],
            )
            lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
            cur.execute(f"SELECT tokens, updated FROM {table} WHERE name = %s{lock}", [self.name])
            tokens, updated = cur.fetchone()
            avail = min(self.capacity, tokens + max(0.0, now - updated) * self.rate)
            got = min(want, int(avail)) if avail >= 1 else 0
            cur.execute(
                f"UPDATE {table} SET tokens = %s, updated = %s WHERE name = %s",
                [avail - got, max(now, updated), self.name],
            )
        return got, avail - got

    def take(self, want: int, *, timeout: float | None = None) -> int:
        """Wait for `want` tokens (taking what is there as it comes); returns the number
        taken: `want`, or fewer if `timeout` passed first."""
        want = max(0, int(want))
        got = 0
        start = time.monotonic()
        while got < want:
            n, left = self._try(want - got)
            got += n
            if got >= want:
                break
            if timeout is not None and time.monotonic() - start >= timeout:
                break
            # Sleep until the rest (at most a bucket) could be there.
            need = min(want - got, self.capacity) - max(left, 0.0)
            if left < 0:
                need = -left + min(want - got, self.capacity)
            time.sleep(min(2.0, max(0.005, need / self.rate)))
        self.waited += time.monotonic() - start
        return got

    def penalise(self, seconds: float) -> None:
        """Nothing for anyone for `seconds` (the bucket goes that far below zero)."""
        tokens = seconds * self.rate
        if self._redis is not None:
            self._penalise(keys=[self.key], args=[tokens, time.time()])
            return
        table = QuotaBucket._meta.db_table
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                f"UPDATE {table} SET tokens = %s, updated = %s WHERE name = %s",
                [-tokens, time.time(), self.name],
            )

    def reset(self) -> None:
        if self._redis is not None:
            self._redis.delete(self.key)
        else:
            QuotaBucket.objects.filter(name=self.name).delete()


def bucket_for(target, *, batch: int = 1) -> Bucket:
    per_minute = int(
        (target.config or {}).get("quota_per_minute") or settings.AKUN_PROVISION_QUOTA_PER_MINUTE
    )
    name = (target.config or {}).get("quota_name") or target.name
    return Bucket(name, per_minute)
