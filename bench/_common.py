"""What the HTTP benchmarks share: the server's CPU time, percentiles, the bench database."""

import contextlib
import http.client
import os
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path


def log(*a):
    print(*a, flush=True)


def pct(values, p):
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its children still running (gunicorn workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                fields = (p / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                pids.append(int(p.name))
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def proc_cpu(pid: int) -> float | None:
    """utime + stime of one process, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def watch_backends(url: str, db: str, stop, cpu: dict) -> None:
    """CPU seconds of every PostgreSQL backend serving `db` (other than this watcher's own),
    sampled from /proc every 0.2 s until `stop` (a threading.Event) is set; the last sample
    of each backend is kept in `cpu` (pid -> seconds). `url` reaches the server."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.wait(0.2):
            pids = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [db],
            ).fetchall()
            for (pid,) in pids:
                if (c := proc_cpu(pid)) is not None:
                    cpu[pid] = c


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def ensure_database(url: str):
    import psycopg

    parsed = urllib.parse.urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def bench_env(database_url: str, var_default: str) -> dict:
    """The environment of the Akun processes a benchmark starts (its own var dir)."""
    var = Path(os.environ.get("AKUN_VAR_DIR", var_default))
    var.mkdir(parents=True, exist_ok=True)
    return dict(os.environ, DATABASE_URL=database_url, AKUN_VAR_DIR=str(var),
                AKUN_DEBUG="0", AKUN_REDIS_URL="")  # fmt: skip


@contextlib.contextmanager
def serving(env: dict, port: int, workers: int, warm_path: str):
    """`akun serve` (gunicorn, `workers`) on 127.0.0.1:port, up (/healthz answers) and every
    worker warmed with GETs of `warm_path` (imports, first connections); stopped on exit."""
    server = subprocess.Popen(
        [sys.executable, "-m", "akun", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(200):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        for _ in range(workers * 4):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", warm_path)
            c.getresponse().read()
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)
