"""OneRoster benchmark on PostgreSQL: ~1M accounts (a generated roster, imported and issued as
bench_issue.py does), then the OneRoster projection, the REST API and the CSV packages.

    .venv/bin/python bench/bench_oneroster.py [--scale 0.05] [--db akun_bench_oneroster]
        [--port 8500] [--reuse]

Prints:
- the full projection build (`akun oneroster refresh`) at this size;
- `users` paged through every account at limit=1000 by one `akun serve` worker, following
  the Link rel="next" (keyset cursor) -- users/s of wall time and per CPU second of the
  server (Python worker + its PostgreSQL backend), and the time of the first, middle and
  last pages; then deep pages asked by bare `offset` (no cursor) after a sequential pass,
  and a cold deep `offset` (no key known: the OFFSET fallback), for comparison;
- a delta (`dateLastModified>` one hour ago, after ~1,000 accounts changed through the
  change stream): response time, median of 11;
- a school's CSV package (~1,000 students): median of 5;
- a province's CSV package (the largest province), written by `akun oneroster export` in a
  child process: rows, seconds and peak RSS, beside a school's package's peak RSS.
Targets (issue 16): >= 5,000 users/s per core, constant time per page; delta < 100 ms;
school package < 1 s; province package with bounded memory.
"""

import argparse
import base64
import datetime as dt
import http.client
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from _common import cpu_seconds, load_average, proc_cpu, serving  # bench/ is on sys.path
from bench_issue import AKUN, ROOT, make_big_school, sh, timed_child


def log(*a):
    print(*a, flush=True)


def token(port, cid, secret) -> str:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "scope": "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly",
        }
    )
    auth = base64.b64encode(f"{cid}:{secret}".encode()).decode()
    c.request(
        "POST",
        "/o/token/",
        body,
        {"Authorization": f"Basic {auth}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    r = c.getresponse()
    data = json.loads(r.read())
    assert r.status == 200, data
    return data["access_token"]


class Api:
    def __init__(self, port, tok):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {"Authorization": f"Bearer {tok}"}

    def get(self, path_qs):
        t0 = time.perf_counter()
        self.conn.request("GET", path_qs, headers=self.headers)
        r = self.conn.getresponse()
        body = r.read()
        elapsed = time.perf_counter() - t0
        assert r.status == 200, (r.status, body[:300])
        return elapsed, r, body


def next_link(r) -> str | None:
    for part in (r.getheader("Link") or "").split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            u = urllib.parse.urlparse(url.strip()[1:-1])
            return f"{u.path}?{u.query}"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db", default="akun_bench_oneroster")
    ap.add_argument("--port", type=int, default=8500)
    ap.add_argument("--reuse", action="store_true", help="keep the database of a former run")
    args = ap.parse_args()

    url = f"postgres://postgres@127.0.0.1:5432/{args.db}"
    var = Path(os.environ.get("AKUN_VAR_DIR") or ROOT / "bench" / "out" / "var")
    # Connections kept through the whole pass, so the backend's CPU is counted.
    env = dict(os.environ, AKUN_VAR_DIR=str(var), DATABASE_URL=url, AKUN_DEBUG="0",
               AKUN_REDIS_URL="", AKUN_DB_CONN_MAX_AGE="3600")  # fmt: skip
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q"]
    import psycopg

    if not args.reuse:
        snap = ROOT / "bench" / "out" / f"snapshot-{args.scale}-{args.seed}"
        if not (snap / "ptk.csv").exists():
            sh(*AKUN, "roster", "generate", "--out", str(snap), "--scale", str(args.scale),
               "--seed", str(args.seed), env=env)  # fmt: skip
        sh(*psql, "-c", f"DROP DATABASE IF EXISTS {args.db}", "-c",
           f"CREATE DATABASE {args.db}", env=env)  # fmt: skip
        sh(*AKUN, "migrate", "-v0", env=env)
        t0 = time.perf_counter()
        sh(*AKUN, "roster", "import", str(snap), "--actor", "bench", env=env)
        log(f"imported the roster in {time.perf_counter() - t0:.1f} s")
        with psycopg.connect(url, autocommit=True) as conn:
            log(make_big_school(conn, 1000))
        t0 = time.perf_counter()
        sh(*AKUN, "accounts", "issue", "--actor", "bench", env=env)
        log(f"issued accounts in {time.perf_counter() - t0:.1f} s")
        sh(*psql, "-d", args.db, "-c", "VACUUM ANALYZE", env=env)

    log(f"machine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}")
    log(f"load average before: {load_average()}")
    elapsed, peak, out, child_cpu, pg_cpu = timed_child(
        [*AKUN, "oneroster", "refresh"], env, watch=(url, args.db)
    )
    with psycopg.connect(url, autocommit=True) as conn:
        users = conn.execute("SELECT count(*) FROM oneroster_oruser").fetchone()[0]
        enr = conn.execute("SELECT count(*) FROM oneroster_orenrollment").fetchone()[0]
        classes = conn.execute("SELECT count(*) FROM oneroster_orclass").fetchone()[0]
        # Age every object by two days, so the delta below finds only what changes now.
        for t in ("oruser", "orenrollment", "orclass", "orcourse", "ororg"):
            conn.execute(
                f"UPDATE oneroster_{t} SET date_last_modified = date_last_modified "
                "- interval '2 days'"
            )
        # The projection is now current: the oneroster consumer starts after every event
        # so far (in production it followed them as they came).
        conn.execute(
            "INSERT INTO accounts_eventconsumer (name, cursor_xid, cursor_id, handled, "
            "failures, last_error) SELECT 'oneroster', COALESCE(max(xid), 0), "
            "COALESCE(max(id), 0), 0, 0, '' FROM accounts_accountevent "
            "ON CONFLICT (name) DO UPDATE SET cursor_xid = excluded.cursor_xid, "
            "cursor_id = excluded.cursor_id"
        )
        conn.execute("VACUUM ANALYZE")
    log(
        f"projection (akun oneroster refresh): {users:,} users, {enr:,} enrollments, "
        f"{classes:,} classes in {elapsed:.1f} s (process CPU {child_cpu:.1f} s, PostgreSQL "
        f"{pg_cpu:.1f} s, peak RSS {peak / 1024:.0f} MiB)"
    )

    os.environ.update(env, DJANGO_SETTINGS_MODULE="akun.settings")
    import django

    django.setup()
    from akun.oneroster import package
    from akun.oneroster.actions import do_grant_oneroster_access
    from akun.sso import actions as sso

    svc, secret = sso.do_add_oidc_service(
        f"Bench {time.time():.0f}", kind="machine", scopes="introspection", actor="bench"
    )
    do_grant_oneroster_access(svc, ["nasional"], actor="bench")
    cid = svc.application.client_id

    with serving(env, args.port, 1, "/healthz") as server:
        tok = token(args.port, cid, secret)
        api = Api(args.port, tok)
        base = "/ims/oneroster/rostering/v1p2/users"
        api.get(f"{base}?limit=10")  # warm: imports, the client's grant
        cpu0 = cpu_seconds(server.pid) + pg_backend_cpu(url, args.db)
        t0 = time.perf_counter()
        times, n, path = [], 0, f"{base}?limit=1000"
        while path:
            took, r, body = api.get(path)
            n += len(json.loads(body)["users"])
            times.append(took)
            path = next_link(r)
        wall = time.perf_counter() - t0
        cpu = cpu_seconds(server.pid) + pg_backend_cpu(url, args.db) - cpu0
        pages = len(times)
        log(
            f"users, limit=1000, following Link next: {n:,} users in {pages} pages, "
            f"{wall:.1f} s wall = {n / wall:,.0f} users/s; server CPU (worker + PostgreSQL) "
            f"{cpu:.1f} s = {n / cpu:,.0f} users per CPU second"
        )
        log(
            f"  page times: first {times[0] * 1000:.0f} ms, middle {times[pages // 2] * 1000:.0f}"
            f" ms, last {times[-1] * 1000:.0f} ms; median {statistics.median(times) * 1000:.0f}"
            f" ms, p95 {sorted(times)[int(pages * 0.95)] * 1000:.0f} ms"
        )
        # Bare offsets after the pass above (the worker remembers each page's last key).
        for off in (0, (n // 2000) * 1000, ((n - 1) // 1000) * 1000):
            ts = [api.get(f"{base}?limit=1000&offset={off}")[0] for _ in range(5)]
            log(f"  offset={off:,} (key known): median {statistics.median(ts) * 1000:.0f} ms")
        # A deep offset no page ended at: the OFFSET fallback, for comparison.
        off = ((n - 1) // 1000) * 1000 - 7
        took = api.get(f"{base}?limit=1000&offset={off}")[0]
        log(f"  offset={off:,} (no key: OFFSET scan): {took * 1000:.0f} ms")

        # A delta: ~1,000 accounts deactivated through the accounts API, the change stream's
        # consumer runs, then dateLastModified > one hour ago.
        from akun.accounts.api import Selection, transition_many
        from akun.accounts.stream import run_consumer

        since = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        change = transition_many(
            "deactivate",
            Selection(
                where="a.id IN (SELECT id FROM accounts_account WHERE state = 'issued' "
                "ORDER BY id DESC LIMIT 1000)"
            ),
            actor="bench",
            reason="bench",
        )
        t0 = time.perf_counter()
        run_consumer("oneroster")
        log(f"delta setup: {change.count:,} accounts deactivated, consumer ran in "
            f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
        q = urllib.parse.urlencode({"filter": f"dateLastModified>'{since}'", "limit": 1000})
        ts = []
        for i in range(11):
            # A distinct sort each time, so the count is not reused from the cache.
            order = "asc" if i % 2 else "desc"
            took, r, body = api.get(f"{base}?{q}&orderBy={order}&x={i}")
            ts.append(took)
        got = len(json.loads(body)["users"])
        log(
            f"delta users (dateLastModified > 1 h ago): {got:,} users, X-Total-Count "
            f"{r.getheader('X-Total-Count')}; median {statistics.median(ts) * 1000:.0f} ms, "
            f"max {max(ts) * 1000:.0f} ms over 11"
        )

    import psycopg as pg

    with pg.connect(url, autocommit=True) as conn:
        npsn, count = conn.execute(
            "SELECT npsn, count(*) FROM oneroster_oruser WHERE role = 'student' GROUP BY npsn "
            "ORDER BY abs(count(*) - 1000), npsn LIMIT 1"
        ).fetchone()
        prov, prov_users = conn.execute(
            "SELECT substr(kode_wilayah, 1, 2), count(*) FROM oneroster_oruser "
            "GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
        ).fetchone()
    ts = []
    for _ in range(5):
        with tempfile.TemporaryFile() as f:
            t0 = time.perf_counter()
            result = package.write_package(f, org=npsn)
            ts.append(time.perf_counter() - t0)
            size = f.tell()
    log(
        f"school package {npsn} ({count:,} students, {result.counts['users']:,} users, "
        f"{size / 1024:.0f} KiB zip): median {statistics.median(ts) * 1000:.0f} ms over 5"
    )
    with tempfile.TemporaryDirectory() as d:
        school_zip, prov_zip = Path(d) / "s.zip", Path(d) / "p.zip"
        s_el, s_peak, *_ = timed_child(
            [*AKUN, "oneroster", "export", "--org", npsn, "--out", str(school_zip)], env
        )
        p_el, p_peak, _o, p_cpu, _pg = timed_child(
            [*AKUN, "oneroster", "export", "--org", prov, "--out", str(prov_zip)], env
        )
        log(
            f"province package {prov} ({prov_users:,} users): {p_el:.1f} s, "
            f"{prov_zip.stat().st_size / 2**20:.1f} MiB zip, peak RSS {p_peak / 1024:.0f} MiB "
            f"(a school's package, same command: {s_el:.1f} s, peak RSS {s_peak / 1024:.0f} MiB)"
        )
    log(f"load average after: {load_average()}")


def pg_backend_cpu(url, db) -> float:
    """CPU seconds of the database's backends now (the server's connection among them)."""
    import psycopg

    total = 0.0
    with psycopg.connect(url, autocommit=True) as conn:
        for (pid,) in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [db],
        ).fetchall():
            total += proc_cpu(pid) or 0.0
    return total


if __name__ == "__main__":
    sys.exit(main())
