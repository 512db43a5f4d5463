"""Lifecycle benchmark on PostgreSQL: the deadline sweep and the roster-change pass over a
generated platform (default --scale 0.05: ~1.5M accounts).

    .venv/bin/python bench/bench_lifecycle.py [--scale 0.05] [--seed 1] [--db akun_life_bench]
        [--var DIR] [--cases deadline-all,...]

Prepares once (database --db: migrate, import the snapshot, issue accounts, one roster pass;
the snapshot is copied from bench/out/snapshot-SCALE-SEED if it exists, else generated),
then measures each case on a fresh copy of that database (--db + "_run", CREATE DATABASE
... TEMPLATE), one `akun lifecycle run ...` process start to exit: wall time, peak RSS, CPU
seconds of the process and of its PostgreSQL backends, the load average, and for the
deadline cases how many of the account updates were HOT:

  deadline-all       every account still issued (nobody activated): all deactivated
  deadline-40        60% activated first: 40% deactivated (closer to a real deadline)
  roster-nochange    the roster pass after an import that changed nothing (steady state;
                     the pass looks at what imports changed since its last run)
  roster-full        the same with `--full`: the whole roster compared (as a first pass)
  roster-changes     after roster changes written in SQL as an import (a new import run)
                     would leave them: 10% of SD grade-6 students moved to an SMP in grade
                     7, 2% of the other students departed, 1% of PTK moved to another
                     school of the same form, 0.5% of schools closed
Target (issue 6): a national sweep (x20) in under 5 minutes.

--old REV (issue 13): each case also runs with the code of commit REV (a git worktree under
the temp directory), on a copy of the same prepared database, one after the other; the
ratio new/old is printed at the end (limit 1.15 for the deadline sweep and the roster pass
after changes). After `deadline-all` with the new code, bench_events.py measures a
consumer reading and acknowledging the sweep's events.
"""

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import load_average, watch_backends  # bench/ is on sys.path

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


def timed_child(args, env, db, root=ROOT):
    """(seconds, peak RSS KiB, output, process CPU s, backend CPU s) of one child process."""
    stop, cpu = threading.Event(), {}
    watcher = threading.Thread(target=watch_backends, args=(PG + db, db, stop, cpu), daemon=True)
    watcher.start()
    time.sleep(0.3)  # the watcher is connected before the child starts
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(args, env=env, cwd=root, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        stop.set()
        watcher.join()
        out.seek(0)
        text = out.read()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(args)} failed ({code}):\n{text}")
    return elapsed, usage.ru_maxrss, text, usage.ru_utime + usage.ru_stime, sum(cpu.values())


def env_for(db: str, var: Path) -> dict:
    return dict(
        os.environ,
        DATABASE_URL=PG + db,
        AKUN_VAR_DIR=str(var),
        AKUN_LIFECYCLE_MAX_SHARE="1.0",
        AKUN_EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
    )


def prepare(args, var: Path, root: Path = ROOT) -> None:
    exists = psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{args.db}'")
    if exists and psql(args.db, "SELECT to_regclass('accounts_account') IS NOT NULL") == "t":
        if int(psql(args.db, "SELECT count(*) FROM accounts_account")) > 0:
            env = env_for(args.db, var)
            subprocess.run([*AKUN, "migrate", "-v0"], check=True, env=env, cwd=root)
            first_roster_pass(args.db, env, root)
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
                check=True, env=env, cwd=root,
            )  # fmt: skip
    for step in (["migrate", "-v0"], ["roster", "import", str(snap)], ["accounts", "issue"]):
        print("prepare:", " ".join(step), flush=True)
        subprocess.run([*AKUN, *step], check=True, env=env, cwd=root, stdout=subprocess.DEVNULL)
    first_roster_pass(args.db, env, root)


def first_roster_pass(db: str, env, root: Path = ROOT) -> None:
    """The steady state: a roster pass has run after the import (it leaves its mark)."""
    if psql(db, "SELECT to_regclass('lifecycle_rostermark') IS NOT NULL") != "t":
        return  # code from before the incremental pass
    if psql(db, "SELECT count(*) FROM lifecycle_rostermark WHERE import_run IS NOT NULL") == "0":
        print("prepare: lifecycle run roster (the first, full pass)", flush=True)
        subprocess.run(
            [*AKUN, "lifecycle", "run", "roster"],
            check=True, env=env, cwd=root, stdout=subprocess.DEVNULL,
        )  # fmt: skip


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


# An import run as `akun roster import` records one; the changes below carry its id.
NEW_IMPORT = """
INSERT INTO roster_importrun (started_at, finished_at, source, actor, status, summary,
  report_path) VALUES (now(), now(), 'bench', 'bench', '{status}', '{{}}', '');
"""
RUN = "(SELECT max(id) FROM roster_importrun)"

ROSTER_CHANGES = f"""
BEGIN;
{NEW_IMPORT.format(status="applied")}
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
UPDATE roster_pesertadidik pd SET sekolah_id = smp.sekolah_id, tingkat_pendidikan = 7,
  changed_run_id = {RUN}
FROM movers JOIN smp ON smp.kab = movers.kab AND smp.rn = 1
WHERE pd.peserta_didik_id = movers.peserta_didik_id;
-- 2% of the other students depart.
UPDATE roster_pesertadidik SET departed_at = now(), departed_run_id = {RUN}
WHERE abs(hashtext(peserta_didik_id::text)) % 50 = 1;
-- 1% of PTK rows move to another school of the same form.
WITH target AS (
  SELECT DISTINCT ON (bentuk_pendidikan) bentuk_pendidikan, sekolah_id FROM roster_sekolah
  ORDER BY bentuk_pendidikan, npsn DESC)
UPDATE roster_ptk p SET sekolah_id = target.sekolah_id, changed_run_id = {RUN}
FROM roster_sekolah s, target
WHERE s.sekolah_id = p.sekolah_id AND target.bentuk_pendidikan = s.bentuk_pendidikan
  AND target.sekolah_id <> p.sekolah_id AND abs(hashtext(p.id::text)) % 100 = 7
  AND p.ptk_induk  -- one row per person moves, so two rows never land on one school
  AND NOT EXISTS (SELECT 1 FROM roster_ptk o WHERE o.ptk_id = p.ptk_id
                  AND o.sekolah_id = target.sekolah_id);
-- 0.5% of schools close.
UPDATE roster_sekolah SET departed_at = now(), departed_run_id = {RUN}
WHERE abs(hashtext(npsn)) % 200 = 3;
COMMIT;
ANALYZE;
"""


def worktree(rev: str) -> Path:
    """The code of commit `rev`, checked out beside this one (git worktree, kept for reuse).
    Its processes run with this venv: `python -m akun` from the worktree imports its akun."""
    sha = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()  # fmt: skip
    path = Path(tempfile.gettempdir()) / f"akun-old-{sha}"
    if not (path / "akun").exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(path), sha], cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    return path


def run_case(case: str, base: str, run_db: str, env: dict, root: Path, accounts: int) -> dict:
    """One case on a fresh copy of `base`, with the code at `root`; prints what it did."""
    fresh_copy(base, run_db)
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
            check=True, env=env, cwd=root, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        psql(run_db, "SELECT pg_stat_reset()")  # HOT counts of the sweep alone
        load = load_average()
        secs, rss, out, cpu, db_cpu = timed_child(
            [*AKUN, "lifecycle", "run", "deadlines"], env, run_db, root
        )
        n = int(psql(run_db, "SELECT count(*) FROM accounts_account WHERE state = 'deactivated'"))
        stamps = int(psql(run_db, "SELECT count(*) FROM lifecycle_runaccount"))
        assert stamps == n, (stamps, n)
        time.sleep(1)  # the backend's statistics are flushed
        hot = psql(
            run_db,
            "SELECT n_tup_upd || ' ' || n_tup_hot_upd FROM pg_stat_user_tables "
            "WHERE relname = 'accounts_account'",
        )
    else:
        if case == "roster-changes":
            psql(run_db, ROSTER_CHANGES)
        else:  # an import that found nothing new
            psql(run_db, NEW_IMPORT.format(status="unchanged"))
        cmd = [*AKUN, "lifecycle", "run", "roster"]
        if case == "roster-full":
            cmd.append("--full")
        load = load_average()
        secs, rss, out, cpu, db_cpu = timed_child(cmd, env, run_db, root)
        n = accounts
        did = psql(
            run_db,
            "SELECT string_agg(what || ' ' || n, ', ' ORDER BY what) FROM ("
            "SELECT 'schedule_' || reason AS what, count(*) AS n "
            "FROM lifecycle_deletionschedule WHERE status = 'pending' GROUP BY reason "
            "UNION ALL SELECT replace(action, 'lifecycle.roster_', ''), count(*) "
            "FROM audit_auditevent WHERE action IN ('lifecycle.roster_follow', "
            "'lifecycle.roster_back') GROUP BY action "
            "UNION ALL SELECT 'suspended', count(*) FROM accounts_account "
            "WHERE state = 'suspended' "
            "UNION ALL SELECT 'issued by the pass', count(*) FROM accounts_account "
            "WHERE issue_run > (SELECT min(id) FROM accounts_issuerun)) t WHERE n > 0",
        )
    audit_rows = psql(run_db, "SELECT count(*) FROM audit_auditevent")
    events = "no event table"
    if psql(run_db, "SELECT to_regclass('accounts_accountevent') IS NOT NULL") == "t":
        events = psql(
            run_db,
            "SELECT COALESCE(sum(count), 0) || ' events (' || count(*) || ' rows)' "
            "FROM accounts_accountevent",
        )
    events += f", {audit_rows} audit rows"
    rate = accounts / secs
    national = secs * 20
    label = "old" if root != ROOT else "new"
    print(
        f"\n== {case} [{label} code, {root}]: {secs:.1f} s, peak RSS {rss / 1024:.0f} MiB, "
        f"{rate:,.0f} accounts/s scanned; x20 (national) ~ {national / 60:.1f} min"
    )
    print(
        f"   CPU: process {cpu:.1f} s, PostgreSQL backends {db_cpu:.1f} s; load average "
        f"{load} before, {load_average()} after; {time.strftime('%Y-%m-%d %H:%M:%S %Z')}"
    )
    print(f"   after the run: {events}")
    if case.startswith("deadline"):
        print(f"   deactivated {n:,} accounts, {n / secs:,.0f}/s (stamp each; audit per run)")
        upd, hot_upd = (int(x) for x in hot.split())
        print(f"   accounts_account: {upd:,} updates, {hot_upd:,} HOT")
    else:
        print(f"   in the database after the pass: {did or 'nothing'}")
    # The command's own report, per rule and province (long: cut).
    print("   " + "\n   ".join(line for line in out.splitlines() if line.strip())[:1500])
    return {"secs": secs, "cpu": cpu + db_cpu}


def consumer_rate(run_db: str, var: Path) -> None:
    """bench_events.py on the events the case has just written (the sweep's)."""
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_events.py"), "--db", run_db, "--events", "0"],
        check=True, env=env_for(run_db, var), cwd=ROOT,
    )  # fmt: skip


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db", default="akun_life_bench")
    ap.add_argument("--var", default="/tmp/akun-var-life/bench")
    ap.add_argument(
        "--cases", default="deadline-all,deadline-40,roster-nochange,roster-full,roster-changes"
    )
    ap.add_argument(
        "--old",
        default="",
        help="a commit (e.g. the merge base): each case runs with its code too (git worktree), "
        "side by side on copies of one prepared database, and the ratio new/old is printed",
    )
    args = ap.parse_args()
    var = Path(args.var)
    var.mkdir(parents=True, exist_ok=True)
    old_root = worktree(args.old) if args.old else None
    # With --old the platform is prepared by the old code (its schema), then migrated by
    # this code into a copy: both start from the same accounts.
    prepare(args, var, old_root or ROOT)
    backdate(args.db)
    new_base = args.db
    if old_root:
        new_base = args.db + "_new"
        fresh_copy(args.db, new_base)
        subprocess.run([*AKUN, "migrate", "-v0"], check=True, env=env_for(new_base, var),
                       cwd=ROOT)  # fmt: skip
        psql(new_base, "VACUUM ANALYZE")
    accounts = int(psql(args.db, "SELECT count(*) FROM accounts_account"))
    print(
        f"platform: scale {args.scale}, {accounts:,} accounts; {platform.node()}, "
        f"{os.cpu_count()} CPUs, PostgreSQL {psql(args.db, 'SHOW server_version')}"
    )
    run_db = args.db + "_run"
    env = env_for(run_db, var)
    ratios = []
    for case in args.cases.split(","):
        old = run_case(case, args.db, run_db, env, old_root, accounts) if old_root else None
        new = run_case(case, new_base, run_db, env, ROOT, accounts)
        if case == "deadline-all":
            consumer_rate(run_db, var)
        if old:
            ratios.append(
                f"{case}: old {old['secs']:.1f} s, new {new['secs']:.1f} s, "
                f"new/old {new['secs'] / old['secs']:.2f} (CPU {old['cpu']:.1f} -> "
                f"{new['cpu']:.1f} s, {new['cpu'] / max(old['cpu'], 1e-9):.2f})"
            )
    if ratios:
        print(f"\n== side by side, old {args.old} vs new (limit: new/old <= 1.15)")
        print("   " + "\n   ".join(ratios))
    psql("postgres", f"DROP DATABASE IF EXISTS {run_db}")


if __name__ == "__main__":
    main()
