"""SCIM provisioning benchmark: Akun's CPU per account, provisioning N accounts into a real
scim2-server process (tests/scim_server.py), read from /proc (utime + stime); the server's
own CPU separately. Target (issue 16): Akun's side <= 1 ms per account.

    .venv/bin/python bench/bench_scim.py [--accounts 5000] [--batch 1000]
        [--cases bulk-create,bulk-patch,...]
    .venv/bin/python bench/bench_scim.py --engine [--db akun_h6_scimbench] [--accounts 5000]

Cases (each on a fresh server):
  bulk-create   creation of N users, /Bulk (maxOperations 1000), with school groups
  bulk-patch    then an update of all of them (a move: PATCH in /Bulk, group moves)
  bulk-delete   then their deletion (DELETE in /Bulk)
  plain-create  a server without bulk and PATCH: one POST per user
  plain-put     then an update of all of them: GET + PUT with If-Match per user

--engine (PostgreSQL): the whole worker path -- N issued accounts generated set-based (300 to
a school), a SCIM target added (its fill queues all of them), then `Engine.run(once=True)`
in this process: claiming rows, desired.build, the client, recording. This process's CPU
(the worker's, /proc) and its PostgreSQL backend's, per account, separately from the server's.
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "akun.settings")

from bench._common import load_average, log  # noqa: E402


def self_cpu() -> float:
    t = os.times()
    return t.user + t.system


def desired_items(n: int, schools: int, start: int = 1):
    from akun.provisioning.base import Desired

    out = []
    for i in range(start, start + n):
        npsn = str(20100000 + i % schools)
        out.append(
            Desired(
                account_id=i,
                user_id=f"murid{i}@belajar.id",
                given_name="Siti",
                family_name=f"Nurhaliza{i}",
                active=True,
                org_unit=f"/Akun/32 Jawa Barat/3204 Kab. Bandung/{npsn}/siswa",
                attributes={
                    "role": "peserta_didik",
                    "jenjang": "SD",
                    "npsn": npsn,
                    "kode_wilayah": "320412",
                    "akun_id": str(i),
                },
            )
        )
    return out


def measure(name, server, fn, n):
    cpu0, srv0, t0 = self_cpu(), server.cpu_seconds(), time.monotonic()
    outs = fn()
    wall = time.monotonic() - t0
    cpu, srv = self_cpu() - cpu0, server.cpu_seconds() - srv0
    ok = sum(1 for o in outs if o.ok)
    for reason in sorted({o.reason for o in outs if not o.ok}):
        log(f"  failed: {reason}: {next(o.detail for o in outs if o.reason == reason)[:200]}")
    log(
        f"{name:14s} {n:6d} accounts  ok {ok:6d}  wall {wall:6.2f} s  "
        f"Akun CPU {cpu * 1000 / n:6.3f} ms/account  "
        f"server CPU {srv * 1000 / n:6.3f} ms/account  ({n / wall:7.0f} accounts/s)"
    )
    return outs


def run_client(args):
    import django

    django.setup()
    import dataclasses

    from akun.provisioning.models import Target
    from akun.provisioning.scim import ScimClient
    from tests.scim_server import config, scim_server

    cases = set(args.cases.split(","))

    def batches(items, fn):
        outs = []
        for i in range(0, len(items), args.batch):
            outs += fn(items[i : i + args.batch])
        return outs

    def client_for(server):
        os.environ["AKUN_BENCH_SCIM_TOKEN"] = server.token
        # scim2-server takes more than the default 30 s for a /Bulk of 1,000 moves here.
        config = {"url": server.url, "token_env": "AKUN_BENCH_SCIM_TOKEN", "timeout": 600}
        t = Target(name="bench", kind="scim", config=config)
        c = ScimClient(t)
        c.caps  # noqa: B018 -- discovery outside the measure
        return c

    def warm_up(c, *, patch: bool):
        """A few users created, moved and deleted outside the measure: the first use of
        each SCIM message type builds its pydantic models (seconds, once per process), which
        a worker does once, not per account."""
        few = desired_items(5, args.schools, start=n + 1)
        outs = c.write(few)
        again = [
            dataclasses.replace(d, remote_id=o.remote_id, family_name="Warm",
                                attributes={**d.attributes, "npsn": "20199999"})
            for d, o in zip(few, outs, strict=True)
        ]  # fmt: skip
        c.write(again)
        if patch:
            c.delete(again)

    n = args.accounts
    if cases & {"bulk-create", "bulk-patch", "bulk-delete"}:
        with scim_server() as server:
            c = client_for(server)
            warm_up(c, patch=True)
            items = desired_items(n, args.schools)
            outs = measure("bulk-create", server, lambda: batches(items, c.write), n)
            moved = [
                dataclasses.replace(
                    d,
                    remote_id=o.remote_id,
                    attributes={**d.attributes, "npsn": str(int(d.attributes["npsn"]) + 1)},
                )
                for d, o in zip(items, outs, strict=True)
            ]
            if "bulk-patch" in cases:
                measure("bulk-patch", server, lambda: batches(moved, c.write), n)
            if "bulk-delete" in cases:
                measure("bulk-delete", server, lambda: batches(moved, c.delete), n)
    if cases & {"plain-create", "plain-put"}:
        with scim_server(config(patch=False, bulk=False)) as server:
            c = client_for(server)
            warm_up(c, patch=False)
            items = desired_items(n, args.schools)
            outs = measure("plain-create", server, lambda: batches(items, c.write), n)
            if "plain-put" in cases:
                again = [
                    dataclasses.replace(d, remote_id=o.remote_id, family_name="Rahma")
                    for d, o in zip(items, outs, strict=True)
                ]
                measure("plain-put", server, lambda: batches(again, c.write), n)


PG = "postgres://postgres@127.0.0.1:5432/"


def generate(n: int) -> None:
    """N issued accounts in N/300 schools, set-based (as bench_provision.py does)."""
    from django.db import connection, transaction

    from akun.accounts.api import Account
    from akun.roster.api import Sekolah

    ACCOUNT_TABLE, SEKOLAH_TABLE = Account._meta.db_table, Sekolah._meta.db_table

    schools = (n + 299) // 300
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"TRUNCATE {ACCOUNT_TABLE}, {SEKOLAH_TABLE} CASCADE")
        cur.execute(
            f"INSERT INTO {SEKOLAH_TABLE} (sekolah_id, npsn, nama, bentuk_pendidikan, "
            "status_sekolah, kode_wilayah, kabupaten_kota, provinsi, first_run_id, "
            "changed_run_id) SELECT md5('s' || g)::uuid, (20000000 + g)::text, "
            "'SD NEGERI ' || g, 'SD', 'Negeri', '320401', 'Kab. Bandung', "
            "'Prov. Jawa Barat', 1, 1 FROM generate_series(1, %s) g",
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
        )
        cur.execute("TRUNCATE accounts_accountevent")
        cur.execute("DELETE FROM accounts_eventconsumer")


def run_engine(args):
    import threading

    from bench._common import ensure_database, proc_cpu, watch_backends

    url = PG + args.db
    ensure_database(url)
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    import logging

    logging.getLogger("akun").setLevel(logging.WARNING)
    from django.core.management import call_command

    from akun.provisioning import api as provisioning
    from akun.provisioning.engine import Engine
    from akun.provisioning.models import Provisioned, Target
    from tests.scim_server import scim_server

    call_command("migrate", verbosity=0)
    generate(args.accounts)
    with scim_server() as server:
        os.environ["AKUN_BENCH_SCIM_TOKEN"] = server.token
        Target.objects.all().delete()
        # A /Bulk of 1,000 creations can take scim2-server more than the default 30 s here.
        config = {"url": server.url, "token_env": "AKUN_BENCH_SCIM_TOKEN", "timeout": 300}
        queued = provisioning.do_add_target("bench", "scim", config, actor="bench")
        engine = Engine("bench")
        engine.client.caps  # noqa: B018 -- discovery outside the measure
        stop, backends = threading.Event(), {}
        watcher = threading.Thread(
            target=watch_backends, args=(url, args.db, stop, backends), daemon=True
        )
        watcher.start()
        time.sleep(0.5)
        before = dict(backends)
        cpu0, srv0, t0 = proc_cpu(os.getpid()), server.cpu_seconds(), time.monotonic()
        result = engine.run(once=True)
        wall = time.monotonic() - t0
        cpu, srv = proc_cpu(os.getpid()) - cpu0, server.cpu_seconds() - srv0
        time.sleep(0.5)
        stop.set()
        watcher.join()
        pg = sum(v - before.get(k, 0.0) for k, v in backends.items())
        synced = Provisioned.objects.filter(target_id="bench", state="synced").count()
        n = max(1, result.rows)
        log(
            f"engine         {queued:6d} queued  synced {synced:6d}  wall {wall:6.2f} s  "
            f"worker CPU {cpu * 1000 / n:6.3f} ms/account  "
            f"PostgreSQL {pg * 1000 / n:6.3f} ms/account  "
            f"server CPU {srv * 1000 / n:6.3f} ms/account  ({n / wall:7.0f} accounts/s)"
        )
        assert len(server.users()) == synced
        from django.db.models import Count

        others = (
            Provisioned.objects.exclude(state="synced")
            .values_list("state", "reason")
            .annotate(n=Count("id"))
        )
        for state, reason, k in others:
            log(f"  not synced: {state} {reason}: {k}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--accounts", type=int, default=5000)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--schools", type=int, default=25)
    p.add_argument("--cases", default="bulk-create,bulk-patch,bulk-delete,plain-create,plain-put")
    p.add_argument("--engine", action="store_true")
    p.add_argument("--db", default="akun_h6_scimbench")
    args = p.parse_args()
    log(f"# bench_scim  {platform.node()}  {os.cpu_count()} cores  load {load_average()}")
    if args.engine:
        run_engine(args)
    else:
        run_client(args)
    log(f"# load afterwards {load_average()}")


if __name__ == "__main__":
    main()
