"""Roster import benchmark: a generated snapshot into a fresh PostgreSQL database.

    .venv/bin/python bench/bench_import.py [--scale 0.05] [--seed 1] [--db NAME] [--var DIR]

Prints rows/s end to end (the `akun roster import` process, start to exit) and peak memory
(max RSS of that process and its workers), for a first import and a re-import of the same
snapshot. Targets (issue 2): >= 50,000 rows/s for both, peak memory < 1 GiB.

The machine is shared, so each run also prints the load average and CPU seconds: of the import
process (with its worker processes) and of its PostgreSQL backends (sampled from /proc).
"""

import argparse
import datetime as dt
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AKUN = [sys.executable, "-m", "akun"]


def sh(*args, env):
    subprocess.run(args, check=True, env=env, cwd=ROOT)


class Sampler:
    """Samples /proc every 50 ms while an import runs: CPU seconds of the PostgreSQL
    processes serving the database (backends and their parallel workers; a process's last
    sample counts), and the summed RSS of the import process and its worker processes."""

    def __init__(self, db: str):
        self.db = db
        self.cpu: dict[int, float] = {}
        self.base: dict[int, float] = {}
        self.root = 0
        self.peak_tree_kib = 0
        self.stop = threading.Event()
        self.tick = os.sysconf("SC_CLK_TCK")
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self):
        ours = set()
        procs = []
        tree_kib = 0
        for p in Path("/proc").iterdir():
            if not p.name.isdigit():
                continue
            try:
                title = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                fields = (p / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(p.name), int(fields[1])
            if self.root and (pid == self.root or ppid == self.root):
                tree_kib += int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
            if not title.startswith("postgres: "):
                continue
            procs.append((pid, title, (int(fields[11]) + int(fields[12])) / self.tick))
            if f" {self.db} " in title:
                ours.add(pid)
        for pid, title, cpu in procs:
            leader = title.rsplit("parallel worker for PID ", 1)
            if pid in ours or (len(leader) == 2 and int(leader[1].split()[0]) in ours):
                self.cpu[pid] = max(cpu, self.cpu.get(pid, 0.0))
        self.peak_tree_kib = max(self.peak_tree_kib, tree_kib)

    def _run(self):
        while not self.stop.is_set():
            self._sample()
            self.stop.wait(0.05)

    def start(self, root: int):
        self._sample()
        self.base = dict(self.cpu)  # processes already there (none, normally)
        self.root = root
        self.thread.start()

    def finish(self):
        self.stop.set()
        self.thread.join()

    @property
    def backend_seconds(self) -> float:
        return sum(v - self.base.get(pid, 0.0) for pid, v in self.cpu.items())


def timed(args, env, db):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()
    sampler = Sampler(db)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    sampler.start(proc.pid)
    stdout, stderr = proc.communicate()
    elapsed = time.perf_counter() - t0
    sampler.finish()
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{stdout}\n{stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # ru_maxrss of children is the largest single process so far; the sampled sum over the
    # import and its workers is the figure that counts when it works in several processes.
    peak_kib = max(after.ru_maxrss, before.ru_maxrss, sampler.peak_tree_kib)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return elapsed, peak_kib, stdout, stderr, cpu, sampler.backend_seconds, load


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db", default="akun_bench_import")
    ap.add_argument("--var", default=str(ROOT / "bench" / "out" / "var"), help="AKUN_VAR_DIR")
    ap.add_argument("--first-only", action="store_true", help="skip the re-import")
    args = ap.parse_args()

    snap = ROOT / "bench" / "out" / f"snapshot-{args.scale}-{args.seed}"
    env = dict(os.environ, AKUN_VAR_DIR=args.var)
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
    runs = ("first import",) if args.first_only else ("first import", "re-import (no changes)")
    for label in runs:
        start = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        elapsed, peak_kib, stdout, stderr, cpu, backend_cpu, load = timed(
            [*AKUN, "roster", "import", str(snap)], env, args.db
        )
        print(
            f"{label}: {elapsed:.1f} s, {rows / elapsed:,.0f} rows/s, "
            f"peak RSS {peak_kib / 1024:,.0f} MiB; {start}, load before "
            f"{' '.join(f'{x:.2f}' for x in load)}, after "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; CPU: import process "
            f"{cpu:.1f} s, PostgreSQL backends {backend_cpu:.1f} s"
        )
        print("  " + stdout.strip().replace("\n", "\n  "))
        phases = [line.split(": ", 1)[1] for line in stderr.splitlines() if " in " in line]
        print("  phases: " + "; ".join(phases))


if __name__ == "__main__":
    main()
