"""How much the Google stand-in (standins/google) carries: a million users in memory, batch
calls per second and the server CPU per call, and a full paged listing of the domain with a
field mask, the way `akun provision reconcile` reads it.

    .venv/bin/python bench/bench_google_standin.py [--users 1000000] [--batches 20]

What it does (loopback only, bounded in count and time):
  1. `python -m standins.google` in its own process, no quota;
  2. --users users seeded straight into it (/_standin/seed), 1,000 to a school org unit;
  3. --batches batches of 1,000 users.insert, then of users.get and of users.patch, in Google's
     multipart format with a bearer token from the service-account JWT grant; each part
     checked against the discovery document as any call is;
  4. the whole domain listed, 500 a page, fields=users(id,primaryEmail,orgUnitPath,suspended,
     customSchemas),nextPageToken, projection=full; then one school's org unit 50 times;
  5. the server's CPU seconds per phase from /proc, its resident memory.
"""

import argparse
import http.client
import json
import statistics
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import load_average, log, proc_cpu  # noqa: E402 (bench/ is on sys.path)

from tests.google_standin import start_subprocess  # noqa: E402

DOMAIN = "siswa.sd.belajar.test"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def user(i: int, school: int | None = None) -> dict:
    school = 20100000 + i // 1000 if school is None else school
    return {
        "primaryEmail": f"u{i:07d}@{DOMAIN}",
        "name": {"givenName": "Siswa", "familyName": f"Nomor {i}"},
        "password": "$6$saltsalt$" + "a" * 86,
        "hashFunction": "crypt",
        "orgUnitPath": f"/sekolah/{school}",
        "includeInGlobalAddressList": False,
        "customSchemas": {"Akun": {"peran": "siswa", "npsn": str(school)}},
    }


def batch_body(calls: list[tuple[str, str, dict | None]], token: str) -> tuple[str, bytes]:
    """What googleapiclient's BatchHttpRequest writes: LF lines, <uuid + n> Content-IDs."""
    boundary = "===============" + uuid.uuid4().hex[:19] + "=="
    base = uuid.uuid4()
    out = []
    for n, (verb, path, body) in enumerate(calls, 1):
        text = json.dumps(body) if body is not None else None
        inner = f"{verb} {path} HTTP/1.1\nContent-Type: application/json\n"
        inner += f"authorization: Bearer {token}\nHost: admin.googleapis.com\n"
        inner += f"content-length: {len(text)}\n\n{text}" if text else "\n"
        out.append(
            f"--{boundary}\nContent-Type: application/http\nMIME-Version: 1.0\n"
            f"Content-Transfer-Encoding: binary\nContent-ID: <{base} + {n}>\n\n{inner}\n"
        )
    out.append(f"--{boundary}--\n")
    return f'multipart/mixed; boundary="{boundary}"', "".join(out).encode()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--batches", type=int, default=20)
    args = ap.parse_args()

    log(f"load average at start: {load_average()}")
    standin = start_subprocess()
    pid = standin.process.pid
    host, port = standin.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=600)
    try:
        creds = standin.credentials()
        import google.auth.transport.requests

        creds.refresh(google.auth.transport.requests.Request())
        token = creds.token
        auth = {"Authorization": f"Bearer {token}"}

        def call(verb, path, body=None, headers=None):
            conn.request(verb, path, body=body, headers={**auth, **(headers or {})})
            r = conn.getresponse()
            data = r.read()
            if r.status >= 300:
                raise RuntimeError(f"{verb} {path}: {r.status} {data[:300]!r}")
            return data

        call(
            "POST",
            "/admin/directory/v1/customer/my_customer/schemas",
            json.dumps(
                {
                    "schemaName": "Akun",
                    "displayName": "Akun",
                    "fields": [
                        {"fieldName": f, "fieldType": "STRING", "displayName": f}
                        for f in ("peran", "npsn")
                    ],
                }
            ),
            {"Content-Type": "application/json"},
        )

        # 1. seed
        cpu0, t0 = proc_cpu(pid), time.perf_counter()
        chunk = 20_000
        for start in range(0, args.users, chunk):
            lines = "\n".join(
                json.dumps(user(i)) for i in range(start, min(args.users, start + chunk))
            )
            conn.request("POST", "/_standin/seed", body=lines.encode())
            r = conn.getresponse()
            res = json.loads(r.read())
            if res["failed"]:
                raise RuntimeError(res["failed"][:3])
        seed_s, seed_cpu = time.perf_counter() - t0, proc_cpu(pid) - cpu0
        log(
            f"seed: {args.users:,} users in {seed_s:.1f} s ({args.users / seed_s:,.0f}/s), "
            f"server CPU {seed_cpu:.1f} s, RSS {rss_mib(pid):,.0f} MiB"
        )

        # 2. batches
        def run_batches(name, make):
            cpu0, t0 = proc_cpu(pid), time.perf_counter()
            n = 0
            build = 0.0
            for b in range(args.batches):
                tb = time.perf_counter()
                ctype, body = batch_body(make(b), token)
                build += time.perf_counter() - tb
                data = call("POST", "/batch/admin/directory_v1", body, {"Content-Type": ctype})
                ok = data.count(b"HTTP/1.1 200 OK")
                if ok != 1000:
                    raise RuntimeError(f"{name}: {ok} of 1000 answered 200: {data[:600]!r}")
                n += 1000
            wall = time.perf_counter() - t0 - build
            cpu = proc_cpu(pid) - cpu0
            log(
                f"{name}: {n:,} calls in {args.batches} batches, {wall:.2f} s "
                f"({n / wall:,.0f} calls/s), server CPU {cpu * 1e6 / n:.0f} µs per call"
            )

        base = args.users + 1
        ins = "/admin/directory/v1/users"
        run_batches(
            "batch users.insert",
            lambda b: [("POST", ins, user(base + b * 1000 + i, 20100000 + b)) for i in range(1000)],
        )
        run_batches(
            "batch users.get",
            lambda b: [
                (
                    "GET",
                    f"{ins}/u{(b * 1000 + i) * 37 % args.users:07d}@{DOMAIN}"
                    "?projection=full&alt=json",
                    None,
                )
                for i in range(1000)
            ],
        )
        run_batches(
            "batch users.patch",
            lambda b: [
                (
                    "PATCH",
                    f"{ins}/u{(b * 1000 + i) * 41 % args.users:07d}@{DOMAIN}?alt=json",
                    {"suspended": True},
                )
                for i in range(1000)
            ],
        )

        # 3. the whole domain, paged
        fields = "users(id,primaryEmail,orgUnitPath,suspended,customSchemas),nextPageToken"
        q = {
            "customer": "my_customer",
            "maxResults": 500,
            "projection": "full",
            "fields": fields,
            "alt": "json",
        }
        cpu0, t0 = proc_cpu(pid), time.perf_counter()
        pages = seen = 0
        token_page = None
        while True:
            params = dict(q, **({"pageToken": token_page} if token_page else {}))
            page = json.loads(call("GET", f"{ins}?{urllib.parse.urlencode(params)}"))
            pages += 1
            seen += len(page.get("users", ()))
            token_page = page.get("nextPageToken")
            if not token_page:
                break
        wall, cpu = time.perf_counter() - t0, proc_cpu(pid) - cpu0
        log(
            f"list the domain: {seen:,} users in {pages:,} pages, {wall:.1f} s "
            f"({seen / wall:,.0f} users/s, {wall * 1000 / pages:.1f} ms a page), "
            f"server CPU {cpu:.1f} s"
        )

        # 4. one school's org unit
        times = []
        school = f"/sekolah/{20100000 + args.users // 2000}"
        for _ in range(50):
            params = dict(q, query=f"orgUnitPath='{school}'")
            t = time.perf_counter()
            page = json.loads(call("GET", f"{ins}?{urllib.parse.urlencode(params)}"))
            times.append(time.perf_counter() - t)
        log(
            f"one school's org unit ({len(page.get('users', ()))} users, 500 a page): median "
            f"{statistics.median(times) * 1000:.1f} ms"
        )
        log(f"server RSS at the end: {rss_mib(pid):,.0f} MiB; load average {load_average()}")
    finally:
        conn.close()
        standin.stop()


if __name__ == "__main__":
    main()
