"""Operator portal benchmark: the credential-slip PDF of a school of 1,000 students.

    .venv/bin/python bench/bench_portal.py [--students 1000] [--runs 5]
        [--database-url postgres://postgres@127.0.0.1:5432/akun_bench_portal]

Builds one school with N issued student accounts (initial passwords encrypted as issuance
does), then times the whole download as the operator gets it: the HTTP request through
Django's full middleware stack (session, second-factor check, scope check), the query,
decrypting N initial passwords, rendering N slips and the audit row. Also the phases alone.
Target (issue 5): under 5 s for 1,000 students.
"""

import argparse
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--database-url", default="")
    args = ap.parse_args()
    var = ROOT / "bench" / "out" / "var-portal"
    var.mkdir(parents=True, exist_ok=True)
    os.environ["AKUN_VAR_DIR"] = str(var)
    db_file = var / "bench.sqlite3"
    if not args.database_url and db_file.exists():
        db_file.unlink()
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{db_file}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "akun.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from akun.accounts import crypto
    from akun.accounts.models import Account
    from akun.core import clock
    from akun.portal import actions
    from akun.portal.middleware import MFA
    from akun.roster.models import PesertaDidik, Ptk, Sekolah

    call_command("migrate", verbosity=0)
    npsn = "69" + uuid.uuid4().hex[:6].translate(str.maketrans("abcdef", "123456"))
    run = {"first_run_id": 1, "changed_run_id": 1}
    s = Sekolah.objects.create(
        sekolah_id=uuid.uuid4(), npsn=npsn, nama="SD NEGERI BENCH", bentuk_pendidikan="SD",
        status_sekolah="Negeri", kode_wilayah="320412", kabupaten_kota="Kab. Bandung",
        provinsi="Prov. Jawa Barat", **run,
    )  # fmt: skip
    now = clock.now()
    people, accounts = [], []
    passwords = crypto.generate_initial_passwords(args.students)
    tag = uuid.uuid4().hex[:6]
    for i in range(args.students):
        pid = uuid.uuid4()
        people.append(
            PesertaDidik(
                peserta_didik_id=pid, nisn=f"{i:010d}", nama=f"Peserta Didik Nomor {i}",
                jenis_kelamin="P", tanggal_lahir="2013-01-01", sekolah=s,
                tingkat_pendidikan=5 + i % 2, program="reguler",
                rombel=f"{5 + i % 2}{'ABCD'[i % 4]}",
                **run,
            )
        )  # fmt: skip
        local = f"benchportal{tag}{i}"
        accounts.append(
            Account(
                local_part=local, subdomain="sd", user_id=f"{local}@sd.belajar.test",
                person_type="peserta_didik", person_id=pid, jenjang="SD", role="peserta_didik",
                sekolah=s, nama=f"Peserta Didik Nomor {i}", state="issued", issued_at=now,
                initial_password_enc=crypto.encrypt(passwords[i]), password="!",
            )
        )  # fmt: skip
    PesertaDidik.objects.bulk_create(people, batch_size=500)
    Account.objects.bulk_create(accounts, batch_size=500)
    op_pid = uuid.uuid4()
    Ptk.objects.create(
        ptk_id=op_pid, sekolah=s, nama="Operator Bench", jenis_kelamin="L",
        tanggal_lahir="1980-01-01", jenis_ptk="Guru Kelas", ptk_induk=True,
        operator_sekolah=True, **run,
    )  # fmt: skip
    op = Account.objects.create(
        local_part=f"opbench{tag}", subdomain="admin.sd", user_id=f"opbench{tag}@admin.sd.x",
        person_type="ptk", person_id=op_pid, jenjang="SD", role="tenaga_kependidikan",
        sekolah=s, nama="Operator Bench", state="active", issued_at=now, password="!",
    )  # fmt: skip

    client = Client()
    client.force_login(op)
    session = client.session
    session[MFA] = {"account": op.pk, "at": time.time(), "last": time.time()}
    session.save()

    url = f"/operator/sekolah/{npsn}/unduh/slip.pdf?role=peserta_didik"
    t0 = time.perf_counter()
    assert client.get(url).status_code == 200  # cold: first request of the process
    cold = time.perf_counter() - t0
    totals, sizes = [], []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        r = client.get(url)
        totals.append(time.perf_counter() - t0)
        assert r.status_code == 200, r.status_code
        sizes.append(len(r.content))
    t0 = time.perf_counter()
    slips = actions.slip_accounts([s.pk], role="peserta_didik")
    t_query = time.perf_counter() - t0
    from akun.portal.slips import render_slips

    t0 = time.perf_counter()
    render_slips(slips, school=s.nama, signin_url="http://testserver/masuk")
    t_render = time.perf_counter() - t0
    assert len(slips) == args.students

    engine = os.environ["DATABASE_URL"].split(":")[0]
    print(f"date: {time.strftime('%Y-%m-%d')}; python {platform.python_version()}; "
          f"{os.cpu_count()} cores; database {engine}")  # fmt: skip
    print(f"students: {args.students}; pages: {(args.students + 9) // 10}; "
          f"PDF size: {sizes[-1] / 1024:.0f} KiB")  # fmt: skip
    print(f"HTTP download, {args.runs} runs: median {statistics.median(totals):.2f} s, "
          f"max {max(totals):.2f} s (target < 5 s)")  # fmt: skip
    print(f"first request of the process (imports, catalogs, fonts): {cold:.2f} s")
    print(f"phases: query + decrypt {t_query:.2f} s, render {t_render:.2f} s")
    ok = max(totals) < 5.0
    print("target met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
