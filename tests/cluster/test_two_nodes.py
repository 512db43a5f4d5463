"""Issue 18, more than one node: two Akun nodes as separate hosts (network namespaces, own
addresses) behind Debian's haproxy (roundrobin, health checks on /readyz), sharing one
PostgreSQL and one Redis (tests/cluster/harness.py). `make test-cluster` runs it (root,
PostgreSQL); haproxy stamps each answer with the node that gave it (X-Akun-Node)."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pyotp
import pytest
import redis
import requests
from authlib.common.encoding import urlsafe_b64decode
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection

from akun.accounts.api import do_suspend_account
from akun.accounts.models import AccountEvent
from akun.audit.models import AuditEvent
from akun.identity.models import Throttle
from akun.portal import totp
from akun.sso import actions
from akun.sso.keys import ensure_key
from akun.sso.models import SigningKey
from tests import builders
from tests.cluster import harness
from tests.cluster.tasks import mark
from tests.sso_support import CALLBACK, Browser, RelyingParty, form_fields

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker, tmp_path_factory):
    if connection.vendor != "postgresql":
        pytest.skip("two nodes share one PostgreSQL: run with DATABASE_URL=postgres://...")
    why = harness.netns_refused()
    if why:
        pytest.skip(why)
    redis.Redis(host="127.0.0.1", port=6379, db=harness.REDIS_DB).flushdb()  # h9's own db
    c = harness.Cluster(tmp_path_factory.mktemp("cluster"), connection.settings_dict["NAME"])
    try:
        c.start()
        yield c
    finally:
        c.stop()


class Seen:
    """Which nodes answered a requests.Session."""

    def __init__(self, session: requests.Session):
        self.nodes = []
        session.hooks["response"].append(self._note)

    def _note(self, r, *args, **kwargs):
        self.nodes.append(r.headers.get("X-Akun-Node"))

    def both(self) -> bool:
        return {"a", "b"} <= set(self.nodes)


def _post_form(s: requests.Session, base: str, path: str, fields: dict):
    page = s.get(base + path, timeout=60)
    data = {**form_fields(page.text), **fields}
    return s.post(page.url, data=data, headers={"Referer": page.url}, timeout=60)


def _posts(s: requests.Session, base: str, path: str, many: list[dict]):
    """One GET of the form, then its POSTs one after another: under roundrobin they
    alternate between the nodes (a GET before each would put every POST on the same one)."""
    page = s.get(base + path, timeout=60)
    hidden = form_fields(page.text)
    for fields in many:
        yield s.post(page.url, data={**hidden, **fields}, headers={"Referer": page.url},
                     timeout=60)  # fmt: skip


def test_a_session_stays_signed_in_on_both_nodes(cluster):
    school = builders.school()
    student = builders.student(school, state="active", password=builders.PASSWORD)
    s = requests.Session()
    seen = Seen(s)
    r = _post_form(s, cluster.lb, "/masuk", {"user_id": student.user_id,
                                               "password": builders.PASSWORD})  # fmt: skip
    assert r.status_code == 200 and "/akun-saya" in r.url, r.url
    for _ in range(6):
        r = s.get(cluster.lb + "/akun-saya", allow_redirects=False, timeout=60)
        assert r.status_code == 200, (r.status_code, r.headers.get("Location"))
        assert student.user_id in r.text
    assert seen.both(), seen.nodes  # roundrobin: the session was read on both nodes
    assert Counter(seen.nodes[-6:]) == {"a": 3, "b": 3}


def test_sign_in_throttle_is_shared_between_nodes(cluster):
    student = builders.student(builders.school(), state="active", password=builders.PASSWORD)
    s = requests.Session()
    seen = Seen(s)
    counted = Counter()  # wrong passwords each node checked (not refused by the throttle)
    wrong = {"user_id": student.user_id, "password": "salah-salah"}
    for r in _posts(s, cluster.lb, "/masuk", [wrong] * 12):
        assert r.status_code == 200
        if "Terlalu banyak percobaan gagal" in r.text:
            break
        counted[seen.nodes[-1]] += 1
    else:
        pytest.fail("never throttled")
    # Three free failures in all (ACCOUNT policy), not three per node; then the wait.
    assert sum(counted.values()) >= 3 and set(counted) == {"a", "b"}, counted
    store = redis.Redis(host="127.0.0.1", port=6379, db=harness.REDIS_DB)
    failures = int(store.hget(f"akun:throttle:acct:{student.user_id}", "f"))
    assert failures == sum(counted.values())  # one counter, in the shared Redis


def test_second_factor_failures_are_counted_across_nodes(cluster):
    school = builders.school("20100001", kode_wilayah="320412", nama="SD NEGERI 1 CIBODAS")
    op = builders.operator(school)
    s = requests.Session()
    r = _post_form(s, cluster.lb, "/masuk?next=/operator/",
                   {"user_id": op.user_id, "password": builders.PASSWORD})  # fmt: skip
    assert "/operator/verifikasi" in r.url, r.url
    code = pyotp.TOTP(totp.secret_of(totp.device_of(op))).now()
    r = _post_form(s, cluster.lb, r.url.removeprefix(cluster.lb), {"code": code})
    assert r.status_code == 200
    # A new sign-in, then wrong codes: at most four guesses at once (portal's policy) in
    # all, although they alternate between the nodes.
    s = requests.Session()
    seen = Seen(s)
    r = _post_form(s, cluster.lb, "/masuk?next=/operator/",
                   {"user_id": op.user_id, "password": builders.PASSWORD})  # fmt: skip
    secret = totp.secret_of(totp.device_of(op))
    now = time.time()
    right = {pyotp.TOTP(secret).at(now + d * 30) for d in (-1, 0, 1, 2)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in right)
    started = time.monotonic()
    for _ in _posts(s, cluster.lb, "/operator/verifikasi", [{"code": wrong}] * 8):
        pass
    took = time.monotonic() - started
    assert seen.both()
    guesses = AuditEvent.objects.filter(
        action="portal.second_factor_failed", object_id=op.user_id
    ).count()
    # One count in the database for both nodes (the throttle row), not four per node.
    [counted] = Throttle.objects.filter(key__startswith="mfa:").values_list("failures", flat=True)
    assert counted == guesses < 8, (counted, guesses)
    if took < 2:  # the first delay (2 s) had not passed: exactly the four free guesses
        assert guesses == 4, guesses
    last = time.monotonic()
    _post_form(s, cluster.lb, "/operator/verifikasi", {"code": pyotp.TOTP(secret).now()})
    if time.monotonic() - last < 2:  # inside the wait: even the right code waits
        assert "/verifikasi" in s.get(cluster.lb + "/operator/", timeout=60).url


@pytest.fixture
def web_service():
    svc, secret = actions.do_add_oidc_service(
        "Kelas Maya", kind="web", redirect_uris=[CALLBACK], scopes="openid profile email akun",
        actor="test",
    )  # fmt: skip
    return svc, secret


def _kid(token: dict) -> str:
    return json.loads(urlsafe_b64decode(token["id_token"].split(".")[0].encode()))["kid"]


def test_consent_given_on_one_node_is_honoured_on_the_other(cluster, web_service):
    svc, secret = web_service
    student = builders.student(builders.school(), state="active", password=builders.PASSWORD)
    rp = RelyingParty(cluster.lb, svc.application.client_id, secret)
    browser = Browser(cluster.lb)
    seen = Seen(browser.s)
    kind, page = browser.go(rp.authorization_url())
    kind, page = browser.sign_in(page, student.user_id)
    assert kind == "page" and 'id="consent"' in page.text
    consent_node = page.headers["X-Akun-Node"]
    kind, url = browser.consent(page)
    assert kind == "callback"
    assert rp.verify_id_token(rp.finish(url))["sub"] == student.user_id
    # Two more authorisations: roundrobin puts one on each node; neither asks again.
    nodes = set()
    for _ in range(2):
        again = RelyingParty(cluster.lb, svc.application.client_id, secret)
        first = len(seen.nodes)
        kind, url = browser.go(again.authorization_url())
        assert kind == "callback", "remembered consent should not ask again"
        nodes.add(seen.nodes[first])
        assert again.finish(url)["id_token"]
    assert nodes == {"a", "b"} and consent_node in nodes


def _wait_for_jwks(cluster, kids: set[str]) -> None:
    """Until every node's JWKS lists `kids` (AKUN_SSO_KEY_RECHECK_SECONDS=1 on the nodes)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        seen = [
            {k["kid"] for k in requests.get(n.url + "/o/jwks.json", timeout=30).json()["keys"]}
            for n in cluster.nodes
        ]
        if all(kids <= k for k in seen):
            return
        time.sleep(0.5)
    pytest.fail(f"JWKS: {seen}, waiting for {kids}")


def test_signing_key_rotation_on_one_node_reaches_the_other(cluster, web_service):
    svc, secret = web_service
    student = builders.student(builders.school(), state="active", password=builders.PASSWORD)
    a, b = cluster.nodes
    # The first key, and both nodes publishing it: a node keeps the keys it read for
    # AKUN_SSO_KEY_RECHECK_SECONDS, so one that served the previous test may still hold a
    # key that test's database flush removed (no key is ever deleted outside tests).
    first = ensure_key().kid
    _wait_for_jwks(cluster, {first})
    # Each node signs (and has cached) the current key.
    before = {}
    for node in (a, b):
        rp = RelyingParty(node.url, svc.application.client_id, secret)
        browser = Browser(node.url)
        kind, page = browser.go(rp.authorization_url())
        kind, page = browser.sign_in(page, student.user_id)
        if kind == "page":
            kind, page = browser.consent(page)
        before[node.name] = (rp, rp.finish(page), browser)
    old_kid = _kid(before["a"][1])
    assert _kid(before["b"][1]) == old_kid

    r = a.run(cluster.env(a), "-m", "akun", "sso", "rotate-key")
    assert r.returncode == 0, r.stdout + r.stderr
    new_kid = SigningKey.objects.filter(retired_at__isnull=True).get().kid
    assert new_kid != old_kid

    _wait_for_jwks(cluster, {old_kid, new_kid})
    # Node b, never restarted, now signs with the new key; tokens from either node verify
    # against either node's JWKS.
    for node in (b, a):
        rp, old, browser = before[node.name]
        again = RelyingParty(node.url, svc.application.client_id, secret)
        kind, url = browser.go(again.authorization_url())
        assert kind == "callback"
        new = again.finish(url)
        assert _kid(new) == new_kid, node.name
        for verifier in (a, b):
            check = RelyingParty(verifier.url, svc.application.client_id, secret)
            check.nonce = again.nonce
            check.meta["issuer"] = again.meta["issuer"]
            assert check.verify_id_token(new)["sub"] == student.user_id
            check.nonce = rp.nonce
            check.meta["issuer"] = rp.meta["issuer"]
            assert check.verify_id_token(old)["sub"] == student.user_id


def test_two_workers_share_the_queue_and_the_change_stream(cluster, tmp_path):
    school = builders.school()
    students = [builders.student(school, f"Siswa {i}", f"siswa{i}", nisn=f"00{i:08d}")
                for i in range(12)]  # fmt: skip
    done = tmp_path / "tasks.txt"
    handled = tmp_path / "events.txt"
    done.touch()
    handled.touch()
    n_tasks = 60
    for i in range(n_tasks):
        mark.enqueue(str(done), i)
    for node in cluster.nodes:
        env = cluster.env(node, AKUN_NODE=node.name)
        node.spawn(env, "-m", "tests.hooks", "cluster-consumer", str(handled), "--",
                   "worker", "--interval", "0.2", log="worker.log")  # fmt: skip
    # Events written while both workers run.
    for st in students:
        do_suspend_account(st, actor="test", reason="test")
    deadline = time.monotonic() + 240
    events = set(AccountEvent.objects.values_list("id", flat=True))
    while time.monotonic() < deadline:
        tasks = done.read_text().split("\n")[:-1]
        lines = handled.read_text().split("\n")[:-1]
        if len(tasks) >= n_tasks and {int(x.split()[0]) for x in lines} >= events:
            break
        time.sleep(0.5)
    time.sleep(2)  # a double run would show up by now
    for node in cluster.nodes:
        for proc in list(node.procs[1:]):
            proc.terminate()
    tasks = [line.split() for line in done.read_text().splitlines()]
    ran = Counter(int(t[0]) for t in tasks)
    assert sorted(ran) == list(range(n_tasks)), cluster.log(cluster.nodes[0], "worker.log")
    assert set(ran.values()) == {1}, "a task ran twice"
    assert {t[1] for t in tasks} == {"a", "b"}, "both nodes' workers took tasks"
    lines = [line.split() for line in handled.read_text().splitlines()]
    ids = Counter(int(x[0]) for x in lines)
    assert set(ids) == events and set(ids.values()) == {1}, "an event handled twice or never"
    assert {x[1] for x in lines} <= {"a", "b"}


def test_two_provisioning_workers_on_two_nodes_send_each_account_once(cluster, tmp_path):
    """`akun provision run` on both nodes at once, sharing one backlog, one rate budget
    (Redis) and the Google stand-in on the host end of the test's bridge: every account
    created at Google exactly once, each node sending a share."""
    from akun.provisioning import api as provisioning
    from akun.provisioning.models import Provisioned
    from tests.google_standin import start_thread
    from tests.provisioning_support import target_config

    standin = start_thread(host=harness.HOST_IP)  # reachable from both namespaces
    try:
        school = builders.school("20188001")
        n = 120
        for i in range(n):
            builders.student(school, f"Murid Awan {i}", f"muridawan{i}", nisn=f"05{i:08d}")
        provisioning.do_add_target(
            "google", "google", target_config(standin, tmp_path, quota_per_minute=60_000),
            actor="test",
        )  # fmt: skip
        assert Provisioned.objects.filter(state="pending").count() == n
        procs = []
        for node in cluster.nodes:
            # Small batches, so that the two workers take turns at the backlog.
            env = cluster.env(node, AKUN_NODE=node.name, AKUN_PROVISION_BATCH_CALLS="10")
            procs.append(node.spawn(env, "-m", "akun", "provision", "run", "--target",
                                    "google", "--once", log="provision.log"))  # fmt: skip
        for p in procs:
            p.wait(timeout=300)
        logs = {node.name: cluster.log(node, "provision.log") for node in cluster.nodes}
        assert [p.returncode for p in procs] == [0, 0], logs
        stats = standin.server.stats_dict()
        inserts = stats["by_method"].get("directory.users.insert", 0)
        assert stats["users"] == n and inserts == n, (stats["by_method"], logs)
        assert Provisioned.objects.filter(state="synced").count() == n
        sent = {name: int(log.rsplit("google: ", 1)[1].split(" synced")[0].replace(",", ""))
                for name, log in logs.items()}  # fmt: skip
        assert sum(sent.values()) == n and all(sent.values()), sent  # both nodes sent
    finally:
        standin.stop()


def test_two_events_run_loops_on_two_nodes_handle_each_event_once(cluster, tmp_path):
    """`akun events run` started again and again on both nodes at once while events are
    written: the cursor row lock lets one runner at a time move each consumer."""
    school = builders.school()
    students = [builders.student(school, f"Anak {i}", f"anak{i}", nisn=f"02{i:08d}")
                for i in range(10)]  # fmt: skip
    handled = tmp_path / "events.txt"
    handled.touch()
    stop = tmp_path / "stop"
    loop = (
        f'while [ ! -e {stop} ]; do "$0" -m tests.hooks cluster-consumer {handled} -- '
        "events run || exit 1; done"
    )
    procs = []
    for node in cluster.nodes:
        env = cluster.env(node, AKUN_NODE=node.name)
        procs.append(subprocess.Popen(
            ["ip", "netns", "exec", node.netns, "bash", "-c", loop, sys.executable],
            env=env, cwd=harness.REPO, start_new_session=True,
            stdout=(node.tmp / "events.log").open("ab"), stderr=subprocess.STDOUT,
        ))  # fmt: skip
    try:
        for st in students:
            do_suspend_account(st, actor="test", reason="test")
            time.sleep(0.3)
        events = set(AccountEvent.objects.values_list("id", flat=True))
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            lines = handled.read_text().split("\n")[:-1]
            if {int(x.split()[0]) for x in lines} >= events:
                break
            time.sleep(0.5)
        stop.touch()
        for p in procs:
            p.wait(timeout=120)
    finally:
        stop.touch()
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    assert [p.returncode for p in procs] == [0, 0], cluster.log(cluster.nodes[0], "events.log")
    lines = [line.split() for line in handled.read_text().splitlines()]
    ids = Counter(int(x[0]) for x in lines)
    assert set(ids) == events and set(ids.values()) == {1}, "an event handled twice or never"
    runs = {n.name: cluster.log(n, "events.log").count("cluster-test:") for n in cluster.nodes}
    assert all(runs.values()), runs  # both nodes ran the consumer


def test_killing_a_node_under_load_loses_no_acknowledged_write(cluster):
    school = builders.school()
    people = [builders.student(school, f"Murid {i}", f"murid{i}", nisn=f"01{i:08d}",
                               state="active", password=builders.PASSWORD)
              for i in range(4)]  # fmt: skip
    acked, failed = [], []
    stop = threading.Event()

    def client(account):
        while not stop.is_set():
            s = requests.Session()
            try:
                page = s.get(cluster.lb + "/masuk", timeout=60)
                data = {**form_fields(page.text), "user_id": account.user_id,
                        "password": builders.PASSWORD}  # fmt: skip
                r = s.post(page.url, data=data, allow_redirects=False, timeout=60,
                           headers={"Referer": page.url})  # fmt: skip
            except requests.RequestException as e:
                failed.append((time.monotonic(), repr(e)))
                continue
            key = r.cookies.get(settings.SESSION_COOKIE_NAME)
            if r.status_code == 302 and key:  # acknowledged: a session was handed out
                acked.append((time.monotonic(), key, account.pk, r.headers["X-Akun-Node"]))
            else:
                failed.append((time.monotonic(), r.status_code))

    threads = [threading.Thread(target=client, args=(p,)) for p in people]
    for t in threads:
        t.start()
    try:
        time.sleep(6)
        killed_at = time.monotonic()
        cluster.nodes[0].kill()
        time.sleep(12)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)
    before = [a for a in acked if a[0] < killed_at]
    after = [a for a in acked if a[0] > killed_at + 3]
    assert {a[3] for a in before} == {"a", "b"}, "the load was on both nodes"
    assert len(after) >= 4 and {a[3] for a in after} == {"b"}, "the load went on through b"
    late_failures = [f for f in failed if f[0] > killed_at + 3]
    assert not late_failures, late_failures  # haproxy took a out
    # Every acknowledged sign-in's session is in the database.
    keys = {a[1] for a in acked}
    stored = dict(
        Session.objects.filter(session_key__in=keys).values_list("session_key", "session_data")
    )
    assert set(stored) == keys, f"{len(keys - set(stored))} acknowledged sessions lost"
    for _, key, pk, _ in acked[:20]:
        assert str(Session.objects.get(session_key=key).get_decoded()["_auth_user_id"]) == str(pk)
