"""Token grants per second per CPU core through the real HTTP stack: refresh-token grants
(rotation, reuse protection, a new RS256 ID token with the `akun` claims each time) and
client-credentials grants, beside Keycloak's published sizing (120/s per vCPU for each).

    .venv/bin/python bench/bench_sso.py [--workers 2] [--clients 8] [--seconds 15]

What it does (loopback only, bounded in count and time):
  1. a PostgreSQL database of its own (default akun_bench_sso), migrated, with --clients
     active accounts at one school, a first-party web service (openid profile email akun) and
     a machine service (client credentials);
  2. `akun serve` (gunicorn, --workers) against that database;
  3. for each client thread, one real sign-in through the pages and the code + PKCE flow, so
     each thread holds its own refresh-token chain;
  4. a separate client process with --clients threads: phase `refresh` (each thread refreshes
     its chain: the rotated token is used next) and phase `cc` (client-credentials grants),
     each for --seconds or --max-requests;
  5. the server's CPU seconds per phase from /proc (master + workers): per-core figures are
     grants per CPU-second of the Akun processes (PostgreSQL's own CPU is not counted, as in
     Keycloak's sizing, which counts Keycloak's vCPUs).
"""

import argparse
import base64
import hashlib
import http.client
import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from _common import (  # bench/ is on sys.path
    bench_env,
    cpu_seconds,
    ensure_database,
    log,
    pct,
    serving,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
PASSWORD = "teh manis di sore hari"
CALLBACK = "http://127.0.0.1:18799/callback"
KEYCLOAK_PER_VCPU = 120  # refresh-token and client-credentials grants/s per vCPU


# --- the client process ---------------------------------------------------------------------


def client_main(args):
    plan = json.loads(Path(args.plan).read_text())
    deadline = time.monotonic() + args.seconds
    lock = threading.Lock()
    state = {"n": 0, "lat": [], "errors": 0, "statuses": {}}

    def basic(cid, secret):
        raw = f"{urllib.parse.quote(cid)}:{urllib.parse.quote(secret)}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    web_auth = basic(plan["web_id"], plan["web_secret"])
    cc_auth = basic(plan["machine_id"], plan["machine_secret"])

    def one_thread(tid):
        refresh = plan["refresh_tokens"][tid] if args.mode == "refresh" else None
        while time.monotonic() < deadline:
            with lock:
                if state["n"] >= args.max_requests:
                    return
                state["n"] += 1
            if args.mode == "refresh":
                body = urllib.parse.urlencode(
                    {"grant_type": "refresh_token", "refresh_token": refresh}
                )
                auth = web_auth
            else:
                body = "grant_type=client_credentials&scope=introspection"
                auth = cc_auth
            headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": auth}
            t0 = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
            conn.request("POST", "/o/token/", body, headers)
            r = conn.getresponse()
            data = r.read()
            dt = time.perf_counter() - t0
            conn.close()
            ok = r.status == 200
            if ok:
                doc = json.loads(data)
                if args.mode == "refresh":
                    ok = "id_token" in doc and doc.get("refresh_token") not in (None, refresh)
                    refresh = doc.get("refresh_token")
            with lock:
                state["statuses"][r.status] = state["statuses"].get(r.status, 0) + 1
                if ok:
                    state["lat"].append(dt)
                else:
                    state["errors"] += 1
            if not ok and args.mode == "refresh":
                return  # the chain is broken: nothing left to refresh with

    t0 = time.perf_counter()
    threads = [threading.Thread(target=one_thread, args=(t,)) for t in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    print(json.dumps({"ok": len(state["lat"]), "errors": state["errors"], "wall": wall,
                      "latencies": state["lat"], "statuses": state["statuses"]}))  # fmt: skip


# --- the driver -----------------------------------------------------------------------------


def prepare(args, env) -> dict:
    subprocess.run([sys.executable, "-m", "akun", "migrate", "-v", "0"], env=env, check=True)
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "akun.settings"
    import uuid

    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from oauth2_provider.models import AccessToken, Application, Grant, IDToken, RefreshToken

    from akun.accounts.models import Account
    from akun.core import clock
    from akun.identity import terms
    from akun.identity.models import Throttle
    from akun.roster.models import PesertaDidik, Sekolah
    from akun.sso import actions
    from akun.sso.models import Service

    Throttle.objects.all().delete()
    for m in (RefreshToken, AccessToken, IDToken, Grant):
        m.objects.all().delete()
    Service.objects.filter(slug__startswith="bench").delete()
    Application.objects.filter(name__startswith="Bench").delete()
    Account.objects.filter(user_id__startswith="ssobench").delete()
    now = clock.now()
    school, _ = Sekolah.objects.get_or_create(
        npsn="99999901",
        defaults=dict(sekolah_id=uuid.uuid4(), nama="SD BENCH", bentuk_pendidikan="SD",
                      status_sekolah="Negeri", kode_wilayah="320412",
                      kabupaten_kota="Kab. Bandung", provinsi="Prov. Jawa Barat",
                      first_run_id=1, changed_run_id=1),
    )  # fmt: skip
    encoded = make_password(PASSWORD)
    accounts = []
    for i in range(args.clients):
        pd = PesertaDidik.objects.create(
            peserta_didik_id=uuid.uuid4(), nama=f"Siswa Bench {i}", jenis_kelamin="P",
            tanggal_lahir="2012-03-09", sekolah=school, tingkat_pendidikan=5,
            program="reguler", rombel="5A", first_run_id=1, changed_run_id=1,
        )  # fmt: skip
        accounts.append(
            Account(
                local_part=f"ssobench{i:04d}",
                subdomain="sd.belajar.test",
                user_id=f"ssobench{i:04d}@sd.belajar.test",
                person_type="peserta_didik",
                person_id=pd.peserta_didik_id,
                jenjang="sd",
                role="peserta_didik",
                sekolah=school,
                nama=f"Siswa Bench {i}",
                state="active",
                issued_at=now,
                activated_at=now,
                password=encoded,
                terms_version=terms.current().version,
                terms_accepted_at=now,
            )  # fmt: skip
        )
    Account.objects.bulk_create(accounts)
    web, web_secret = actions.do_add_oidc_service(
        "Bench Web", slug="bench-web", redirect_uris=[CALLBACK],
        scopes="openid profile email akun", first_party=True, actor="bench",
    )  # fmt: skip
    machine, machine_secret = actions.do_add_oidc_service(
        "Bench Machine", slug="bench-machine", kind="machine", scopes="introspection",
        actor="bench",
    )  # fmt: skip
    return {
        "user_ids": [a.user_id for a in accounts],
        "web_id": web.application.client_id,
        "web_secret": web_secret,
        "machine_id": machine.application.client_id,
        "machine_secret": machine_secret,
    }


def first_tokens(base: str, plan: dict) -> list[str]:
    """One real sign-in per account: authorize -> sign-in page -> code -> token (PKCE)."""
    import re

    import requests

    tokens = []
    for user_id in plan["user_ids"]:
        s = requests.Session()
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
        ).decode()
        q = urllib.parse.urlencode({
            "response_type": "code", "client_id": plan["web_id"], "redirect_uri": CALLBACK,
            "scope": "openid profile email akun", "state": "s", "nonce": "n",
            "code_challenge": challenge, "code_challenge_method": "S256",
        })  # fmt: skip
        page = s.get(f"{base}/o/authorize/?{q}", timeout=30)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        nxt = re.search(r'name="next" value="([^"]+)"', page.text).group(1)
        url = page.url
        data = {"csrfmiddlewaretoken": csrf, "user_id": user_id, "password": PASSWORD,
                "next": nxt.replace("&amp;", "&")}  # fmt: skip
        r = s.post(url, data=data, allow_redirects=False, timeout=30)
        while not r.headers["Location"].startswith(CALLBACK):
            r = s.get(urllib.parse.urljoin(base, r.headers["Location"]), allow_redirects=False)
        code = urllib.parse.parse_qs(urllib.parse.urlparse(r.headers["Location"]).query)["code"][0]
        tok = requests.post(
            f"{base}/o/token/",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CALLBACK,
                "code_verifier": verifier,
            },  # fmt: skip
            auth=(plan["web_id"], plan["web_secret"]),
            timeout=30,
        ).json()
        tokens.append(tok["refresh_token"])
    return tokens


def run_phase(args, server_pid, mode, plan_path) -> dict:
    cpu0 = cpu_seconds(server_pid)
    out = subprocess.run(
        [sys.executable, __file__, "--client", "--mode", mode, "--plan", str(plan_path),
         "--port", str(args.port), "--clients", str(args.clients),
         "--seconds", str(args.seconds), "--max-requests", str(args.max_requests)],
        capture_output=True, text=True, timeout=args.seconds + 120, check=True,
    )  # fmt: skip
    cpu = cpu_seconds(server_pid) - cpu0
    res = json.loads(out.stdout)
    lat = res["latencies"] or [0.0]
    return {
        "grants_ok": res["ok"],
        "errors": res["errors"],
        "statuses": res["statuses"],
        "wall_seconds": round(res["wall"], 2),
        "grants_per_wall_second": round(res["ok"] / res["wall"], 1),
        "server_cpu_seconds": round(cpu, 2),
        "grants_per_core": round(res["ok"] / cpu, 1) if cpu else None,
        "ms_cpu_per_grant": round(1000 * cpu / res["ok"], 2) if res["ok"] else None,
        "p50_ms": round(1000 * statistics.median(lat), 1),
        "p95_ms": round(1000 * pct(lat, 95), 1),
        "p99_ms": round(1000 * pct(lat, 99), 1),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--mode", choices=["refresh", "cc"], help=argparse.SUPPRESS)
    ap.add_argument("--plan", help=argparse.SUPPRESS)
    ap.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/akun_bench_sso")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--max-requests", type=int, default=20000)
    ap.add_argument("--port", type=int, default=18731)
    args = ap.parse_args()
    if args.client:
        return client_main(args)

    env = bench_env(args.database_url, "/tmp/akun-bench-sso")
    ensure_database(args.database_url)
    plan = prepare(args, env)
    log(f"{args.clients} accounts and two services ready in {args.database_url}")

    with serving(env, args.port, args.workers, "/o/jwks.json") as server:
        plan["refresh_tokens"] = first_tokens(f"http://127.0.0.1:{args.port}", plan)
        plan_path = Path(env["AKUN_VAR_DIR"]) / "bench-sso-plan.json"
        plan_path.write_text(json.dumps(plan))
        results = {
            "refresh": run_phase(args, server.pid, "refresh", plan_path),
            "client_credentials": run_phase(args, server.pid, "cc", plan_path),
        }
    summary = {"workers": args.workers, "clients": args.clients, "cpus": os.cpu_count(),
               **results}  # fmt: skip
    log(json.dumps(summary, indent=2))
    target = 2 * KEYCLOAK_PER_VCPU
    for name, r in results.items():
        verdict = "met" if (r["grants_per_core"] or 0) >= target and not r["errors"] else "NOT met"
        log(
            f"{name}: {r['grants_per_core']}/s per core ({r['grants_per_wall_second']}/s wall, "
            f"{r['ms_cpu_per_grant']} ms server CPU each); Keycloak {KEYCLOAK_PER_VCPU}/s per "
            f"vCPU; target >= {target}: {verdict}; p50/p95/p99 {r['p50_ms']}/{r['p95_ms']}/"
            f"{r['p99_ms']} ms"
        )


if __name__ == "__main__":
    main()
