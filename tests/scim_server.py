"""A real SCIM 2.0 server that no one here wrote: scim2-server (PyPI, its `scim2-server`
command: in-memory storage, WSGI, RFC 7643/7644), run as a local process on a port of its own.

Its ServiceProviderConfig is the one the server announces *and enforces*: scim2-server
answers 501 to a PATCH (or a /Bulk, a filter, a sort) that its configuration declares
unsupported, and ignores If-Match when ETags are off. So "a server that does not support
PATCH" is the real server started with `--service-provider-config` saying so, no proxy."""

import contextlib
import dataclasses
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time

import httpx2

from tests.ports import share

PORTS = share(range(8600, 8700))  # this helper's range, a slice per test worker

FULL = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
    "patch": {"supported": True},
    "bulk": {"supported": True, "maxOperations": 1000, "maxPayloadSize": 1048576},
    "filter": {"supported": True, "maxResults": 1000},
    "changePassword": {"supported": False},
    "sort": {"supported": True},
    "etag": {"supported": True},
}


def config(**changes) -> dict:
    """FULL with features switched: config(patch=False, bulk=False)."""
    out = json.loads(json.dumps(FULL))
    for name, on in changes.items():
        if isinstance(on, dict):
            out[name] = on
        else:
            out[name]["supported"] = on
            if name == "bulk" and not on:
                out[name].update(maxOperations=0, maxPayloadSize=0)
    return out


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS}")


@dataclasses.dataclass
class ScimServer:
    url: str
    token: str
    process: subprocess.Popen

    def http(self) -> httpx2.Client:
        return httpx2.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )

    def get(self, path: str, **params) -> dict:
        with self.http() as h:
            r = h.get(path, params=params)
            r.raise_for_status()
            return r.json()

    def users(self, filter: str | None = None) -> list[dict]:
        """Every user the server holds (paged), as JSON."""
        out, start = [], 1
        while True:
            params = {"startIndex": start, "count": 500}
            if filter:
                params["filter"] = filter
            page = self.get("/Users", **params)
            res = page.get("Resources", [])
            out += res
            start += len(res)
            if not res or start > page["totalResults"]:
                return out

    def groups(self) -> list[dict]:
        return self.get("/Groups", count=1000).get("Resources", [])

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start(args: list[str], token: str) -> tuple[subprocess.Popen, "ScimServer"]:
    """Start on a free port of the range; another process may take the port between the
    check and the bind (the server then exits): try the next one."""
    for _attempt in range(5):
        port = _free_port()
        proc = subprocess.Popen(
            [*args, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        server = ScimServer(f"http://127.0.0.1:{port}/v2", token, proc)
        deadline = time.monotonic() + 90  # a loaded machine imports slowly
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                server.get("/ServiceProviderConfig")
                return proc, server
            except httpx2.HTTPError:
                time.sleep(0.2)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            raise RuntimeError("scim2-server did not answer in 90 s")
    raise RuntimeError("scim2-server did not start")


@contextlib.contextmanager
def scim_server(service_provider_config: dict | None = None, token: str | None = None):
    token = token or secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory() as tmp:
        # "=" joins the value: a token that begins with "-" would read as an option
        args = [sys.executable, "-m", "scim2_server.testserver.cli", f"--bearer-token={token}"]
        if service_provider_config is not None:
            path = os.path.join(tmp, "spc.json")
            with open(path, "w") as f:
                json.dump(service_provider_config, f)
            args += ["--service-provider-config", path]
        proc, server = _start(args, token)
        try:
            yield server
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
