"""The school-year rollover at a given scale, end to end, and the statistics pages.

    .venv/bin/python bench/bench_rollover.py --scale 0.05 \
        [--database-url postgres://postgres@127.0.0.1:5432/akun_bench_rollover] [--out DIR]

Resumable: the snapshots stay in --out (bench/out/rollover-<scale>) and a step already done
in the database (year 1 imported and issued) is skipped. Steps, each timed:
1. generate year 1; import it; issue every account; the first roster pass (its mark);
2. the statistics: rebuild from the accounts, the national and province reads, and the live
   counts the portal made before (for comparison);
3. generate the rollover snapshot (--rollover-from); open the window; import it; the roster
   pass (new accounts for new levels, the old ones on the deletion path, graduates); the
   notices; the statistics fold; the pages again.
The provisioning backlog is reported when akun.provisioning has an engine (else: none).
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def log(*a):
    print(*a, flush=True)


def timed(what, fn, *a, **kw):
    t = time.monotonic()
    out = fn(*a, **kw)
    log(f"{what:48} {time.monotonic() - t:9.2f} s")
    return out


SUBSCRIBER = [0.0]


def time_the_subscriber():
    """The statistics subscriber's own time inside the changes (issuance, passes)."""
    from akun.accounts import stream
    from akun.statistik import counting

    for i, (kinds, handler) in enumerate(stream._subscribers):
        if handler is counting.on_change:

            def timed_handler(change, _h=handler):
                t = time.monotonic()
                _h(change)
                SUBSCRIBER[0] += time.monotonic() - t

            stream._subscribers[i] = (kinds, timed_handler)


def subscriber_share(what):
    log(f"   of which the statistics subscriber ({what}): {SUBSCRIBER[0]:.2f} s")
    SUBSCRIBER[0] = 0.0


def page_reads(runs=20):
    """National and province reads from the statistics, and the live counts the portal
    made before (one run: they scan every account)."""
    from django.db import connection

    from akun.statistik import api as statistik

    out = {}
    for what, fn in (
        ("national (provinces)", lambda: statistik.regions("")),
        ("province 32 (regencies)", lambda: statistik.regions("32")),
        ("public page data", lambda: (statistik.national(), statistik.daily("activated"))),
    ):
        times = []
        for _ in range(runs):
            t = time.monotonic()
            fn()
            times.append((time.monotonic() - t) * 1000)
        times.sort()
        out[what] = (times[len(times) // 2], times[int(len(times) * 0.95) - 1])
        log(f"  read {what:36} p50 {out[what][0]:7.1f} ms  p95 {out[what][1]:7.1f} ms")
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM statistik_regioncount")
        log(f"  regency count rows: {cur.fetchone()[0]:,}")
        t = time.monotonic()
        cur.execute(
            "SELECT substr(s.kode_wilayah, 1, 2), a.state, count(*) FROM accounts_account a "
            "JOIN roster_sekolah s ON s.sekolah_id = a.sekolah_id WHERE a.state <> 'deleted' "
            "GROUP BY 1, 2"
        )
        cur.fetchall()
        log(f"  live count by province (before): {(time.monotonic() - t) * 1000:9.1f} ms")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/akun_bench_rollover"
    )
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--reads-only", action="store_true", help="fold, then time the reads")
    ap.add_argument(
        "--notices",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="send the notices (default: only up to scale 0.01; one mail each)",
    )
    args = ap.parse_args()
    out = args.out or ROOT / "bench" / "out" / f"rollover-{args.scale}"
    out.mkdir(parents=True, exist_ok=True)
    var = out / "var"
    var.mkdir(exist_ok=True)
    os.environ["AKUN_VAR_DIR"] = str(var)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("AKUN_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "akun.settings")
    from _common import ensure_database, load_average

    ensure_database(args.database_url)
    import django

    django.setup()
    import datetime as dt

    from django.core.management import call_command
    from django.db import connection

    from akun.accounts.api import Account, issue_accounts
    from akun.core import clock
    from akun.lifecycle import api as lifecycle
    from akun.roster.api import ImportRun, do_open_rollover, open_window
    from akun.roster.importing import RosterImport
    from akun.statistik import api as statistik
    from akun.synthetic.generate import generate_snapshot
    from akun.synthetic.rollover import generate_rollover

    log(f"bench_rollover scale {args.scale}, {platform.node()}, {os.cpu_count()} cores, "
        f"load {load_average()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")  # fmt: skip
    call_command("migrate", verbosity=0)
    time_the_subscriber()
    if args.reads_only:
        timed("statistics fold (and vacuum)", statistik.fold)
        log(f"accounts: {Account.objects.count():,}")
        page_reads()
        log(f"load {load_average()}")
        return
    y1, y2 = out / "y1", out / "y2"
    clock.freeze(dt.datetime(2026, 8, 1, 5, tzinfo=dt.UTC))
    if not (y1 / "ptk.csv").exists():
        timed("generate year 1", generate_snapshot, y1, scale=args.scale, seed=args.seed,
              messy=False, year=2026)  # fmt: skip
    if not ImportRun.objects.filter(status="applied").exists():
        r = timed("import year 1", RosterImport(y1, actor="bench").run)
        log("  ", {k: (c.added, c.changed, c.departed) for k, c in r.counts.items()})
        timed("issue year 1", issue_accounts, actor="bench")
        subscriber_share("issuance")
        timed("first roster pass (mark)", lifecycle.roster_pass, actor="bench")
        timed("statistics rebuild", statistik.rebuild)
    n = Account.objects.count()
    log(f"accounts: {n:,}")
    page_reads()
    if not (y2 / "ptk.csv").exists():
        counts = timed("generate rollover snapshot", generate_rollover, y1, y2, seed=args.seed)
        log("  ", counts)
    clock.freeze(dt.datetime(2027, 7, 10, 5, tzinfo=dt.UTC))
    if ImportRun.objects.filter(status="applied").count() < 2:
        if open_window() is None:
            do_open_rollover("2027/2028", actor="bench")
        r = timed("import the rollover snapshot", RosterImport(y2, actor="bench").run)
        log("  ", {k: (c.added, c.changed, c.departed) for k, c in r.counts.items()},
            "graduations expected:", r.expected_departures)  # fmt: skip
        before = Account.objects.count()
        rp = timed("roster pass (rollover)", lifecycle.roster_pass, actor="bench")
        log("   held:", rp.held, " counts:", {k: rp.total(k) for k in sorted(
            {w for w, _p in rp.counts})})  # fmt: skip
        log(f"   new accounts: {Account.objects.count() - before:,}")
        subscriber_share("roster pass")
        send = args.notices if args.notices is not None else args.scale <= 0.01
        sent = timed("notices" + ("" if send else " (due, not sent)"), lifecycle.send_notices,
                     actor="bench", dry_run=not send)  # fmt: skip
        log("  ", {k: sent.total(k) for k in sorted({w for w, _p in sent.counts})})
        timed("statistics fold", statistik.fold)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT reason, count(*) FROM lifecycle_deletionschedule WHERE status = 'pending' "
            "GROUP BY 1 ORDER BY 1"
        )
        log("pending deletion schedules:", cur.fetchall())
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        log("database size:", cur.fetchone()[0])
        cur.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = "
            "'provisioning_provisioned'"
        )
        if cur.fetchone()[0]:
            cur.execute("SELECT state, count(*) FROM provisioning_provisioned GROUP BY 1")
            log("provisioning backlog:", cur.fetchall() or "none (no target configured)")
    log(f"accounts: {Account.objects.count():,}")
    page_reads()
    log(f"load {load_average()}")


if __name__ == "__main__":
    main()
