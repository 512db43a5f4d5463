"""Roster generator benchmark: `akun roster generate` at a scale, timed as a whole process.

    .venv/bin/python bench/bench_generate.py [--scale 0.05] [--seed 1] [--messy]

Runs the real command in a subprocess (start to exit, Django start-up included) and prints
rows written, seconds, rows/s, CPU seconds and peak memory (max RSS of that process).
Target (issue 2): --scale 0.05 well under a minute, in bounded memory.
"""

import argparse
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--messy", action="store_true")
    args = ap.parse_args()

    out = Path(tempfile.mkdtemp(prefix="akun-bench-generate-"))
    cmd = [sys.executable, "-m", "akun", "roster", "generate", "--out", str(out)]
    cmd += ["--scale", str(args.scale), "--seed", str(args.seed)]
    cmd += ["--messy"] if args.messy else []
    env = dict(os.environ, AKUN_VAR_DIR=str(out / "var"))
    try:
        t0 = time.perf_counter()
        result = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        if result.returncode != 0:
            sys.exit(f"failed: {' '.join(cmd)}\n{result.stdout}\n{result.stderr}")
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        sizes = {p.name: p.stat().st_size for p in out.iterdir() if p.is_file()}
        # The command reports rows per file: "Wrote DIR: sekolah.csv 2,216 rows, ..."
        rows = {
            name: int(n.replace(",", ""))
            for name, n in re.findall(r"(\w+\.csv) ([\d,]+) rows", result.stdout)
        }
    finally:
        shutil.rmtree(out, ignore_errors=True)

    total = sum(rows.values())
    print(f"akun roster generate --scale {args.scale} --seed {args.seed}" + " --messy" * args.messy)
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, python {platform.python_version()}")
    for name, n in rows.items():
        print(f"  {name:18} {n:>10,} rows {sizes[name] / 1e6:8.1f} MB")
    print(f"  total              {total:>10,} rows {sum(sizes.values()) / 1e6:8.1f} MB")
    print(f"wall {elapsed:.1f} s, cpu {usage.ru_utime + usage.ru_stime:.1f} s")
    print(f"rows/s {total / elapsed:,.0f}")
    print(f"peak memory (max RSS) {usage.ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
