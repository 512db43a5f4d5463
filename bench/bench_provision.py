"""Provisioning benchmark on PostgreSQL against the Google stand-in (its own process):

    .venv/bin/python bench/bench_provision.py [--db akun_provision_bench] [--accounts 1000000]
        [--slow-seconds 180] [--fast-seconds 120] [--slow-workers 2] [--workers 2]
        [--skip-reconcile]

1. --accounts issued accounts generated set-based (INSERT ... SELECT generate_series), 300
   to a school, and a Google target whose fill queues all of them (the backlog).
2. Quota 2,400/min (the stand-in refuses past it, a rolling minute): --slow-workers
   workers (threads sharing the quota, as workers on several nodes do) for --slow-seconds.
   Thirty seconds in, one account is activated (accounts.api, the change stream): the time
   until its row is synced at the stand-in is the "activation during a backlog" figure.
   Calls served per complete minute and calls refused for quota come from the stand-in;
   Akun's CPU (utime + stime of this process, /proc) per account sent.
3. Quota 60,000/min, --workers threads (each its own connection and client) for
   --fast-seconds; the same figures.
4. Reconcile: the stand-in seeded (no quota) with the users Akun would send for every
   account not created yet, then `reconcile()` lists the domain at the 60,000/min quota and
   compares it with Akun; its time.

Loopback only; the machine is shared: the load average is printed with the figures.
"""

import argparse
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ensure_database, load_average, log, proc_cpu  # noqa: E402

PG = "postgres://postgres@127.0.0.1:5432/"


def my_cpu() -> float:
    return proc_cpu(os.getpid())


def complete_minutes(stats: dict, since: float) -> list[dict]:
    """The stand-in's complete minutes that began after `since` (epoch seconds)."""
    out = []
    for m in stats["per_minute"]:
        start = time.mktime(time.strptime(m["minute"], "%Y-%m-%dT%H:%M:00Z")) - time.timezone
        if m["complete"] and start >= since:
            out.append(m)
    return out


def generate(n: int) -> None:
    from django.db import connection, transaction

    from akun.accounts.api import Account
    from akun.roster.api import Sekolah

    ACCOUNT_TABLE, SEKOLAH_TABLE = Account._meta.db_table, Sekolah._meta.db_table

    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {ACCOUNT_TABLE}")
        if cur.fetchone()[0] >= n:
            return
        t0 = time.perf_counter()
        schools = (n + 299) // 300
        with transaction.atomic():
            cur.execute(f"TRUNCATE {ACCOUNT_TABLE}, {SEKOLAH_TABLE} CASCADE")
            cur.execute(
                f"INSERT INTO {SEKOLAH_TABLE} (sekolah_id, npsn, nama, bentuk_pendidikan, "
                "status_sekolah, kode_wilayah, kabupaten_kota, provinsi, first_run_id, "
                "changed_run_id) SELECT md5('s' || g)::uuid, (20000000 + g)::text, "
                "'SD NEGERI ' || g, 'SD', 'Negeri', "
                "lpad(((g %% 34) + 11)::text, 2, '0') || lpad(((g %% 20) + 1)::text, 2, '0') "
                "|| '01', 'Kab. Nomor ' || (g %% 20), 'Prov. Nomor ' || (g %% 34), 1, 1 "
                "FROM generate_series(1, %s) g",
                [schools],
            )
            cur.execute(
                f"INSERT INTO {ACCOUNT_TABLE} (password, local_part, subdomain, user_id, "
                "person_type, jenjang, role, sekolah_id, nama, state, issued_at, "
                "terms_version, recovery_email, recovery_phone) "
                "SELECT '!', 'siswa' || g, 'sd.belajar.test', 'siswa' || g || '@sd.belajar.test', "
                "'peserta_didik', 'SD', 'peserta_didik', md5('s' || (g / 300 + 1))::uuid, "
                "'Siswa Nomor ' || g, 'issued', now(), '', '', '' "
                "FROM generate_series(1, %s) g",
                [n],
            )  # fmt: skip
        cur.execute(f"VACUUM ANALYZE {ACCOUNT_TABLE}")
        cur.execute(f"VACUUM ANALYZE {SEKOLAH_TABLE}")
        log(f"generated {n:,} accounts in {schools:,} schools: {time.perf_counter() - t0:.1f} s")


def phase(name, target, standin, seconds, workers, activate_after=None):
    from django.db import connection

    from akun.provisioning.engine import run_workers
    from akun.provisioning.models import Provisioned

    standin.reset(data=False, counters=True, faults=True)
    start_wall = time.time()
    cpu0, t0 = my_cpu(), time.monotonic()
    deadline = t0 + seconds
    latency = {}

    def activate():
        from akun.accounts import api as accounts
        from akun.accounts.models import Account

        time.sleep(activate_after)
        acc = (
            Account.objects.filter(state="issued")
            .exclude(pk__in=Provisioned.objects.filter(state="synced").values("account_id"))
            .order_by("-pk")
            .first()
        )
        t = time.monotonic()
        accounts.do_activate_account(acc, raw_password="kata sandi baru 123", actor="bench")
        while time.monotonic() < deadline + 60:
            p = Provisioned.objects.get(target=target, account_id=acc.pk)
            if p.state == "synced" and standin.stored_user(acc.user_id):
                latency["seconds"] = time.monotonic() - t
                break
            time.sleep(0.2)
        connection.close()

    th = None
    if activate_after is not None:
        th = threading.Thread(target=activate, daemon=True)
        th.start()
    r = run_workers(target.name, workers, once=False, deadline=deadline)
    elapsed = time.monotonic() - t0
    cpu = my_cpu() - cpu0
    if th is not None:
        th.join(timeout=120)
    stats = standin.stats()
    minutes = complete_minutes(stats, start_wall)
    sent = r.synced + r.suspended + r.deleted
    quota = stats["quota_per_minute"]
    log(f"\n== {name}: quota {quota:,}/min, {workers} worker(s), {elapsed:.0f} s, "
        f"load {load_average()}")  # fmt: skip
    log(f"  accounts sent {sent:,} ({sent / elapsed * 60:,.0f}/min), failed {r.failed}, "
        f"waiting {r.waiting}")  # fmt: skip
    log(f"  calls served {stats['calls_served']:,} ({stats['calls_served'] / elapsed * 60:,.0f}"
        f"/min = {stats['calls_served'] / elapsed * 60 / quota:.1%} of quota), refused for "
        f"quota {stats['refused_quota']:,} "
        f"({stats['refused_quota'] / max(1, stats['calls_served']):.2%})")  # fmt: skip
    for m in minutes:
        log(f"  minute {m['minute']}: served {m['served']:,} ({m['served'] / quota:.1%}), "
            f"refused {m['refused_quota']}")  # fmt: skip
    log(f"  Akun CPU {cpu:.1f} s = {cpu / max(1, sent) * 1000:.3f} ms per account sent")
    if activate_after is not None:
        took = latency.get("seconds", float("nan"))
        log(f"  activation during the backlog synced in {took:.1f} s")
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="akun_provision_bench")
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--slow-seconds", type=float, default=180)
    ap.add_argument("--fast-seconds", type=float, default=120)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--slow-workers", type=int, default=2)
    ap.add_argument("--reuse", action="store_true",
                    help="keep the target and its backlog (with --skip-reconcile)")  # fmt: skip
    ap.add_argument("--skip-reconcile", action="store_true")
    args = ap.parse_args()
    ensure_database(PG + args.db)
    os.environ["DATABASE_URL"] = PG + args.db
    os.environ["AKUN_REDIS_URL"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "akun.settings")
    os.environ.setdefault("GOOGLE_STANDIN_PORTS", "8350-8399")
    import django

    django.setup()
    import logging

    logging.getLogger("akun").setLevel(logging.WARNING)
    from django.core.management import call_command
    from django.db import connection

    from akun.provisioning import api as provisioning
    from akun.provisioning.models import OrgUnit, Provisioned, QuotaBucket, Target
    from tests.google_standin import start_subprocess

    call_command("migrate", verbosity=0)
    log(f"load {load_average()}")
    generate(args.accounts)
    standin = start_subprocess("--quota-per-minute", "2400")
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / "akun-provision-bench"
    tmp.mkdir(exist_ok=True)
    key = tmp / "sa.json"
    import json

    key.write_text(json.dumps(standin.service_account_info()))
    try:
        config = {"domain": standin.domain, "subject": standin.admin, "key_file": str(key),
                  "api_endpoint": standin.api_endpoint, "quota_per_minute": 2400}  # fmt: skip
        QuotaBucket.objects.all().delete()
        if args.reuse and Target.objects.filter(pk="bench").exists():
            # The backlog as a run before left it; a new stand-in knows no org unit yet.
            OrgUnit.objects.all().delete()
            Target.objects.filter(pk="bench").update(config=config, held_reason="")
        else:
            Target.objects.all().delete()
            with connection.cursor() as cur:
                cur.execute("TRUNCATE accounts_accountevent")
                cur.execute("DELETE FROM accounts_eventconsumer")
            t0 = time.perf_counter()
            queued = provisioning.do_add_target("bench", "google", config, actor="bench")
            log(f"target added, {queued:,} accounts queued (the fill): "
                f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
            with connection.cursor() as cur:
                cur.execute("VACUUM ANALYZE provisioning_provisioned")
        target = Target.objects.get(pk="bench")
        phase("slow", target, standin, args.slow_seconds, args.slow_workers, activate_after=30)
        standin.set_quota(60000)
        target.config["quota_per_minute"] = 60000
        target.save()
        QuotaBucket.objects.all().delete()
        phase("fast", target, standin, args.fast_seconds, args.workers)
        if args.skip_reconcile:
            return
        # Seed what Akun would send for every account not created yet, then reconcile.
        from akun.provisioning import desired
        from akun.provisioning.google import GoogleClient
        from akun.provisioning.reconcile import reconcile

        t0 = time.perf_counter()
        client = GoogleClient(target)
        done = set(
            Provisioned.objects.filter(target=target, state="synced").values_list(
                "account_id", flat=True
            )
        )
        ids = [i for i in range(1, args.accounts + 1)]
        with connection.cursor() as cur:
            cur.execute("SELECT id FROM accounts_account ORDER BY id")
            ids = [r[0] for r in cur.fetchall() if r[0] not in done]
        seeded = 0
        for i in range(0, len(ids), 20000):
            built = desired.build(target, ids[i : i + 20000])
            users = []
            for d, _state in built.values():
                body = client._body(d, insert=True)
                body["password"] = "rahasia-sekolah"
                users.append(body)
            seeded += standin.seed(users)["inserted"]
        log(f"\nseeded {seeded:,} users at the stand-in: {time.perf_counter() - t0:.0f} s")
        standin.reset(data=False, counters=True, faults=True)
        t0 = time.perf_counter()
        cpu0 = my_cpu()
        d = reconcile(target, client=GoogleClient(target))
        log(f"== reconcile: {d.listed:,} users listed, missing {d.missing:,}, extra "
            f"{d.extra:,}, differ {d.differ:,}: {time.perf_counter() - t0:.0f} s, Akun CPU "
            f"{my_cpu() - cpu0:.0f} s, {standin.stats()['calls_served']:,} calls, "
            f"load {load_average()}")  # fmt: skip
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
