"""Roster import benchmark: a generated snapshot into a fresh PostgreSQL database.

    .venv/bin/python bench/bench_import.py [--scale 0.05] [--seed 1]

Prints rows/s end to end (the `akun roster import` process, start to exit) and peak memory
(max RSS of that process), for a first import and a re-import of the same snapshot.
Targets (issue 2): >= 50,000 rows/s for both, peak memory < 1 GiB.
"""

import argparse
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AKUN = [sys.executable, "-m", "akun"]


def sh(*args, env):
    subprocess.run(args, check=True, env=env, cwd=ROOT)


def timed(args, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    out = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{out.stdout}\n{out.stderr}")
    # ru_maxrss of children is the largest child so far: fine as long as this is the biggest.
    peak_kib = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before)
    return elapsed, peak_kib, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db", default="akun_bench_import")
    args = ap.parse_args()

    snap = ROOT / "bench" / "out" / f"snapshot-{args.scale}-{args.seed}"
    env = dict(os.environ, AKUN_VAR_DIR=str(ROOT / "bench" / "out" / "var"))
    if not (snap / "ptk.csv").exists():
        t0 = time.perf_counter()
        sh(
            *AKUN,
            "roster",
            "generate",
            "--out",
            str(snap),
            "--scale",
            str(args.scale),
            "--seed",
            str(args.seed),
            env=env,
        )
        print(f"generated {snap} in {time.perf_counter() - t0:.1f} s")
    rows = sum(
        sum(1 for _ in (snap / name).open("rb")) - 1
        for name in ("sekolah.csv", "peserta_didik.csv", "ptk.csv")
    )

    sh(
        "psql",
        "-h",
        "127.0.0.1",
        "-U",
        "postgres",
        "-qc",
        f"DROP DATABASE IF EXISTS {args.db}",
        "-c",
        f"CREATE DATABASE {args.db}",
        env=env,
    )
    env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.db}"
    sh(*AKUN, "migrate", "-v0", env=env)

    print(f"machine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"snapshot: scale {args.scale}, {rows:,} rows (lines) in 3 files")
    for label in ("first import", "re-import (no changes)"):
        elapsed, peak_kib, out = timed([*AKUN, "roster", "import", str(snap)], env)
        print(
            f"{label}: {elapsed:.1f} s, {rows / elapsed:,.0f} rows/s, "
            f"peak RSS {peak_kib / 1024:,.0f} MiB"
        )
        print("  " + out.stdout.strip().replace("\n", "\n  "))
        phases = [line.split(": ", 1)[1] for line in out.stderr.splitlines() if " in " in line]
        print("  phases: " + "; ".join(phases))


if __name__ == "__main__":
    main()
