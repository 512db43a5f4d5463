"""SCIM provisioning benchmark: Akun's CPU per account, provisioning N accounts into a real
scim2-server process (tests/scim_server.py), read from /proc (utime + stime); the server's
own CPU separately. Target (issue 16): Akun's side <= 1 ms per account.

    .venv/bin/python bench/bench_scim.py [--accounts 5000] [--batch 1000]
        [--cases bulk-create,bulk-patch,...]

Cases (each on a fresh server):
  bulk-create   creation of N users, /Bulk (maxOperations 1000), with school groups
  bulk-patch    then an update of all of them (a move: PATCH in /Bulk, group moves)
  bulk-delete   then their deletion (DELETE in /Bulk)
  plain-create  a server without bulk and PATCH: one POST per user
  plain-put     then an update of all of them: GET + PUT with If-Match per user
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
        t = Target(
            name="bench",
            kind="scim",
            config={"url": server.url, "token_env": "AKUN_BENCH_SCIM_TOKEN"},
        )
        c = ScimClient(t)
        c.caps  # noqa: B018 -- discovery outside the measure
        return c

    n = args.accounts
    if cases & {"bulk-create", "bulk-patch", "bulk-delete"}:
        with scim_server() as server:
            c = client_for(server)
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
            items = desired_items(n, args.schools)
            outs = measure("plain-create", server, lambda: batches(items, c.write), n)
            if "plain-put" in cases:
                again = [
                    dataclasses.replace(d, remote_id=o.remote_id, family_name="Rahma")
                    for d, o in zip(items, outs, strict=True)
                ]
                measure("plain-put", server, lambda: batches(again, c.write), n)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--accounts", type=int, default=5000)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--schools", type=int, default=25)
    p.add_argument("--cases", default="bulk-create,bulk-patch,bulk-delete,plain-create,plain-put")
    args = p.parse_args()
    log(f"# bench_scim  {platform.node()}  {os.cpu_count()} cores  load {load_average()}")
    run_client(args)
    log(f"# load afterwards {load_average()}")


if __name__ == "__main__":
    main()
