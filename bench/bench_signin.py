"""Password sign-ins per second per CPU core through the real HTTP stack, beside the raw
argon2id verify rate at the same parameters, measured in the same run.

    .venv/bin/python bench/bench_signin.py [--workers 2] [--clients 8] [--seconds 20]

What it does (loopback only, bounded in count and time):
  1. a PostgreSQL database of its own (default akun_bench_signin), migrated, with --accounts
     active accounts that accepted the current terms;
  2. the raw rate: argon2id verifies per CPU-second in one thread (TunedArgon2PasswordHasher);
  3. `akun serve` (gunicorn, --workers) against that database;
  4. a separate client process with --clients threads posting the sign-in form (CSRF token,
     user ID, password; each a fresh session; 302 to Akun Saya expected) for --seconds or
     --max-requests, recording each latency;
  5. the server's CPU seconds over the run from /proc (master + workers), so the per-core
     figure is sign-ins per server CPU-second: fair on a machine shared with other work.
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path

from _common import (  # bench/ is on sys.path
    bench_env,
    cpu_seconds,
    ensure_database,
    log,
    pct,
    serving,
)

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "teh manis di sore hari"


# --- the client process ---------------------------------------------------------------------


def client_main(args):
    host, port = "127.0.0.1", args.port
    user_ids = [f"bench{i:05d}@sd.belajar.test" for i in range(args.accounts)]
    deadline = time.monotonic() + args.seconds
    lock = threading.Lock()
    state = {"n": 0, "lat": [], "errors": 0, "statuses": {}}

    def one_thread(tid):
        conn = http.client.HTTPConnection(host, port, timeout=30)
        conn.request("GET", "/masuk")
        r = conn.getresponse()
        r.read()
        token = SimpleCookie(r.getheader("Set-Cookie"))["csrftoken"].value
        conn.close()
        i = tid
        while time.monotonic() < deadline:
            with lock:
                if state["n"] >= args.max_requests:
                    return
                state["n"] += 1
            body = urllib.parse.urlencode(
                {
                    "csrfmiddlewaretoken": token,
                    "user_id": user_ids[i % len(user_ids)],
                    "password": PASSWORD,
                }  # fmt: skip
            )
            i += args.clients
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={token}",
            }
            t0 = time.perf_counter()
            conn = http.client.HTTPConnection(host, port, timeout=30)
            conn.request("POST", "/masuk", body, headers)
            r = conn.getresponse()
            r.read()
            dt = time.perf_counter() - t0
            conn.close()
            ok = r.status == 302 and r.getheader("Location", "").endswith("/akun-saya")
            cookies = SimpleCookie()
            for h, v in r.getheaders():
                if h.lower() == "set-cookie":
                    cookies.load(v)
            if "csrftoken" in cookies:  # sign-in rotates the CSRF token
                token = cookies["csrftoken"].value
            with lock:
                state["statuses"][r.status] = state["statuses"].get(r.status, 0) + 1
                if ok:
                    state["lat"].append(dt)
                else:
                    state["errors"] += 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=one_thread, args=(t,)) for t in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    print(json.dumps({"ok": len(state["lat"]), "errors": state["errors"], "wall": wall,
                      "latencies": state["lat"], "statuses": state["statuses"]}))  # fmt: skip


# --- the driver -----------------------------------------------------------------------------


def prepare(args, env):
    subprocess.run([sys.executable, "-m", "akun", "migrate", "-v", "0"], env=env, check=True)
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "akun.settings"
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password

    from akun.accounts.models import Account
    from akun.core import clock
    from akun.identity import terms
    from akun.identity.models import Throttle

    Throttle.objects.all().delete()
    Account.objects.filter(user_id__startswith="bench").delete()
    now = clock.now()
    encoded = make_password(PASSWORD)  # one hash, same parameters, shared by all accounts
    Account.objects.bulk_create(
        [
            Account(
                local_part=f"bench{i:05d}",
                subdomain="sd.belajar.test",
                user_id=f"bench{i:05d}@sd.belajar.test",
                person_type="staff",
                role="peserta_didik",
                state="active",
                issued_at=now,
                activated_at=now,
                password=encoded,
                terms_version=terms.current().version,
                terms_accepted_at=now,
            )  # fmt: skip
            for i in range(args.accounts)
        ],
        batch_size=1000,
    )
    return encoded


def raw_verify_rate(encoded: str, seconds: float) -> dict:
    from django.contrib.auth.hashers import get_hasher

    hasher = get_hasher("default")
    params = hasher.decode(encoded)
    n = 0
    c0, w0 = time.process_time(), time.perf_counter()
    while time.perf_counter() - w0 < seconds:
        assert hasher.verify(PASSWORD, encoded)
        n += 1
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    return {
        "verifies": n,
        "per_cpu_second": n / cpu,
        "per_wall_second": n / wall,
        "params": {k: params[k] for k in ("memory_cost", "time_cost", "parallelism")},
    }


def _raw_worker(args):
    encoded, seconds = args
    import django

    django.setup()
    return raw_verify_rate(encoded, seconds)


def raw_parallel(encoded: str, seconds: float, procs: int) -> float:
    """Verifies per CPU-second with `procs` processes hashing at once: the same concurrency
    as the server's workers (argon2id is memory-hard; parallel hashes share caches and memory
    bandwidth, so this is the like-for-like ceiling)."""
    import multiprocessing as mp

    with mp.get_context("fork").Pool(procs) as pool:
        results = pool.map(_raw_worker, [(encoded, seconds)] * procs)
    return sum(r["verifies"] for r in results) / sum(
        r["verifies"] / r["per_cpu_second"] for r in results
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--database-url",
                    default="postgres://postgres@127.0.0.1:5432/akun_bench_signin")  # fmt: skip
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--max-requests", type=int, default=5000)
    ap.add_argument("--accounts", type=int, default=500)
    ap.add_argument("--raw-seconds", type=float, default=5)
    ap.add_argument("--port", type=int, default=18431)
    args = ap.parse_args()
    if args.client:
        return client_main(args)

    env = bench_env(args.database_url, "/tmp/akun-bench-signin")
    ensure_database(args.database_url)
    encoded = prepare(args, env)
    log(f"{args.accounts} accounts ready in {args.database_url}")

    raw = raw_verify_rate(encoded, args.raw_seconds)
    log(f"raw argon2id verify, 1 thread: {raw['per_cpu_second']:.1f}/CPU-s ({raw['params']})")
    raw_par = raw_parallel(encoded, args.raw_seconds, args.workers)
    log(f"raw argon2id verify, {args.workers} processes at once: {raw_par:.1f}/CPU-s")

    with serving(env, args.port, args.workers, "/masuk") as server:
        cpu0 = cpu_seconds(server.pid)
        out = subprocess.run(
            [sys.executable, __file__, "--client", "--port", str(args.port),
             "--clients", str(args.clients), "--seconds", str(args.seconds),
             "--max-requests", str(args.max_requests), "--accounts", str(args.accounts)],
            capture_output=True, text=True, timeout=args.seconds + 120, check=True,
        )  # fmt: skip
        cpu1 = cpu_seconds(server.pid)
    res = json.loads(out.stdout)
    lat = res["latencies"]
    server_cpu = cpu1 - cpu0
    per_core = res["ok"] / server_cpu
    summary = {
        "signins_ok": res["ok"],
        "errors": res["errors"],
        "statuses": res["statuses"],
        "wall_seconds": round(res["wall"], 2),
        "signins_per_wall_second": round(res["ok"] / res["wall"], 1),
        "server_cpu_seconds": round(server_cpu, 2),
        "signins_per_core": round(per_core, 1),
        "raw_verify_per_core_1_thread": round(raw["per_cpu_second"], 1),
        "raw_verify_per_core": round(raw_par, 1),
        "ratio_to_raw": round(per_core / raw_par, 3),
        "ratio_to_raw_1_thread": round(per_core / raw["per_cpu_second"], 3),
        "p50_ms": round(1000 * statistics.median(lat), 1),
        "p95_ms": round(1000 * pct(lat, 95), 1),
        "p99_ms": round(1000 * pct(lat, 99), 1),
        "workers": args.workers,
        "clients": args.clients,
        "argon2": raw["params"],
        "cpus": os.cpu_count(),
    }
    log(json.dumps(summary, indent=2))
    log(
        f"\nsign-in: {summary['signins_per_core']}/s per core "
        f"({summary['signins_per_wall_second']}/s wall, {args.workers} workers); raw argon2id "
        f"verify {summary['raw_verify_per_core']}/s per core with {args.workers} at once "
        f"({summary['raw_verify_per_core_1_thread']}/s alone); ratio {summary['ratio_to_raw']:.0%}"
        f"; p50/p95/p99 {summary['p50_ms']}/{summary['p95_ms']}/{summary['p99_ms']} ms"
    )
    ok = summary["ratio_to_raw"] >= 0.85 and summary["signins_per_core"] >= 30
    log("targets (>= 85% of raw, >= 30/s per core):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
