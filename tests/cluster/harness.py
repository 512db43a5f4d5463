"""Two Akun nodes as separate hosts on this machine, behind Debian's haproxy.

Each node is a network namespace (akun-h9-a, akun-h9-b) with its own address on a bridge
(10.209.0.0/24; the host end is 10.209.0.1). haproxy on the host end is the load balancer
(roundrobin, health checks on /readyz) and also the nodes' only way to the shared PostgreSQL
and Redis, which listen on 127.0.0.1: TCP forwarders on 10.209.0.1. Every packet of the test
goes to an address made here; everything is removed again, also when the test fails.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

PREFIX = "akun-h9"  # namespaces
BRIDGE = "akh9br"  # interface names: at most 15 characters
HOST_IP = "10.209.0.1"
LB_PORT = 8900
PG_PORT = 8910  # forwarders on HOST_IP to 127.0.0.1
REDIS_PORT = 8911
REDIS_DB = 9
STATS_PORT = 8912
HAPROXY = "/usr/sbin/haproxy"
REPO = Path(__file__).resolve().parents[2]


def _ip(*args: str, check=True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def netns_refused() -> str:
    """Why network namespaces cannot be made here ('' when they can)."""
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add)"
    if shutil.which("ip") is None:
        return "iproute2 (ip) is missing"
    probe = f"{PREFIX}-probe"
    r = _ip("netns", "add", probe, check=False)
    if r.returncode != 0:
        return f"the kernel refuses network namespaces: {r.stderr.strip()}"
    _ip("netns", "del", probe, check=False)
    return ""


@dataclass
class Node:
    name: str  # a, b
    ip: str
    port: int
    tmp: Path
    procs: list = field(default_factory=list)

    @property
    def netns(self) -> str:
        return f"{PREFIX}-{self.name}"

    @property
    def url(self) -> str:
        return f"http://{self.ip}:{self.port}"

    def spawn(self, env: dict, *args: str, log: str) -> subprocess.Popen:
        """A process of this node: run inside its namespace, in its own process group."""
        out = (self.tmp / log).open("ab")
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.netns, sys.executable, *args],
            env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.procs.append(proc)
        return proc

    def run(self, env: dict, *args: str, timeout=300) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["ip", "netns", "exec", self.netns, sys.executable, *args],
            env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip

    def kill(self) -> None:
        """SIGKILL every process this node runs (as a power cut would)."""
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        for proc in self.procs:
            proc.wait(timeout=30)
        self.procs.clear()

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        self.procs.clear()


HAPROXY_CFG = """\
global
    maxconn 512
defaults
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    timeout check 2s
frontend web
    mode http
    bind {host}:{lb}
    option forwardfor
    default_backend nodes
backend nodes
    mode http
    balance roundrobin
    # A connection refused by a dead node goes to the other one; a request a node took and
    # then died with is not replayed (it may have committed): the client sees the error.
    option redispatch
    retries 3
    retry-on conn-failure
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 400ms fall 2 rise 2
    http-response set-header X-Akun-Node %s
{servers}
listen postgres
    mode tcp
    bind {host}:{pg}
    server pg 127.0.0.1:5432
listen redis
    mode tcp
    bind {host}:{redis}
    server redis 127.0.0.1:6379
"""


class Cluster:
    def __init__(self, tmp: Path, database: str):
        self.tmp = tmp
        self.database = database
        self.nodes = [
            Node("a", "10.209.0.2", 8901, tmp / "a"),
            Node("b", "10.209.0.3", 8902, tmp / "b"),
        ]
        self.haproxy = None
        self.lb = f"http://{HOST_IP}:{LB_PORT}"

    # --- network --------------------------------------------------------------------------
    def _network_up(self) -> None:
        _ip("link", "add", BRIDGE, "type", "bridge")
        _ip("addr", "add", f"{HOST_IP}/24", "dev", BRIDGE)
        _ip("link", "set", BRIDGE, "up")
        for n in self.nodes:
            host_end, node_end = f"akh9{n.name}-h", f"akh9{n.name}-n"
            _ip("netns", "add", n.netns)
            _ip("link", "add", host_end, "type", "veth", "peer", "name", node_end)
            _ip("link", "set", host_end, "master", BRIDGE, "up")
            _ip("link", "set", node_end, "netns", n.netns)
            _ip("-n", n.netns, "addr", "add", f"{n.ip}/24", "dev", node_end)
            _ip("-n", n.netns, "link", "set", node_end, "up")
            _ip("-n", n.netns, "link", "set", "lo", "up")

    @staticmethod
    def network_down() -> None:
        """Removes what _network_up made (also left-overs of a killed run)."""
        for name in ("a", "b"):
            _ip("netns", "del", f"{PREFIX}-{name}", check=False)
            _ip("link", "del", f"akh9{name}-h", check=False)
        _ip("link", "del", BRIDGE, check=False)

    # --- processes ------------------------------------------------------------------------
    def env(self, node: Node, **extra) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AKUN_", "DATABASE_URL"))}
        env.update(
            DJANGO_SETTINGS_MODULE="akun.settings",
            DATABASE_URL=f"postgres://postgres@{HOST_IP}:{PG_PORT}/{self.database}",
            AKUN_REDIS_URL=f"redis://{HOST_IP}:{REDIS_PORT}/{REDIS_DB}",
            AKUN_VAR_DIR=str(node.tmp),
            AKUN_TRUSTED_PROXY_HEADER="X-Forwarded-For",
            AKUN_SSO_KEY_RECHECK_SECONDS="1",
            AKUN_DB_CONN_MAX_AGE="0",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def start_haproxy(self) -> None:
        servers = "\n".join(
            f"    server {n.name} {n.ip}:{n.port} check" for n in self.nodes
        )  # fmt: skip
        cfg = self.tmp / "haproxy.cfg"
        cfg.write_text(
            HAPROXY_CFG.format(
                host=HOST_IP, lb=LB_PORT, pg=PG_PORT, redis=REDIS_PORT, servers=servers
            )
        )
        check = subprocess.run([HAPROXY, "-c", "-f", str(cfg)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        out = (self.tmp / "haproxy.log").open("ab")
        self.haproxy = subprocess.Popen(
            [HAPROXY, "-db", "-f", str(cfg)], stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def start_server(self, node: Node) -> None:
        node.spawn(
            self.env(node), "-m", "akun", "serve", "--host", node.ip, "--port",
            str(node.port), "--workers", "2", "--access-log", log="serve.log",
        )  # fmt: skip

    def wait_ready(self, node: Node, timeout=180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(node.url + "/readyz", timeout=3).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise AssertionError(f"node {node.name} not ready:\n" + self.log(node, "serve.log"))

    def wait_lb(self, timeout=30) -> None:
        """Until haproxy has seen both nodes healthy (each answers through the LB)."""
        deadline = time.monotonic() + timeout
        seen = set()
        while time.monotonic() < deadline and seen != {"a", "b"}:
            try:
                seen.add(requests.get(self.lb + "/healthz", timeout=3).headers["X-Akun-Node"])
            except (requests.RequestException, KeyError):
                time.sleep(0.2)
        assert seen == {"a", "b"}, seen

    def log(self, node: Node, name: str) -> str:
        path = node.tmp / name
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def start(self) -> "Cluster":
        self.network_down()
        for n in self.nodes:
            n.tmp.mkdir(parents=True, exist_ok=True)
        self._network_up()
        self.start_haproxy()
        for n in self.nodes:
            self.start_server(n)
        for n in self.nodes:
            self.wait_ready(n)
        self.wait_lb()
        return self

    def stop(self) -> None:
        try:
            for n in self.nodes:
                n.stop()
            if self.haproxy is not None and self.haproxy.poll() is None:
                os.killpg(self.haproxy.pid, signal.SIGTERM)
                self.haproxy.wait(timeout=30)
        finally:
            self.network_down()
