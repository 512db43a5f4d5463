"""Lifecycle benchmark on PostgreSQL: the deadline sweep and the roster-change pass over a
generated platform (default --scale 0.05: ~1.5M accounts).

    .venv/bin/python bench/bench_lifecycle.py [--scale 0.05] [--seed 1] [--db akun_life_bench]

Prepares once (database --db: migrate, import the snapshot, issue accounts; the snapshot is
copied from bench/out/snapshot-SCALE-SEED if it exists, else generated), then measures each
case on a fresh copy of that database (CREATE DATABASE ... TEMPLATE), one `akun lifecycle
run ...` process start to exit, wall time and peak RSS:

  deadline-all       every account still issued (nobody activated): all deactivated
  deadline-40        60% activated first: 40% deactivated (closer to a real deadline)
  roster-nochange    the roster pass right after issuance: nothing to do (steady state)
  roster-changes     after roster changes written in SQL as an import would leave them:
                     10% of SD grade-6 students moved to an SMP in grade 7, 2% of the
                     other students departed, 1% of PTK moved to another school of the same
                     form, 0.5% of schools closed
Target (issue 6): a national sweep (x20) in under 5 minutes.
"""

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AKUN = [sys.executable, "-m", "akun"]
PG = "postgres://postgres@127.0.0.1:5432/"


def psql(db: str, sql: str) -> str:
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-XAtq", "-v", "ON_ERROR_STOP=1"],
        input=sql,  # from standard input: each statement on its own (VACUUM needs that)
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def timed_child(args, env):
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        out.seek(0)
        text = out.read()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(args)} failed ({code}):\n{text}")
    return elapsed, usage.ru_maxrss, text


def env_for(db: str, var: Path) -> dict:
    return dict(
        os.environ,
        DATABASE_URL=PG + db,
        AKUN_VAR_DIR=str(var),
        AKUN_LIFECYCLE_MAX_SHARE="1.0",
        AKUN_EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
    )


def prepare(args, var: Path) -> None:
    exists = psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{args.db}'")
    if exists and psql(args.db, "SELECT to_regclass('accounts_account') IS NOT NULL") == "t":
        if int(psql(args.db, "SELECT count(*) FROM accounts_account")) > 0:
            env = env_for(args.db, var)
            subprocess.run([*AKUN, "migrate", "-v0"], check=True, env=env, cwd=ROOT)
            return
    if not exists:
        psql("postgres", f"CREATE DATABASE {args.db}")
    env = env_for(args.db, var)
    snap = var / "snapshot"
    cached = ROOT / "bench" / "out" / f"snapshot-{args.scale}-{args.seed}"
    if not snap.exists():
        if cached.exists():
            shutil.copytree(cached, snap)  # a copy: the cache itself is left alone
        else:
            subprocess.run(
                [*AKUN, "roster", "generate", "--scale", str(args.scale), "--seed",
                 str(args.seed), "--out", str(snap)],
                check=True, env=env, cwd=ROOT,
            )  # fmt: skip
    for step in (["migrate", "-v0"], ["roster", "import", str(snap)], ["accounts", "issue"]):
        print("prepare:", " ".join(step), flush=True)
        subprocess.run([*AKUN, *step], check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)


def backdate(db: str) -> None:
    """Accounts issued a month ago, so that a deadline two days ago applies to them."""
    if (
        psql(db, "SELECT max(state_changed_at) > now() - interval '20 days' FROM accounts_account")
        == "t"
    ):
        psql(
            db,
            "UPDATE accounts_account SET issued_at = issued_at - interval '30 days', "
            "state_changed_at = state_changed_at - interval '30 days'; VACUUM ANALYZE",
        )


def fresh_copy(base: str, name: str) -> None:
    psql("postgres", f"DROP DATABASE IF EXISTS {name}")
    psql("postgres", f"CREATE DATABASE {name} TEMPLATE {base}")


ROSTER_CHANGES = """
BEGIN;
-- 10% of SD grade-6 students move to an SMP (same regency where there is one) in grade 7.
WITH smp AS (
  SELECT sekolah_id, substr(kode_wilayah, 1, 4) AS kab,
         row_number() OVER (PARTITION BY substr(kode_wilayah, 1, 4) ORDER BY sekolah_id) AS rn
  FROM roster_sekolah WHERE bentuk_pendidikan = 'SMP'),
movers AS (
  SELECT pd.peserta_didik_id, substr(s.kode_wilayah, 1, 4) AS kab
  FROM roster_pesertadidik pd JOIN roster_sekolah s ON s.sekolah_id = pd.sekolah_id
  WHERE s.bentuk_pendidikan = 'SD' AND pd.tingkat_pendidikan = 6
    AND abs(hashtext(pd.peserta_didik_id::text)) % 10 = 0)
UPDATE roster_pesertadidik pd SET sekolah_id = smp.sekolah_id, tingkat_pendidikan = 7
FROM movers JOIN smp ON smp.kab = movers.kab AND smp.rn = 1
WHERE pd.peserta_didik_id = movers.peserta_didik_id;
-- 2% of the other students depart.
UPDATE roster_pesertadidik SET departed_at = now()
WHERE abs(hashtext(peserta_didik_id::text)) % 50 = 1;
-- 1% of PTK rows move to another school of the same form.
WITH target AS (
  SELECT DISTINCT ON (bentuk_pendidikan) bentuk_pendidikan, sekolah_id FROM roster_sekolah
  ORDER BY bentuk_pendidikan, npsn DESC)
UPDATE roster_ptk p SET sekolah_id = target.sekolah_id
FROM roster_sekolah s, target
WHERE s.sekolah_id = p.sekolah_id AND target.bentuk_pendidikan = s.bentuk_pendidikan
  AND target.sekolah_id <> p.sekolah_id AND abs(hashtext(p.id::text)) % 100 = 7
  AND p.ptk_induk  -- one row per person moves, so two rows never land on one school
  AND NOT EXISTS (SELECT 1 FROM roster_ptk o WHERE o.ptk_id = p.ptk_id
                  AND o.sekolah_id = target.sekolah_id);
-- 0.5% of schools close.
UPDATE roster_sekolah SET departed_at = now() WHERE abs(hashtext(npsn)) % 200 = 3;
COMMIT;
ANALYZE;
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db", default="akun_life_bench")
    ap.add_argument("--var", default="/tmp/akun-var-life/bench")
    ap.add_argument("--cases", default="deadline-all,deadline-40,roster-nochange,roster-changes")
    args = ap.parse_args()
    var = Path(args.var)
    var.mkdir(parents=True, exist_ok=True)
    prepare(args, var)
    backdate(args.db)
    accounts = int(psql(args.db, "SELECT count(*) FROM accounts_account"))
    print(
        f"platform: scale {args.scale}, {accounts:,} accounts; {platform.node()}, "
        f"{os.cpu_count()} CPUs, PostgreSQL {psql(args.db, 'SHOW server_version')}"
    )
    run_db = args.db + "_run"
    env = env_for(run_db, var)
    for case in args.cases.split(","):
        fresh_copy(args.db, run_db)
        if case.startswith("deadline"):
            if case == "deadline-40":
                psql(
                    run_db,
                    "UPDATE accounts_account SET state = 'active', activated_at = issued_at, "
                    "initial_password_enc = NULL WHERE id % 10 < 6; "
                    "VACUUM ANALYZE accounts_account",
                )
            day = time.strftime("%Y-%m-%d", time.localtime(time.time() - 2 * 86400))
            subprocess.run(
                [*AKUN, "lifecycle", "deadline", "set", "--date", day],
                check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            secs, rss, out = timed_child([*AKUN, "lifecycle", "run", "deadlines"], env)
            n = int(
                psql(run_db, "SELECT count(*) FROM accounts_account WHERE state = 'deactivated'")
            )
            stamps = int(psql(run_db, "SELECT count(*) FROM lifecycle_runaccount"))
            assert stamps == n, (stamps, n)
        else:
            if case == "roster-changes":
                psql(run_db, ROSTER_CHANGES)
            secs, rss, out = timed_child([*AKUN, "lifecycle", "run", "roster"], env)
            n = accounts
        rate = accounts / secs
        national = secs * 20
        print(
            f"\n== {case}: {secs:.1f} s, peak RSS {rss / 1024:.0f} MiB, "
            f"{rate:,.0f} accounts/s scanned; x20 (national) ~ {national / 60:.1f} min"
        )
        if case.startswith("deadline"):
            print(f"   deactivated {n:,} accounts, {n / secs:,.0f}/s (stamp each; audit per run)")
        print("   " + "\n   ".join(line for line in out.splitlines() if line.strip())[:3000])
    psql("postgres", f"DROP DATABASE IF EXISTS {run_db}")


if __name__ == "__main__":
    main()
