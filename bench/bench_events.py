"""Change-stream benchmark on PostgreSQL: how fast a durable consumer reads and acknowledges
events (akun.accounts.stream.run_consumer with a handler that does nothing).

    .venv/bin/python bench/bench_events.py [--db akun_events_bench] [--events 1000000]
        [--batch 5000] [--keep]

Uses the events already in the database (a deadline sweep's, say: bench_lifecycle.py runs
this on its run database after `deadline-all`; a bulk statement's accounts are one row) and,
if there are fewer than --events, writes synthetic single-account rows first (the slow
case: one row per account; INSERT ... SELECT, one transaction). The consumer starts from
the beginning; the time is from its first read to its last acknowledgement. Target
(issue 13): >= 100,000 events/s.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432/"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="akun_events_bench")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--keep", action="store_true", help="do not drop a database made here")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import ensure_database, load_average, proc_cpu

    ensure_database(PG + args.db)
    os.environ["DATABASE_URL"] = PG + args.db
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "akun.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from akun.accounts import stream

    call_command("migrate", verbosity=0)
    with connection.cursor() as cur:
        cur.execute(f"SELECT COALESCE(sum(count), 0) FROM {stream.EVENT}")
        have = cur.fetchone()[0]
        if have < args.events:
            t0 = time.perf_counter()
            with transaction.atomic():
                cur.execute(
                    f"INSERT INTO {stream.EVENT} (xid, kind, account_id, count, at) "
                    "SELECT pg_current_xact_id()::text::bigint, 'deactivated', g, 1, now() "
                    "FROM generate_series(1, %s) g",
                    [args.events - have],
                )
            cur.execute(f"VACUUM ANALYZE {stream.EVENT}")
            print(f"wrote {args.events - have:,} events in {time.perf_counter() - t0:.1f} s")
        cur.execute(f"SELECT COALESCE(sum(count), 0), count(*) FROM {stream.EVENT}")
        total, rows = cur.fetchone()
    handled = [0]

    def handler(events):
        handled[0] += len(events)

    stream.register_consumer("bench.read", [k.value for k in stream.Kind], handler,
                             batch=args.batch)  # fmt: skip
    from akun.accounts.models import EventConsumer

    EventConsumer.objects.filter(name="bench.read").delete()
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
    load = load_average()
    t0 = time.perf_counter()
    cpu0, db0 = time.process_time(), proc_cpu(backend) or 0.0
    run = stream.run_consumer("bench.read")
    secs = time.perf_counter() - t0
    cpu, db_cpu = time.process_time() - cpu0, (proc_cpu(backend) or 0.0) - db0
    assert handled[0] == total == run.handled, (handled[0], total, run.handled)
    print(
        f"consumer read+ack: {total:,} account events ({rows:,} rows) in {secs:.2f} s = "
        f"{total / secs:,.0f} events/s "
        f"(batch {args.batch}, {run.batches} batches; CPU: process {cpu:.1f} s, PostgreSQL "
        f"backend {db_cpu:.1f} s; load average {load})"
    )
    EventConsumer.objects.filter(name="bench.read").delete()


if __name__ == "__main__":
    main()
