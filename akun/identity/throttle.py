"""Throttling of failures with growing delays and a temporary lock.

A key (an account's user ID as typed, a client address, a Cek Akun client) collects failures.
After `free` failures each further try must wait base * 2^(n - free - 1) seconds (capped), and
after `lock_after` failures the key is locked for `lock_seconds`. Failures are forgotten
`window` seconds after the last one. Keys for unknown user IDs behave exactly like keys for
real ones, so throttling does not reveal which user IDs exist.

State lives in the database (model Throttle) unless AKUN_REDIS_URL is set. `guarded` (the
second factor of admin accounts) always uses the database: there the decision, the try and its
count are one step under a row lock, so concurrent tries cannot slip past the limit.
"""

import datetime as dt
import ipaddress
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.dateparse import parse_datetime

from akun.core import clock
from akun.identity.models import Throttle


@dataclass(frozen=True)
class Policy:
    name: str
    free: int
    base_delay: float
    max_delay: float
    lock_after: int
    lock_seconds: int
    window: int


# A whole school often signs in from one address (a lab behind one NAT): be generous there.
ACCOUNT = Policy("acct", free=3, base_delay=1, max_delay=60, lock_after=10, lock_seconds=900,
                 window=3600)  # fmt: skip
ADDRESS = Policy("addr", free=30, base_delay=1, max_delay=60, lock_after=300, lock_seconds=900,
                 window=3600)  # fmt: skip
# Every Cek Akun lookup counts: it must not serve to harvest user IDs.
CEK_AKUN = Policy("cek", free=10, base_delay=2, max_delay=300, lock_after=40, lock_seconds=3600,
                  window=3600)  # fmt: skip
# Code sends and reset attempts per account and per address.
RESET = Policy("reset", free=5, base_delay=5, max_delay=300, lock_after=20, lock_seconds=3600,
               window=3600)  # fmt: skip
# Second-factor codes (TOTP and recovery codes) per admin account, across sessions: at most 4
# at once, 10 in the first hour, then one an hour while failures keep coming within a day.
SECOND_FACTOR = Policy("mfa", free=3, base_delay=2, max_delay=300, lock_after=10,
                       lock_seconds=3600, window=86400)  # fmt: skip


@dataclass(frozen=True)
class State:
    failures: int = 0
    last_failure_at: dt.datetime | None = None


@dataclass(frozen=True)
class Decision:
    wait: int = 0  # seconds until the next try is allowed; 0 = allowed now
    locked: bool = False

    @property
    def allowed(self) -> bool:
        return self.wait <= 0


def decide(state: State, policy: Policy, now: dt.datetime) -> Decision:
    if not state.failures or state.last_failure_at is None:
        return Decision()
    since = (now - state.last_failure_at).total_seconds()
    if since > policy.window:
        return Decision()
    if state.failures >= policy.lock_after:
        left = policy.lock_seconds - since
        if left > 0:
            return Decision(wait=math.ceil(left), locked=True)
        return Decision()
    if state.failures > policy.free:
        delay = min(policy.base_delay * 2 ** (state.failures - policy.free - 1), policy.max_delay)
        left = delay - since
        if left > 0:
            return Decision(wait=math.ceil(left))
    return Decision()


def aware(value) -> dt.datetime:
    """A timestamp read on a bare cursor as the ORM would give it (SQLite hands back text);
    identity's sign-in reads the throttle rows with the account."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def _ttl() -> int:
    return max(
        p.window + p.lock_seconds for p in (ACCOUNT, ADDRESS, CEK_AKUN, RESET, SECOND_FACTOR)
    )


class DatabaseStore:
    def get_many(self, keys: list[str]) -> dict[str, State]:
        rows = Throttle.objects.filter(key__in=keys).values_list(
            "key", "failures", "last_failure_at"
        )
        return {k: State(f, t) for k, f, t in rows}

    def fail(self, key: str, policy: Policy) -> State:
        now = clock.now()
        for _ in range(3):
            try:
                with transaction.atomic():
                    row = Throttle.objects.select_for_update().filter(key=key).first()
                    if row is None:
                        row = Throttle.objects.create(key=key, failures=1, last_failure_at=now)
                    else:
                        expired = (now - row.last_failure_at).total_seconds() > policy.window
                        row.failures = 1 if expired else row.failures + 1
                        row.last_failure_at = now
                        row.save(update_fields=["failures", "last_failure_at"])
                    return State(row.failures, row.last_failure_at)
            except IntegrityError:  # created concurrently: take the update path
                continue
        raise RuntimeError(f"could not record a failure for {key}")

    def clear(self, key: str) -> None:
        Throttle.objects.filter(key=key).delete()


_FAIL_LUA = """
local f = tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 't') or '0')
local now = tonumber(ARGV[1])
if now - last > tonumber(ARGV[2]) then f = 0 end
f = f + 1
redis.call('HSET', KEYS[1], 'f', f, 't', ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return f
"""


class RedisStore:
    def __init__(self, url: str, prefix: str):
        import redis

        self.client = redis.Redis.from_url(url)
        self.prefix = prefix
        self._fail = self.client.register_script(_FAIL_LUA)

    def _k(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def get_many(self, keys: list[str]) -> dict[str, State]:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.hmget(self._k(key), "f", "t")
        out = {}
        for key, (f, t) in zip(keys, pipe.execute(), strict=True):
            if f is not None:
                out[key] = State(int(f), dt.datetime.fromtimestamp(float(t), dt.UTC))
        return out

    def fail(self, key: str, policy: Policy) -> State:
        now = clock.now()
        ttl = max(_ttl(), policy.window + policy.lock_seconds)  # a day-long budget lives a day
        failures = self._fail(keys=[self._k(key)], args=[now.timestamp(), policy.window, ttl])
        return State(int(failures), now)

    def clear(self, key: str) -> None:
        self.client.delete(self._k(key))


_stores: dict = {}


def store():
    url = getattr(settings, "AKUN_REDIS_URL", "")
    prefix = getattr(settings, "AKUN_REDIS_PREFIX", "akun:throttle:")
    cache_key = (url, prefix)
    if cache_key not in _stores:
        _stores[cache_key] = RedisStore(url, prefix) if url else DatabaseStore()
    return _stores[cache_key]


def account_key(user_id: str) -> str:
    return f"{ACCOUNT.name}:{user_id.strip().lower()[:180]}"


def address_key(policy: Policy, address: str) -> str:
    return f"{policy.name}:ip:{address_network(address)}"


def address_network(address: str) -> str:
    """What one client controls: an IPv4 address, or an IPv6 /64 (a home or a phone gets a
    whole /64 and can pick any address in it)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(getattr(ip, "ipv4_mapped", None) or ip)


def check(pairs: list[tuple[str, Policy]]) -> Decision:
    return check_with_states(pairs)[0]


def check_with_states(pairs: list[tuple[str, Policy]]) -> tuple[Decision, dict[str, State]]:
    """The strictest decision over several (key, policy) pairs, in one store round trip."""
    states = store().get_many([k for k, _ in pairs])
    return evaluate(pairs, states), states


def in_database() -> bool:
    """Whether throttle state lives in the database (so a caller may read it in its own
    statement: identity's sign-in reads it with the account)."""
    return isinstance(store(), DatabaseStore)


def evaluate(pairs: list[tuple[str, Policy]], states: dict[str, State]) -> Decision:
    """The strictest decision over several (key, policy) pairs, given their states."""
    now = clock.now()
    worst = Decision()
    for key, policy in pairs:
        d = decide(states.get(key, State()), policy, now)
        if d.wait > worst.wait or (d.locked and not worst.locked):
            worst = Decision(wait=max(d.wait, worst.wait), locked=d.locked or worst.locked)
    return worst


def fail(pairs: list[tuple[str, Policy]]) -> None:
    s = store()
    for key, policy in pairs:
        s.fail(key, policy)


def clear(key: str) -> None:
    store().clear(key)


@dataclass(frozen=True)
class Guarded:
    decision: Decision  # refused (not allowed) means the try was not made
    ok: bool = False
    failures: int = 0  # failures under the key after this try


def guarded(key: str, policy: Policy, attempt: Callable[[], bool]) -> Guarded:
    """Decide, make the try (`attempt()` -> right or wrong) and count it, as one step.

    The key's row is locked for the whole step (in the database whatever the store), so
    concurrent tries under one key take turns and each sees the failures of the ones before:
    a burst gets no more tries than a patient sequence. A right try clears the failures."""
    with transaction.atomic():
        Throttle.objects.bulk_create(
            [Throttle(key=key, failures=0, last_failure_at=clock.now())], ignore_conflicts=True
        )
        row = Throttle.objects.select_for_update().get(key=key)
        now = clock.now()  # after the wait for the lock
        decision = decide(State(row.failures, row.last_failure_at), policy, now)
        if not decision.allowed:
            return Guarded(decision, failures=row.failures)
        ok = attempt()
        expired = (now - row.last_failure_at).total_seconds() > policy.window
        row.failures = 0 if ok else (1 if expired else row.failures + 1)
        row.last_failure_at = now
        row.save(update_fields=["failures", "last_failure_at"])
        return Guarded(decision, ok=ok, failures=row.failures)


def client_address(request) -> str:
    """The client's address. Behind proxies, AKUN_TRUSTED_PROXY_HEADER names the header they
    set (HTTP_X_REAL_IP, or HTTP_X_FORWARDED_FOR) and AKUN_TRUSTED_PROXY_COUNT how many there
    are. Each proxy appends the address it saw to X-Forwarded-For, after whatever the client
    sent: the address is the COUNT-th from the right, never the client-supplied first hop."""
    header = getattr(settings, "AKUN_TRUSTED_PROXY_HEADER", "")
    hops = [h.strip() for h in request.META.get(header, "").split(",")] if header else []
    hops = [h for h in hops if h]
    if hops:
        count = max(1, int(getattr(settings, "AKUN_TRUSTED_PROXY_COUNT", 1)))
        # Fewer hops than proxies: every hop was written by a proxy; the first is the client.
        return _canonical_address(hops[-count] if len(hops) >= count else hops[0])
    return _canonical_address(request.META.get("REMOTE_ADDR", ""))


def _canonical_address(value: str) -> str:
    """One spelling per address (2001:DB8:0::1 is 2001:db8::1), without a port."""
    candidates = [value]
    if value.startswith("[") and "]" in value:  # [v6]:port
        candidates.append(value[1 : value.index("]")])
    elif value.count(":") == 1:  # v4:port
        candidates.append(value.split(":")[0])
    for candidate in candidates:
        try:
            ip = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        return str(getattr(ip, "ipv4_mapped", None) or ip)
    return re.sub(r"[^0-9A-Za-z.:%-]", "?", value[:64])  # not an address: nothing odd stored


# --- Budgets: what an outsider may ask, whoever and wherever they are -------------------------
# Cek Akun and the reset start answer whether a name, school and birth date (or a user ID and
# birth date) match: an oracle. Limits per address do not stop many addresses, so every try of
# either also counts against a budget over the whole platform per hour and one per school
# (NPSN) per day.

CEK_AKUN_ALL_KEY = "cekall:all"
RESET_ALL_KEY = "resetall:all"


def budget(name: str, limit: int, seconds: int) -> Policy:
    """`limit` tries, then closed until `seconds` after the last one."""
    return Policy(name, free=limit, base_delay=0, max_delay=0, lock_after=limit,
                  lock_seconds=seconds, window=seconds)  # fmt: skip


def cek_akun_all() -> Policy:
    return budget("cekall", settings.AKUN_CEK_AKUN_PER_HOUR, 3600)


def cek_akun_school() -> Policy:
    return budget("ceknpsn", settings.AKUN_CEK_AKUN_PER_SCHOOL_PER_DAY, 86400)


def reset_all() -> Policy:
    return budget("resetall", settings.AKUN_RESET_PER_HOUR, 3600)


def reset_school() -> Policy:
    return budget("resetnpsn", settings.AKUN_RESET_PER_SCHOOL_PER_DAY, 86400)


def school_key(policy: Policy, npsn: str) -> str:
    return f"{policy.name}:{npsn.strip()[:16]}"


def cek_akun_pairs(npsn: str, address: str) -> list[tuple[str, Policy]]:
    """A Cek Akun lookup's keys, in the order their refusals are told: the platform's budget,
    the school's, the client's."""
    school = cek_akun_school()
    return [
        (CEK_AKUN_ALL_KEY, cek_akun_all()),
        (school_key(school, npsn), school),
        (address_key(CEK_AKUN, address), CEK_AKUN),
    ]


def reset_budget_pairs(npsn: str) -> list[tuple[str, Policy]]:
    """A reset start's budgets: the platform's, and the school's of the account (none for a
    user ID that does not exist)."""
    pairs = [(RESET_ALL_KEY, reset_all())]
    if npsn:
        school = reset_school()
        pairs.append((school_key(school, npsn), school))
    return pairs


def refusal(pairs: list[tuple[str, Policy]]) -> tuple[Policy, Decision] | None:
    """The first pair (in the given order) that refuses a try now, with its decision."""
    states = store().get_many([k for k, _ in pairs])
    now = clock.now()
    for key, policy in pairs:
        d = decide(states.get(key, State()), policy, now)
        if not d.allowed:
            return policy, d
    return None


def spend(pairs: list[tuple[str, Policy]]) -> tuple[Policy, Decision] | None:
    """For tries that all count (Cek Akun): the first refusal, or else the try counted against
    every pair. A try that raced others past a budget's last slot is refused as well."""
    refused = refusal(pairs)
    if refused:
        return refused
    s, now = store(), clock.now()
    for key, policy in pairs:
        state = s.fail(key, policy)
        if state.failures > policy.lock_after:
            return policy, decide(state, policy, now)
    return None


@dataclass(frozen=True)
class SigninLock:
    failures: int  # failed sign-ins under the user ID within the window
    wait: int  # seconds until the next try; 0 = may try now
    locked: bool


def signin_lock(user_id: str) -> SigninLock:
    """The sign-in throttle of a user ID as typed (helpdesk: "terkunci 12 menit lagi"). Keys
    of unknown user IDs behave as real ones, so this tells nothing of whether one exists."""
    key = account_key(user_id)
    state = store().get_many([key]).get(key, State())
    decision = decide(state, ACCOUNT, clock.now())
    in_window = (
        state.last_failure_at is not None
        and (clock.now() - state.last_failure_at).total_seconds() <= ACCOUNT.window
    )
    return SigninLock(state.failures if in_window else 0, decision.wait, decision.locked)


def cek_akun_budget(npsn: str, address: str) -> int:
    """Spend one Cek Akun lookup (the platform's, the school's and the client's budgets): 0
    when allowed, else the seconds to wait. Other apps' lookups of the same kind (the
    helpdesk's answer from the roster) count against the same budgets."""
    refused = spend(cek_akun_pairs(npsn, address))
    return max(1, refused[1].wait) if refused else 0
