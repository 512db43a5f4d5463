"""The whole country on this machine (issue 18): generate scale 1.0, import, issue every
account, then time each operation a ministry runs, at full size.

    .venv/bin/python bench/bench_national.py [--db akun_national] [--dir bench/out/national]
        [--steps generate,import,reimport,issue,...] [--redo STEP,...]

Resumable: the database (--db) and the snapshot are kept between runs, and every finished
step is written to DIR/results.json with its figures, date, load and machine; a later run
skips finished steps (--redo runs them again). Steps, in order (the ones that change the
data come last, so a rerun of the pages still measures the country as issued):

  generate        `akun roster generate --scale 1.0` (~220k schools, ~27M students, ~3M PTK)
  import          the first `akun roster import` into an empty database
  reimport        the same snapshot again (nothing changed)
  issue           `akun accounts issue`: every eligible person gets an account
  roster-first    the first roster pass (compares everything)
  roster-nochange a roster pass after an import that changed nothing
  pages           in-process requests through the whole middleware stack, p50/p95 each:
                  national, province and regency pages, a school's page and account list,
                  its CSV (Unduh Akun), Cek Akun, the NPSN search (random schools each time)
  pdf             a school's credential slips (bench_portal.py against this database)
  signin          password sign-ins (bench_signin.py against this database)
  sso             token refresh and client credentials (bench_sso.py against this database)
  roster-changes  a week of changes (bench_lifecycle.ROSTER_CHANGES) and the roster pass
  deadline        the realistic sweep: 60% activated, the other 40% deactivated
  deadline-again  (only when named) the realistic sweep again after a code change: its
                  deactivated accounts set back to `issued` and the statistics rebuilt
                  (not timed), then the same sweep, timed
  deadline-worst  the worst case: nobody activated, every account deactivated by one sweep
                  (every account set back to `issued` with one UPDATE first, behind the
                  change stream, and the statistics rebuilt from it, not timed)
  statistik       the national statistics at full size: the fold, the reads the national and
                  province pages make, the public page and its open-data downloads, and the
                  counts checked against a live count of every account
  rollover        the school-year rollover, national: `akun roster generate --rollover-from`,
                  a rollover window, the import, the roster pass (graduates leave, new
                  accounts at the new level, the old ones on the deletion path), the notices
                  due, and the change events a provisioning target would have to send
Each step prints and records wall time, peak RSS of the process, CPU of the process and of
its PostgreSQL backends, and the load average; `report` prints the table for
docs/benchmarks.md with the database size.
Targets (issue 18, 2 cores): import < 10 min, issuance < 15 min, every sweep and pass
< 5 min, every page < 300 ms at p95.
"""

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

from _common import load_average, pct  # bench/ is on sys.path
from bench_lifecycle import NEW_IMPORT, ROSTER_CHANGES, psql, timed_child

ROOT = Path(__file__).resolve().parent.parent
AKUN = [sys.executable, "-m", "akun"]
PG = "postgres://postgres@127.0.0.1:5432/"
STEPS = [
    "generate", "import", "reimport", "issue", "roster-first", "roster-nochange", "pages",
    "pdf", "signin", "sso", "roster-changes", "deadline", "deadline-worst", "statistik",
    "rollover",
]  # fmt: skip
ONLY_NAMED = ["deadline-again"]
TARGETS = {  # seconds
    "import": 600, "issue": 900, "roster-first": 300, "roster-nochange": 300,
    "roster-changes": 300, "deadline": 300, "deadline-again": 300, "deadline-worst": 300,
    "rollover-pass": 300,
}  # fmt: skip


def machine() -> str:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    return f"{os.cpu_count()} cores, {cpu}, {mem:.0f} GiB, Python {platform.python_version()}"


def postgres_settings() -> str:
    """The server settings a run depends on (docs/deployment.md gives the production ones)."""
    return psql(
        "postgres",
        "SELECT string_agg(name || '=' || current_setting(name), ' ' ORDER BY name) FROM "
        "pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'maintenance_work_mem', "
        "'max_wal_size', 'checkpoint_timeout', 'effective_cache_size', 'server_version')",
    )


class Results:
    def __init__(self, path: Path):
        self.path = path
        self.data = json.loads(path.read_text()) if path.exists() else {}

    def done(self, step):
        return step in self.data

    def save(self, step, figures: dict):
        figures = {
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "machine": machine(),
            "postgres": postgres_settings(),
            **figures,
        }
        self.data[step] = figures
        self.path.write_text(json.dumps(self.data, indent=1, default=str))
        print(f"== {step}: " + json.dumps(figures, default=str), flush=True)


def env_for(args) -> dict:
    return dict(
        os.environ,
        DATABASE_URL=PG + args.db,
        AKUN_VAR_DIR=str(args.dir / "var"),
        AKUN_LIFECYCLE_MAX_SHARE="1.0",
        AKUN_EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
    )


def child(args, cmd, step, env=None) -> dict:
    load = load_average()
    secs, rss, out, cpu, db_cpu = timed_child([*AKUN, *cmd], env or env_for(args), args.db)
    figures = {
        "seconds": round(secs, 1),
        "peak_rss_mib": round(rss / 1024),
        "cpu_process_s": round(cpu, 1),
        "cpu_postgres_s": round(db_cpu, 1),
        "load_before": load,
        "load_after": load_average(),
        "output_tail": out.strip().splitlines()[-6:],
        "database_size": psql(args.db, f"SELECT pg_size_pretty(pg_database_size('{args.db}'))"),
    }
    if step in TARGETS:
        figures["target_s"] = TARGETS[step]
        figures["met"] = secs < TARGETS[step]
    return figures


def count(db, sql) -> int:
    return int(psql(db, sql) or 0)


# --- the steps ------------------------------------------------------------------------------


def step_generate(args, res):
    snap = args.dir / "snapshot"
    if (snap / ".complete").exists():
        return {"skipped": "snapshot exists", "path": str(snap)}
    t0 = time.perf_counter()
    load = load_average()
    subprocess.run(
        [*AKUN, "roster", "generate", "--scale", "1.0", "--seed", "1", "--out", str(snap)],
        check=True, env=env_for(args), cwd=ROOT,
    )  # fmt: skip
    (snap / ".complete").write_text("")
    size = sum(f.stat().st_size for f in snap.iterdir())
    return {"seconds": round(time.perf_counter() - t0, 1), "bytes": size, "load_before": load}


def step_import(args, res):
    if psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{args.db}'") != "1":
        psql("postgres", f"CREATE DATABASE {args.db}")
    subprocess.run([*AKUN, "migrate", "-v0"], check=True, env=env_for(args), cwd=ROOT)
    f = child(args, ["roster", "import", str(args.dir / "snapshot")], "import")
    f["rows"] = count(
        args.db,
        "SELECT (SELECT count(*) FROM roster_sekolah) + (SELECT count(*) FROM "
        "roster_pesertadidik) + (SELECT count(*) FROM roster_ptk)",
    )
    f["rows_per_s"] = round(f["rows"] / f["seconds"])
    return f


def step_reimport(args, res):
    f = child(args, ["roster", "import", str(args.dir / "snapshot")], "import")
    f["rows_per_s"] = round(res.data["import"]["rows"] / f["seconds"])
    return f


def step_issue(args, res):
    f = child(args, ["accounts", "issue"], "issue")
    f["accounts"] = count(args.db, "SELECT count(*) FROM accounts_account")
    f["accounts_per_s"] = round(f["accounts"] / f["seconds"])
    f["by_role"] = psql(
        args.db,
        "SELECT string_agg(role || ' ' || n, ', ') FROM (SELECT role, count(*) n "
        "FROM accounts_account GROUP BY role ORDER BY role) t",
    )
    psql(args.db, "VACUUM ANALYZE")
    return f


def step_roster_first(args, res):
    return child(args, ["lifecycle", "run", "roster"], "roster-first")


def step_roster_nochange(args, res):
    psql(args.db, NEW_IMPORT.format(status="unchanged"))
    return child(args, ["lifecycle", "run", "roster"], "roster-nochange")


def step_roster_changes(args, res):
    psql(args.db, ROSTER_CHANGES)
    return child(args, ["lifecycle", "run", "roster"], "roster-changes")


def step_deadline(args, res):
    issued = count(args.db, "SELECT count(*) FROM accounts_account WHERE state = 'issued'")
    psql(
        args.db,
        # One pass over the table (two UPDATEs took 12 minutes at national size).
        "UPDATE accounts_account SET issued_at = issued_at - interval '30 days', "
        "state_changed_at = state_changed_at - interval '30 days', "
        "state = CASE WHEN state = 'issued' AND id % 10 < 6 THEN 'active' ELSE state END, "
        "activated_at = CASE WHEN state = 'issued' AND id % 10 < 6 "
        "THEN issued_at ELSE activated_at END, "
        "initial_password_enc = CASE WHEN state = 'issued' AND id % 10 < 6 THEN NULL "
        "ELSE initial_password_enc END; VACUUM ANALYZE accounts_account",
    )
    day = time.strftime("%Y-%m-%d", time.localtime(time.time() - 2 * 86400))
    subprocess.run([*AKUN, "lifecycle", "deadline", "set", "--date", day], check=True,
                   env=env_for(args), cwd=ROOT, stdout=subprocess.DEVNULL)  # fmt: skip
    f = child(args, ["lifecycle", "run", "deadlines"], "deadline")
    f["issued_before"] = issued
    f["deactivated"] = count(
        args.db, "SELECT count(*) FROM accounts_account WHERE state = 'deactivated'"
    )
    return f


def _sweep_after(args, setup_sql: str, step: str) -> dict:
    """`setup_sql` (accounts back to `issued`, behind the change stream), the statistics
    rebuilt from it (not timed), then the deadline sweep, timed."""
    psql(args.db, f"{setup_sql}; VACUUM ANALYZE accounts_account")
    _django(args)
    from akun.statistik import api as statistik

    statistik.rebuild()
    issued = count(args.db, "SELECT count(*) FROM accounts_account WHERE state = 'issued'")
    f = child(args, ["lifecycle", "run", "deadlines"], step)
    f["issued_before"] = issued
    f["deactivated"] = count(
        args.db, "SELECT count(*) FROM accounts_account WHERE state = 'deactivated'"
    )
    return f


def step_deadline_again(args, res):
    return _sweep_after(
        args,
        "UPDATE accounts_account SET state = 'issued', state_changed_at = issued_at "
        "WHERE state = 'deactivated'",
        "deadline-again",
    )


def step_deadline_worst(args, res):
    return _sweep_after(
        args,
        "UPDATE accounts_account SET state = 'issued', activated_at = NULL, "
        "state_changed_at = issued_at WHERE state IN ('active', 'deactivated')",
        "deadline-worst",
    )


def bench_script(args, script, *extra):
    load = load_average()
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--database-url", PG + args.db, *extra],
        env=env_for(args), cwd=ROOT / "bench", capture_output=True, text=True,
    )  # fmt: skip
    if out.returncode not in (0, 1):  # 1: ran, target missed
        raise SystemExit(f"{script} failed:\n{out.stdout}\n{out.stderr}")
    return {
        "seconds": round(time.perf_counter() - t0, 1),
        "load_before": load,
        "output": out.stdout.strip().splitlines()[-25:],
    }


def step_pdf(args, res):
    return bench_script(args, "bench_portal.py", "--students", "1000", "--runs", "5")


def step_signin(args, res):
    return bench_script(args, "bench_signin.py", "--seconds", "20")


def step_sso(args, res):
    return bench_script(args, "bench_sso.py", "--seconds", "15")


def step_pages(args, res):
    """Each page N times through Django's test client (the full middleware stack, a real
    session with the second factor), a random school or region each time: the database is
    larger than memory, so most requests read from disk as a real one would."""
    _django(args)
    from django.test import Client

    from akun.accounts.models import Account
    from akun.core import clock
    from akun.portal.middleware import MFA
    from akun.portal.models import AdminScope

    now = clock.now()
    admin, _ = Account.objects.get_or_create(
        local_part="benchnational",
        defaults=dict(
            subdomain="admin", user_id="benchnational@admin.belajar.test", person_type="staff",
            role="dinas", state="active", issued_at=now, activated_at=now, password="!",
        ),
    )  # fmt: skip
    AdminScope.objects.get_or_create(
        account=admin, level="national", kode_wilayah="", npsn="",
        defaults={"granted_at": now, "granted_by": "bench"},
    )  # fmt: skip
    client = Client()
    client.force_login(admin)
    session = client.session
    session[MFA] = {"account": admin.pk, "at": time.time(), "last": time.time()}
    session.save()

    rng = random.Random(1)
    schools = psql(
        args.db,
        "SELECT npsn FROM roster_sekolah TABLESAMPLE SYSTEM (1) WHERE departed_at IS NULL "
        "LIMIT 400",
    ).split()
    provinces = psql(
        args.db, "SELECT DISTINCT substr(kode_wilayah, 1, 2) FROM roster_sekolah"
    ).split()
    regencies = psql(
        args.db,
        "SELECT substr(kode_wilayah, 1, 4) FROM roster_sekolah TABLESAMPLE SYSTEM (1) LIMIT 200",
    ).split()
    # People to look up in Cek Akun: students with an account at a sampled school.
    people = [
        line.split("|")
        for line in psql(
            args.db,
            "SELECT s.npsn, pd.nama, pd.tanggal_lahir FROM roster_pesertadidik pd "
            "TABLESAMPLE SYSTEM (0.01) JOIN roster_sekolah s USING (sekolah_id) LIMIT 100",
        ).splitlines()
    ]
    n = args.page_runs
    pages = {
        "national": lambda: client.get("/operator/wilayah/nasional/"),
        "province": lambda: client.get(f"/operator/wilayah/{rng.choice(provinces)}/"),
        "regency": lambda: client.get(f"/operator/wilayah/{rng.choice(regencies)}/"),
        "school": lambda: client.get(f"/operator/sekolah/{rng.choice(schools)}/"),
        "school accounts": lambda: client.get(f"/operator/sekolah/{rng.choice(schools)}/akun"),
        "school CSV (Unduh Akun)": lambda: client.get(
            f"/operator/sekolah/{rng.choice(schools)}/unduh/akun.csv?role=peserta_didik"
        ),
        "NPSN search": lambda: Client().get(
            "/cek-akun/npsn", {"q": rng.choice(["SD NEGERI 1", "SMP", "SMA NEGERI 2", "MI"])}
        ),
    }
    figures = {}
    for name, get in pages.items():
        figures[name] = _timed_gets(get, n)
    lat, statuses = [], {}
    for i in range(min(n, len(people))):
        npsn, nama, lahir = people[i]
        c = Client(REMOTE_ADDR=f"10.{i // 250}.{i % 250}.1")
        c.get("/cek-akun")
        t0 = time.perf_counter()
        r = c.post(
            "/cek-akun",
            {"role": "peserta_didik", "npsn": npsn, "nama": nama, "tanggal_lahir": lahir},
        )
        lat.append(time.perf_counter() - t0)
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    figures["Cek Akun"] = _lat(lat, statuses)
    figures["load_after"] = load_average()
    figures["met"] = all(v["p95_ms"] < 300 for k, v in figures.items() if isinstance(v, dict))
    return figures


def _django(args):
    os.environ.update(env_for(args))
    os.environ["DJANGO_SETTINGS_MODULE"] = "akun.settings"
    import django

    django.setup()


def _timed_gets(get, runs):
    """A request `runs` times, its whole answer read (streamed ones too): latencies and
    statuses."""
    lat, statuses = [], {}
    for _ in range(runs):
        t0 = time.perf_counter()
        r = get()
        if getattr(r, "streaming", False):
            b"".join(r.streaming_content)
        lat.append(time.perf_counter() - t0)
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    return _lat(lat, statuses)


def _timed_ms(fn, runs):
    lat = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        lat.append(time.perf_counter() - t0)
    return _lat(lat, {})


def step_statistik(args, res):
    """The statistics at full size: what the national and province pages read (the counts
    kept by the change stream), the public page over HTTP, and the same counts by a live
    scan of every account, which must agree."""
    _django(args)
    from django.test import Client

    from akun.statistik import api as statistik

    t0 = time.perf_counter()
    statistik.fold()
    figures = {"fold_s": round(time.perf_counter() - t0, 1), "load_before": load_average()}
    n = args.page_runs
    rng = random.Random(2)
    provinces = [g.kode for g in statistik.regions("")]
    figures["read national (provinces)"] = _timed_ms(lambda: statistik.regions(""), n)
    figures["read a province (regencies)"] = _timed_ms(
        lambda: statistik.regions(rng.choice(provinces)), n
    )
    figures["read public page data"] = _timed_ms(
        lambda: (statistik.national(), statistik.daily("activated")), n
    )
    for name, url in (
        ("public page", "/statistik/"),
        ("open data CSV", "/statistik/statistik.csv"),
        ("open data JSON", "/statistik/statistik.json"),
    ):
        figures[name] = _timed_gets(lambda url=url: Client().get(url), n)

    def kept():
        out = {}
        for g in statistik.regions(""):
            for (_role, state), k in g.cells.items():
                if k:
                    out[state] = out.get(state, 0) + k
        return out

    def live():
        return {
            state: int(n)
            for state, n in (
                line.split("|")
                for line in psql(
                    args.db,
                    "SELECT a.state, count(*) FROM accounts_account a JOIN roster_sekolah s "
                    "ON s.sekolah_id = a.sekolah_id GROUP BY 1",
                ).splitlines()
            )
        }

    t0 = time.perf_counter()
    figures["live counts"] = live()
    figures["live count (before issue 18) ms"] = round((time.perf_counter() - t0) * 1000)
    figures["kept counts"] = kept()
    figures["exact"] = figures["kept counts"] == figures["live counts"]
    if not figures["exact"]:
        # This bench's own setup SQL (the deadline step activates 60% of the accounts with
        # one UPDATE) goes behind the change stream, as no product path does: counted again.
        t0 = time.perf_counter()
        statistik.rebuild()
        figures["rebuild_s"] = round(time.perf_counter() - t0, 1)
        figures["kept counts after rebuild"] = kept()
        figures["exact"] = figures["kept counts after rebuild"] == figures["live counts"]
    figures["met"] = figures["exact"] and all(
        v["p95_ms"] < 100 for k, v in figures.items() if k.startswith("read ")
    )
    return figures


def step_rollover(args, res):
    """The July rollover at full size, each part timed on its own."""
    snap, nxt = args.dir / "snapshot", args.dir / "rollover"
    figures = {}
    if not (nxt / ".complete").exists():
        t0 = time.perf_counter()
        subprocess.run(
            [*AKUN, "roster", "generate", "--rollover-from", str(snap), "--out", str(nxt)],
            check=True, env=env_for(args), cwd=ROOT,
        )  # fmt: skip
        (nxt / ".complete").write_text("")
        figures["generate_s"] = round(time.perf_counter() - t0, 1)
    # The safety stops as a ministry runs them: only the rollover window lets the
    # graduations and the level changes through.
    env = env_for(args)
    del env["AKUN_LIFECYCLE_MAX_SHARE"]
    _django(args)
    from akun.roster.api import do_open_rollover, open_window

    if open_window() is None:
        do_open_rollover("2027/2028", actor="bench-national")
    events = lambda: count(args.db, "SELECT coalesce(max(id), 0) FROM accounts_accountevent")  # noqa: E731
    accounts = lambda: count(args.db, "SELECT count(*) FROM accounts_account")  # noqa: E731
    first_event, before = events(), accounts()
    figures["import"] = child(args, ["roster", "import", str(nxt)], "rollover-import", env)
    figures["pass"] = child(args, ["lifecycle", "run", "roster"], "rollover-pass", env)
    figures["new_accounts"] = accounts() - before
    # The notices due, counted (a dry run): sending millions of mails is the mail relay's
    # work, measured by the lifecycle benchmarks, not this one's.
    from akun.lifecycle import api as lifecycle

    t0 = time.perf_counter()
    due = lifecycle.send_notices(actor="bench-national", dry_run=True)
    figures["notices_due"] = {k: due.total(k) for k in sorted({w for w, _p in due.counts})}
    figures["notices_s"] = round(time.perf_counter() - t0, 1)
    figures["change_events"] = events() - first_event
    figures["by_kind"] = psql(
        args.db,
        "SELECT string_agg(kind || ' ' || n, ', ') FROM (SELECT kind, count(*) n FROM "
        f"accounts_accountevent WHERE id > {first_event} GROUP BY kind ORDER BY kind) t",
    )
    figures["deletion_schedules"] = psql(
        args.db,
        "SELECT string_agg(reason || ' ' || n, ', ') FROM (SELECT reason, count(*) n FROM "
        "lifecycle_deletionschedule WHERE status = 'pending' GROUP BY 1 ORDER BY 1) t",
    )
    figures["met"] = figures["pass"]["seconds"] < 300
    return figures


def _lat(lat, statuses):
    return {
        "runs": len(lat),
        "p50_ms": round(pct(lat, 50) * 1000, 1),
        "p95_ms": round(pct(lat, 95) * 1000, 1),
        "max_ms": round(max(lat) * 1000, 1),
        "statuses": statuses,
    }


def report(args, res):
    exists = psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{args.db}'") == "1"
    size = (
        psql(args.db, f"SELECT pg_size_pretty(pg_database_size('{args.db}'))")
        if exists
        else "not created yet"
    )
    print(f"database {args.db}: {size}; machine: {machine()}")
    for step in STEPS:
        if step in res.data:
            d = res.data[step]
            keep = {k: v for k, v in d.items() if k not in ("output", "output_tail", "machine")}
            print(f"| {step} | {json.dumps(keep, default=str)} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="akun_national")
    ap.add_argument("--dir", type=Path, default=ROOT / "bench" / "out" / "national")
    ap.add_argument("--steps", default=",".join(STEPS))
    ap.add_argument("--redo", default="")
    ap.add_argument("--page-runs", type=int, default=40)
    ap.add_argument("--report", action="store_true")
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    (args.dir / "var").mkdir(exist_ok=True)
    res = Results(args.dir / "results.json")
    if args.report:
        return report(args, res)
    redo = set(filter(None, args.redo.split(",")))
    for step in filter(None, args.steps.split(",")):
        if step not in STEPS + ONLY_NAMED:
            raise SystemExit(
                f"--steps: unknown step {step!r}; steps: {', '.join(STEPS + ONLY_NAMED)}"
            )
        if res.done(step) and step not in redo:
            print(f"-- {step}: done {res.data[step]['date']}, skipped", flush=True)
            continue
        print(f"-- {step}: running ({time.strftime('%H:%M:%S')}, load {load_average()})",
              flush=True)  # fmt: skip
        res.save(step, globals()["step_" + step.replace("-", "_")](args, res))
    report(args, res)


if __name__ == "__main__":
    main()
