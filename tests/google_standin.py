"""The Google stand-in (standins/google) for tests and benchmarks: a service account with a
fresh RSA key, the server in a thread or a subprocess on a free port, and the product's own
client libraries (google-auth, google-api-python-client) pointed at it.

Ports: GOOGLE_STANDIN_PORTS ("8200-8299" by default, or "0" for any free port)."""

import functools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from standins.google import GoogleStandin
from tests.ports import share

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "belajar.test"
ADMIN = f"admin@{DOMAIN}"
CLIENT_EMAIL = "akun-provisioning@akun-test.iam.gserviceaccount.com"
SCOPES = [
    "https://www.googleapis.com/auth/admin.directory.user",
    "https://www.googleapis.com/auth/admin.directory.orgunit",
    "https://www.googleapis.com/auth/admin.directory.userschema",
]


@functools.cache
def service_account_key() -> tuple[bytes, bytes]:
    """(private PEM, public PEM): one key per test session (generating one takes a while)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def ports() -> list[int]:
    spec = os.environ.get("GOOGLE_STANDIN_PORTS", "8200-8299")
    if spec.strip() == "0":
        return [0]
    lo, _, hi = spec.partition("-")
    return list(share(range(int(lo), int(hi or lo) + 1)))


def free_port() -> int:
    for port in ports():
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError("no free port for the Google stand-in (GOOGLE_STANDIN_PORTS)")


@dataclass
class Standin:
    """A running stand-in and what a client needs to reach it."""

    url: str
    server: GoogleStandin | None = None  # in-thread only
    process: subprocess.Popen | None = None  # subprocess only
    private_key: bytes = b""
    public_key: bytes = b""
    admin: str = ADMIN
    domain: str = DOMAIN
    client_email: str = CLIENT_EMAIL
    _tmp: list = field(default_factory=list)

    @property
    def token_uri(self) -> str:
        return self.url + "/token"

    @property
    def api_endpoint(self) -> str:
        return self.url + "/"

    @property
    def batch_uri(self) -> str:
        return self.url + "/batch/admin/directory_v1"

    def service_account_info(self) -> dict:
        """What the Google Cloud console's JSON key file holds, token_uri pointed here."""
        return {
            "type": "service_account",
            "project_id": "akun-test",
            "private_key_id": "0123456789abcdef0123456789abcdef01234567",
            "private_key": self.private_key.decode(),
            "client_email": self.client_email,
            "client_id": "104857600000000000001",
            "token_uri": self.token_uri,
        }

    def credentials(self, subject: str | None = ADMIN, scopes=None):
        from google.oauth2 import service_account

        creds = service_account.Credentials.from_service_account_info(
            self.service_account_info(), scopes=scopes or SCOPES
        )
        return creds.with_subject(subject) if subject else creds

    def directory(self, credentials=None, timeout: float | None = None):
        """The Directory API client exactly as the product builds it: the shipped discovery
        document, only the endpoint moved."""
        import google_auth_httplib2
        import httplib2
        from googleapiclient.discovery import build

        creds = credentials if credentials is not None else self.credentials()
        http = google_auth_httplib2.AuthorizedHttp(creds, http=httplib2.Http(timeout=timeout))
        return build(
            "admin",
            "directory_v1",
            http=http,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": self.api_endpoint},
        )

    def batch(self, callback=None):
        from googleapiclient.http import BatchHttpRequest

        return BatchHttpRequest(callback=callback, batch_uri=self.batch_uri)

    # the /_standin/ endpoints, over HTTP so they work for a subprocess too
    def _admin(self, path: str, payload=None, raw: bytes | None = None) -> dict:
        data = raw
        if data is None and payload is not None:
            data = json.dumps(payload).encode()
        req = urllib.request.Request(
            self.url + "/_standin/" + path, data=data, method="POST" if data is not None else "GET"
        )
        with urllib.request.urlopen(req, timeout=600) as r:
            return json.loads(r.read())

    def stats(self) -> dict:
        return self._admin("stats")

    def reset(self, **what) -> None:
        self._admin("reset", what or {})

    def set_faults(self, spec) -> dict:
        return self._admin("faults", {"spec": spec} if isinstance(spec, str | None) else spec)

    def set_quota(self, per_minute: int | None) -> None:
        self._admin("quota", {"per_minute": per_minute})

    def seed(self, users: list[dict]) -> dict:
        lines = b"\n".join(json.dumps(u).encode() for u in users)
        return self._admin("seed", raw=lines)

    def signin(self, email: str, password: str) -> dict:
        """A password sign-in at "Google": {"ok": bool, "reason": "" | "unknown_user" |
        "no_password" | "wrong_password" | "suspended" | "unverifiable"}."""
        return self._admin("signin", {"email": email, "password": password})

    def stored_user(self, key: str) -> dict | None:
        try:
            return self._admin("user?key=" + urllib.request.quote(key))
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for t in self._tmp:
            t.cleanup()


def start_thread(host: str = "127.0.0.1", **options) -> Standin:
    """The stand-in inside this process, on a free port of GOOGLE_STANDIN_PORTS."""
    private, public = service_account_key()
    options.setdefault("domain", DOMAIN)
    options.setdefault("client_emails", [CLIENT_EMAIL])
    last = None
    for port in ports():
        server = GoogleStandin([public], **options)
        try:
            server.start(host, port)
        except OSError as e:
            last = e
            continue
        return Standin(
            server.url,
            server=server,
            private_key=private,
            public_key=public,
            domain=options["domain"],
        )
    raise RuntimeError(f"no free port for the Google stand-in: {last}")


def start_subprocess(*extra_args: str, timeout: float = 30) -> Standin:
    """`python -m standins.google` in its own process (the benchmark's way: its CPU is not
    the product's)."""
    private, public = service_account_key()
    tmp = tempfile.TemporaryDirectory(prefix="google-standin-")
    keyfile = Path(tmp.name) / "sa.pub.pem"
    keyfile.write_bytes(public)
    for _ in range(5):
        port = free_port()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "standins.google",
                "--port",
                str(port),
                "--public-key",
                str(keyfile),
                "--client-email",
                CLIENT_EMAIL,
                *extra_args,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(tmp.name) / "stderr.log", "ab"),  # noqa: SIM115
        )
        handle = Standin(
            f"http://127.0.0.1:{port}",
            process=proc,
            private_key=private,
            public_key=public,
            _tmp=[tmp],
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                handle.stats()
                return handle
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.05)
        proc.kill()
        proc.wait()
    tmp.cleanup()
    raise RuntimeError("the Google stand-in did not start")
