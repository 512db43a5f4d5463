"""Account issuance benchmark on PostgreSQL: a generated, imported roster -> accounts.

    .venv/bin/python bench/bench_issue.py [--scale 0.05] [--seed 1] [--db akun_bench_issue]

Prints, for one `akun accounts issue` process start to exit: accounts/s and peak memory (max
RSS of that process); then, in the same run, the raw COPY rate of the same rows (the issued
accounts, dumped and COPYed into a plain table without indexes) and the ratio; then the time
to export one school's CSV of about 1,000 accounts (median of 7).
Targets (issue 3): >= 25,000 accounts/s, peak < 2 GiB, export < 200 ms.

--old REV [--pairs N]: on the imported roster, N pairs of issuance runs, the code of commit
REV (a git worktree) and this code alternately, each from no accounts, no events and no
statistics; prints each run and the ratios new/old of wall and CPU time, then stops.
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import load_average, watch_backends  # bench/ is on sys.path

ROOT = Path(__file__).resolve().parent.parent
AKUN = [sys.executable, "-m", "akun"]


def sh(*args, env):
    subprocess.run(args, check=True, env=env, cwd=ROOT)


def timed_child(args, env, watch=None, cwd=ROOT):
    """(seconds, peak RSS in KiB, stdout, child CPU s, backend CPU s) of one child process,
    measured with wait4 (child) and /proc sampling of its PostgreSQL backends (watch=(url, db))."""
    stop, cpu = threading.Event(), {}
    watcher = None
    if watch:
        watcher = threading.Thread(target=watch_backends, args=(*watch, stop, cpu), daemon=True)
        watcher.start()
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        stop.set()
        if watcher:
            watcher.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{stdout}\n{stderr}")
    child_cpu = usage.ru_utime + usage.ru_stime
    return elapsed, usage.ru_maxrss, stdout, child_cpu, sum(cpu.values())


def make_big_school(conn, size: int) -> str:
    """Move SMP students (grades 7-9, all eligible) from other SMPs into the largest SMP until
    it has `size` students: the same number of accounts overall, and one school of the size
    the export target is about (a generated roster's schools are smaller)."""
    row = conn.execute(
        "SELECT s.sekolah_id, s.npsn, count(*) FROM roster_sekolah s "
        "JOIN roster_pesertadidik pd ON pd.sekolah_id = s.sekolah_id "
        "WHERE s.bentuk_pendidikan = 'SMP' AND s.departed_at IS NULL "
        "AND pd.departed_at IS NULL AND pd.tingkat_pendidikan BETWEEN 7 AND 9 "
        "AND pd.program = 'reguler' "
        "GROUP BY s.sekolah_id, s.npsn ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()
    sekolah_id, npsn, n = row
    if n >= size:
        return f"school {npsn} already has {n:,} SMP students"
    conn.execute(
        "UPDATE roster_pesertadidik SET sekolah_id = %(s)s WHERE peserta_didik_id IN ("
        "SELECT pd.peserta_didik_id FROM roster_pesertadidik pd "
        "JOIN roster_sekolah s ON s.sekolah_id = pd.sekolah_id "
        "WHERE s.bentuk_pendidikan = 'SMP' AND s.departed_at IS NULL AND s.sekolah_id <> %(s)s "
        "AND pd.departed_at IS NULL AND pd.tingkat_pendidikan BETWEEN 7 AND 9 "
        "AND pd.program = 'reguler' "
        "ORDER BY pd.peserta_didik_id LIMIT %(n)s)",
        {"s": sekolah_id, "n": size - n},
    )
    return f"school {npsn}: {n:,} SMP students, moved in {size - n:,} from other SMPs"


# Back to an imported roster with no accounts: the accounts and what they left behind (their
# audit rows, change events and statistics), so that a run starts as the first one did.
NO_ACCOUNTS = (
    "TRUNCATE accounts_account, accounts_localpartcounter, accounts_issuerun, "
    "audit_auditevent, accounts_accountevent, statistik_accountfact, statistik_countdelta, "
    "statistik_dailydelta, statistik_dailycount, statistik_regioncount, statistik_schoolcount "
    "CASCADE"
)


def side_by_side(args, env, url, psql) -> None:
    import psycopg
    from bench_lifecycle import worktree

    roots = {"old": worktree(args.old), "new": ROOT}
    runs = {"old": [], "new": []}
    print(f"machine: {platform.node()} {os.cpu_count()} cores; old = {args.old}")
    for pair in range(args.pairs):
        for label, root in roots.items():
            sh(*psql, "-d", args.db, "-c", NO_ACCOUNTS, "-c", "VACUUM ANALYZE", env=env)
            load = load_average()
            elapsed, peak_kib, _, child_cpu, pg_cpu = timed_child(
                [*AKUN, "accounts", "issue", "--actor", "bench"],
                dict(env, PYTHONPATH=str(root)), watch=(url, args.db), cwd=root,
            )  # fmt: skip
            with psycopg.connect(url) as conn:
                total = conn.execute("SELECT count(*) FROM accounts_account").fetchone()[0]
            runs[label].append((elapsed, child_cpu + pg_cpu))
            print(
                f"pair {pair + 1} {label}: {total:,} accounts in {elapsed:.1f} s "
                f"({total / elapsed:,.0f}/s), CPU {child_cpu:.1f} + {pg_cpu:.1f} s, "
                f"peak RSS {peak_kib / 1024:.0f} MiB, load before {load}"
            )
    for i, (old, new) in enumerate(zip(runs["old"], runs["new"], strict=True)):
        print(f"pair {i + 1}: new/old wall {new[0] / old[0]:.2f}, CPU {new[1] / old[1]:.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db", default="akun_bench_issue")
    ap.add_argument("--snapshot", type=Path, default=None, help="an existing generated snapshot")
    ap.add_argument(
        "--reuse-roster", action="store_true", help="keep the imported roster, drop accounts"
    )
    ap.add_argument(
        "--big-school",
        type=int,
        default=1000,
        help="before issuing, move students into one school until it has this many eligible "
        "(the export target is for 1,000 accounts; 0 = leave the roster as generated)",
    )
    ap.add_argument("--old", default="", help="a commit to run beside this code, in pairs")
    ap.add_argument("--pairs", type=int, default=2)
    args = ap.parse_args()

    snap = args.snapshot or ROOT / "bench" / "out" / f"snapshot-{args.scale}-{args.seed}"
    var = Path(os.environ.get("AKUN_VAR_DIR") or ROOT / "bench" / "out" / "var")
    env = dict(os.environ, AKUN_VAR_DIR=str(var))
    if not (snap / "ptk.csv").exists():
        t0 = time.perf_counter()
        sh(*AKUN, "roster", "generate", "--out", str(snap), "--scale", str(args.scale),
           "--seed", str(args.seed), env=env)  # fmt: skip
        print(f"generated {snap} in {time.perf_counter() - t0:.1f} s")
    url = f"postgres://postgres@127.0.0.1:5432/{args.db}"
    env["DATABASE_URL"] = url
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q"]
    if args.reuse_roster:
        sh(*AKUN, "migrate", "-v0", env=env)
        sh(*psql, "-d", args.db, "-c", NO_ACCOUNTS, env=env)
    else:
        sh(*psql, "-c", f"DROP DATABASE IF EXISTS {args.db}", "-c", f"CREATE DATABASE {args.db}",
           env=env)  # fmt: skip
        sh(*AKUN, "migrate", "-v0", env=env)
        t0 = time.perf_counter()
        sh(*AKUN, "roster", "import", str(snap), "--actor", "bench", env=env)
        print(f"imported the roster in {time.perf_counter() - t0:.1f} s")
    import psycopg

    if args.big_school:
        with psycopg.connect(url, autocommit=True) as conn:
            print(make_big_school(conn, args.big_school))
    sh(*psql, "-d", args.db, "-c", "VACUUM ANALYZE", env=env)
    if args.old:
        return side_by_side(args, env, url, psql)

    print(f"machine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load average before: {load_average()}")
    elapsed, peak_kib, out, child_cpu, pg_cpu = timed_child(
        [*AKUN, "accounts", "issue", "--actor", "bench"], env, watch=(url, args.db)
    )
    print(f"load average after: {load_average()}")

    with psycopg.connect(url, autocommit=True) as conn:
        total = conn.execute("SELECT count(*) FROM accounts_account").fetchone()[0]
        print(f"snapshot: {snap.name}; issued {total:,} accounts")
        rate = total / elapsed
        print(
            f"issue: {elapsed:.1f} s end to end, {rate:,.0f} accounts/s, "
            f"peak RSS {peak_kib / 1024:,.0f} MiB"
        )
        print(
            f"  CPU: issuing process {child_cpu:.1f} s, its PostgreSQL backends {pg_cpu:.1f} s "
            f"(wall {elapsed:.1f} s)"
        )
        print("  " + out.strip().replace("\n", "\n  "))

        # The raw COPY rate of the same rows into a plain table (no indexes, no constraints).
        conn.execute("DROP TABLE IF EXISTS bench_copy")
        conn.execute("CREATE TABLE bench_copy (LIKE accounts_account)")
        with tempfile.TemporaryFile() as f:
            with conn.cursor().copy("COPY accounts_account TO STDOUT") as copy:
                for chunk in copy:
                    f.write(chunk)
            f.seek(0)
            t0 = time.perf_counter()
            with conn.cursor().copy("COPY bench_copy FROM STDIN") as copy:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            copy_s = time.perf_counter() - t0
        conn.execute("DROP TABLE bench_copy")
        copy_rate = total / copy_s
        print(
            f"raw COPY of the same {total:,} rows into a plain table: {copy_s:.1f} s, "
            f"{copy_rate:,.0f} rows/s; issuance runs at {rate / copy_rate:.0%} of it"
        )
        npsn, n = conn.execute(
            "SELECT s.npsn, count(*) FROM accounts_account a JOIN roster_sekolah s "
            "ON s.sekolah_id = a.sekolah_id GROUP BY s.npsn "
            "ORDER BY abs(count(*) - 1000), s.npsn LIMIT 1"
        ).fetchone()

    os.environ.update(env, DJANGO_SETTINGS_MODULE="akun.settings")
    import django

    django.setup()
    from akun.accounts.api import export_accounts_csv

    times, cpu = [], []
    for _ in range(7):
        t0, c0 = time.perf_counter(), time.process_time()
        export = export_accounts_csv(npsn, actor="bench")
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    print(
        f"export of school {npsn} ({export.rows:,} accounts, {export.initial_passwords:,} "
        f"passwords): median {statistics.median(times) * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms over 7 (Python CPU median "
        f"{statistics.median(cpu) * 1000:.0f} ms); load average {load_average()}"
    )
    assert export.rows == n


if __name__ == "__main__":
    main()
