"""Issue 18: reads that tolerate lag from a streaming replica (AKUN_READ_REPLICA_URL).

A private PostgreSQL 15 primary (initdb in a temp dir, reachable on its Unix socket only) and
a streaming replica made from it with `pg_basebackup -R`, listening on 127.0.0.1:5439. A
private primary rather than the machine's shared one on :5432: a base backup copies the whole
cluster (every engineer's databases, tens of GB during a national run), and nothing in the
machine's own pg_hba.conf or server needs to change. `akun serve` runs on the primary with the
replica configured; the school search (/cek-akun/npsn, @read_from_replica) shows where it
reads: a row written on the primary appears only after replay, a write on the replica alias
fails (read-only), and with the replica down the page reads the primary.
"""

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

pytestmark = pytest.mark.cluster

PG_BIN = Path("/usr/lib/postgresql/15/bin")
REPLICA_PORT = 5439
WEB_PORT = 8920
REPO = Path(__file__).resolve().parents[2]
DB = "akun_replica"


def _as_postgres(*args, check=True, **kw):
    return subprocess.run(["runuser", "-u", "postgres", "--", *map(str, args)],
                          capture_output=True, text=True, check=check, **kw)  # fmt: skip


def _sql(sock_or_host: str, sql: str) -> str:
    r = _as_postgres(PG_BIN / "psql", "-h", sock_or_host, "-p", REPLICA_PORT, "-U", "postgres",
                     "-d", DB, "-Atc", sql)  # fmt: skip
    return r.stdout.strip()


@pytest.fixture(scope="module")
def pg():
    if os.geteuid() != 0:
        pytest.skip("needs root (runs PostgreSQL as the postgres user)")
    if not (PG_BIN / "initdb").exists():
        pytest.skip("PostgreSQL 15 server binaries missing (make pg)")
    tmp = Path(tempfile.mkdtemp(prefix="akun-h9-pg-"))
    user = pwd.getpwnam("postgres")
    os.chown(tmp, user.pw_uid, user.pw_gid)
    primary, replica = tmp / "primary", tmp / "replica"
    psock, rsock = tmp / "psock", tmp / "rsock"
    started = []
    try:
        for d in (psock, rsock):
            d.mkdir()
            os.chown(d, user.pw_uid, user.pw_gid)
        _as_postgres(PG_BIN / "initdb", "-D", primary, "-A", "trust", "-U", "postgres",
                     "--no-sync")  # fmt: skip
        with (primary / "postgresql.conf").open("a") as f:
            f.write(f"listen_addresses = ''\nport = {REPLICA_PORT}\n"
                    f"unix_socket_directories = '{psock}'\nfsync = off\n"
                    "shared_buffers = 32MB\nmax_connections = 40\n")  # fmt: skip
        _as_postgres(PG_BIN / "pg_ctl", "-D", primary, "-l", tmp / "primary.log", "-w", "start")
        started.append(primary)
        _as_postgres(PG_BIN / "createdb", "-h", psock, "-p", REPLICA_PORT, "-U", "postgres", DB)
        # The replica: a base backup of the primary, -R writes its primary_conninfo.
        _as_postgres(PG_BIN / "pg_basebackup", "-h", psock, "-p", REPLICA_PORT, "-U",
                     "postgres", "-D", replica, "-R", "-X", "stream", "--no-sync")  # fmt: skip
        with (replica / "postgresql.auto.conf").open("a") as f:
            f.write(f"listen_addresses = '127.0.0.1'\nunix_socket_directories = '{rsock}'\n")
        _as_postgres(PG_BIN / "pg_ctl", "-D", replica, "-l", tmp / "replica.log", "-w", "start")
        started.append(replica)
        assert _sql("127.0.0.1", "SELECT pg_is_in_recovery()") == "t"
        yield {"tmp": tmp, "psock": psock, "primary": primary, "replica": replica}
    finally:
        for d in reversed(started):
            _as_postgres(PG_BIN / "pg_ctl", "-D", d, "-m", "immediate", "stop", check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def _env(pg) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AKUN_", "DATABASE_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="akun.settings",
        DATABASE_URL=f"postgres://postgres@{quote(str(pg['psock']), safe='')}:{REPLICA_PORT}/{DB}",
        AKUN_READ_REPLICA_URL=f"postgres://postgres@127.0.0.1:{REPLICA_PORT}/{DB}",
        AKUN_READ_REPLICA_RETRY_SECONDS="1",
        AKUN_VAR_DIR=str(pg["tmp"] / "var"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _python(pg, code: str) -> subprocess.CompletedProcess:
    setup = "import django; django.setup()\n"
    return subprocess.run([sys.executable, "-c", setup + code], env=_env(pg), cwd=REPO,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def _add_school(pg, npsn: str, nama: str) -> None:
    r = _python(pg, f"from tests import builders\nbuilders.school({npsn!r}, nama={nama!r})")
    assert r.returncode == 0, r.stderr[-3000:]


@pytest.fixture(scope="module")
def server(pg):
    r = subprocess.run([sys.executable, "-m", "akun", "migrate", "-v", "0"], env=_env(pg),
                       cwd=REPO, capture_output=True, text=True, timeout=900)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    log = pg["tmp"] / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "akun", "serve", "--host", "127.0.0.1", "--port",
             str(WEB_PORT), "--workers", "1"],
            env=_env(pg), cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{WEB_PORT}"
    try:
        for _ in range(600):
            try:
                if requests.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            pytest.fail(log.read_text())
        yield base, log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def _search(base: str, q: str) -> str:
    r = requests.get(base + "/cek-akun/npsn", params={"q": q}, timeout=60)
    assert r.status_code == 200
    return r.text


def _until(predicate, timeout=60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def test_a_marked_page_reads_the_replica_and_falls_back_to_the_primary(pg, server):
    base, log = server
    _add_school(pg, "20177001", "SD NEGERI 1 REPLIKA")
    assert _until(lambda: "20177001" in _search(base, "REPLIKA"))  # replayed

    # Replay paused: a school added on the primary is not on the page, so the page reads the
    # replica; resumed, it appears.
    _sql("127.0.0.1", "SELECT pg_wal_replay_pause()")
    _add_school(pg, "20177002", "SD NEGERI 2 REPLIKA")
    assert _sql(str(pg["psock"]), "SELECT count(*) FROM roster_sekolah") == "2"
    time.sleep(1)
    page = _search(base, "REPLIKA")
    assert "20177001" in page and "20177002" not in page
    _sql("127.0.0.1", "SELECT pg_wal_replay_resume()")
    assert _until(lambda: "20177002" in _search(base, "REPLIKA"))

    # A write through the replica alias fails: the standby is read-only.
    r = _python(pg, "from django.db import connections\n"
                    "connections['replica'].cursor().execute("
                    "\"UPDATE roster_sekolah SET nama = 'X'\")")  # fmt: skip
    assert r.returncode != 0 and "read-only transaction" in r.stderr, r.stderr[-2000:]
    r = _python(pg, "from akun.roster.api import Sekolah\nfrom akun.core.replica import "
                    "reading_from_replica\nwith reading_from_replica():\n"
                    "    s = Sekolah.objects.get(npsn='20177001')\n"
                    "    print(s._state.db)\n    s.nama = 'SD NEGERI 1 REPLIKA BARU'\n"
                    "    s.save()\n    print(s._state.db)")  # fmt: skip
    assert r.returncode == 0 and r.stdout.split() == ["replica", "default"], r.stderr[-2000:]
    assert _until(lambda: "REPLIKA BARU" in _search(base, "REPLIKA"))  # written on the primary

    # The replica stops: the page answers from the primary (and says so in the log).
    _as_postgres(PG_BIN / "pg_ctl", "-D", pg["replica"], "-m", "fast", "stop")
    _add_school(pg, "20177003", "SD NEGERI 3 REPLIKA")
    page = _search(base, "REPLIKA")
    assert "20177003" in page and "20177001" in page
    assert "read replica unavailable" in log.read_text()


def _counted(base: str) -> int | None:
    r = requests.get(base + "/statistik/statistik.json", timeout=60)
    assert r.status_code == 200
    return r.json()["national"]["peserta_didik"]


def _roster_users(base: str, token: str) -> int:
    r = requests.get(base + "/ims/oneroster/rostering/v1p2/users", params={"limit": 1000},
                     headers={"Authorization": f"Bearer {token}"}, timeout=60)  # fmt: skip
    assert r.status_code == 200, r.text[:500]
    return len(r.json()["users"])


def _token(base: str, cid: str, secret: str) -> str:
    from tests.oneroster_support import CORE, ROSTER

    grant = {"grant_type": "client_credentials", "scope": f"{CORE} {ROSTER}"}
    r = requests.post(base + "/o/token/", auth=(cid, secret), data=grant, timeout=60)
    assert r.status_code == 200, r.text[:500]
    return r.json()["access_token"]


def _students(pg, npsn: str, n: int, first: int) -> None:
    """A school of province 32 with n students; the counts and the projection made again
    (as after a roster pass), on the primary."""
    r = _python(pg, "from tests import builders\nfrom akun.statistik import api\n"
                    "from akun.oneroster import project\n"
                    f"s = builders.school({npsn!r}, kode_wilayah='320412')\n"
                    f"for i in range({first}, {first + n}):\n"
                    "    builders.student(s, f'Murid Replika {i}', f'muridreplika{i}', "
                    "nisn=f'07{i:08d}')\n"
                    "api.rebuild()\nproject.refresh()")  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]


def test_statistics_and_oneroster_read_the_replica(pg, server):
    """The public statistics and the OneRoster REST API read the replica (lag tolerated);
    a platform's token is checked on the primary, so one issued a moment ago works."""
    base, log = server
    # The test above stopped the replica.
    replica_log = pg["tmp"] / "replica.log"
    _as_postgres(PG_BIN / "pg_ctl", "-D", pg["replica"], "-l", replica_log, "-w", "start",
                 check=False)  # fmt: skip
    _students(pg, "20177101", 12, 0)
    r = _python(pg, "from tests.oneroster_support import platform\n"
                    "print(*platform(['32'], name='LMS Replika'))")  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    cid, secret = r.stdout.split()[-2:]
    token = _token(base, cid, secret)
    assert _until(lambda: _counted(base) == 12 and _roster_users(base, token) == 12)

    _sql("127.0.0.1", "SELECT pg_wal_replay_pause()")
    _students(pg, "20177102", 12, 100)
    token = _token(base, cid, secret)  # issued now: on the primary only
    assert _sql(str(pg["psock"]), "SELECT count(*) FROM accounts_account") == "24"
    time.sleep(1)
    assert _counted(base) == 12 and _roster_users(base, token) == 12  # the replica's
    _sql("127.0.0.1", "SELECT pg_wal_replay_resume()")
    assert _until(lambda: _counted(base) == 24 and _roster_users(base, token) == 24)
