"""The HTTP side of the stand-in: the OAuth token endpoint (service-account JWT grant), the
Directory API routes from the discovery document, the batch endpoint, the per-minute quota,
fault injection, and the /_standin/ endpoints that tests and the benchmark read."""

import base64
import collections
import http
import json
import random
import re
import secrets
import socket
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import load_pem_x509_certificate

from standins.google import discovery, errors
from standins.google.directory import Directory
from standins.google.errors import GoogleError

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# google-auth puts Google's token URI in `aud` whatever token_uri it posts to.
GOOGLE_AUDIENCES = {
    "https://oauth2.googleapis.com/token",
    "https://www.googleapis.com/oauth2/v4/token",
    "https://accounts.google.com/o/oauth2/token",
}
DEFAULT_SCOPES = frozenset(
    "https://www.googleapis.com/auth/" + s
    for s in (
        "admin.directory.user",
        "admin.directory.user.readonly",
        "admin.directory.orgunit",
        "admin.directory.orgunit.readonly",
        "admin.directory.userschema",
        "admin.directory.userschema.readonly",
    )
)
MAX_BODY = 32 * 1024 * 1024
MAX_BATCH = 1000
CLOCK_SKEW = 300  # seconds Google tolerates on iat
FAULT_KINDS = ("backend", "quota", "timeout", "drop_before", "drop_after", "drop_mid")


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def load_public_key(data: bytes):
    """A PEM public key, or a PEM certificate (Google publishes service-account keys as
    certificates)."""
    if b"CERTIFICATE" in data:
        return load_pem_x509_certificate(data).public_key()
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("only RSA keys sign service-account assertions")
    return key


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


@dataclass
class Grant:
    subject: str | None
    scopes: frozenset
    expires: float
    client_email: str


@dataclass
class Fault:
    share: float = 0.0
    next: int = 0

    def hit(self) -> bool:
        if self.next > 0:
            self.next -= 1
            return True
        return self.share > 0 and random.random() < self.share


@dataclass
class Faults:
    kinds: dict = field(default_factory=lambda: {k: Fault() for k in FAULT_KINDS})
    timeout_seconds: float = 30.0
    fired: collections.Counter = field(default_factory=collections.Counter)  # kept across sets

    @classmethod
    def parse(cls, spec: str | dict | None) -> "Faults":
        """`backend=0.1,timeout=next:2,timeout_seconds=5` (a share, or the next N), or the
        same as JSON: {"backend": {"share": 0.1}, "timeout": {"next": 2}, ...}."""
        f = cls()
        if not spec:
            return f
        if isinstance(spec, str):
            items = {}
            for part in spec.split(","):
                part = part.strip()
                if not part:
                    continue
                name, _, value = part.partition("=")
                items[name.strip()] = value.strip()
            spec = {}
            for name, value in items.items():
                if name == "timeout_seconds":
                    spec[name] = float(value)
                elif value.startswith("next:"):
                    spec[name] = {"next": int(value[5:])}
                else:
                    spec[name] = {"share": float(value.rstrip("%")) / (100 if "%" in value else 1)}
        for name, value in spec.items():
            if name == "timeout_seconds":
                f.timeout_seconds = float(value)
                continue
            if name not in f.kinds:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULT_KINDS)}")
            share = float(value.get("share", 0))
            nxt = int(value.get("next", 0))
            if not 0 <= share <= 1 or nxt < 0:
                raise ValueError(f"fault {name}: share in [0, 1], next >= 0")
            f.kinds[name] = Fault(share, nxt)
        return f

    def hit(self, kind: str) -> bool:
        if self.kinds[kind].hit():
            self.fired[kind] += 1
            return True
        return False

    def describe(self) -> dict:
        out = {
            k: {"share": v.share, "next": v.next}
            for k, v in self.kinds.items()
            if v.share or v.next
        }
        out["timeout_seconds"] = self.timeout_seconds
        return out


class Quota:
    """Calls per rolling minute, counted in one-second buckets; refused calls don't count."""

    def __init__(self, per_minute: int | None):
        self.per_minute = per_minute
        self.buckets: collections.deque = collections.deque()  # [second, count]
        self.total = 0

    def take(self, now: float) -> bool:
        if self.per_minute is None:
            return True
        sec = int(now)
        b = self.buckets
        while b and b[0][0] <= sec - 60:
            self.total -= b.popleft()[1]
        if self.total >= self.per_minute:
            return False
        if b and b[-1][0] == sec:
            b[-1][1] += 1
        else:
            b.append([sec, 1])
        self.total += 1
        return True


class Stats:
    def __init__(self):
        self.started = time.time()
        self.served = 0
        self.refused_quota = 0
        self.http_requests = 0
        self.batches = 0
        self.batch_calls = 0
        self.tokens_issued = 0
        self.tokens_refused = 0
        self.unauthenticated = 0
        self.by_method: collections.Counter = collections.Counter()
        self.by_status: collections.Counter = collections.Counter()
        self.by_reason: collections.Counter = collections.Counter()
        self.minutes: dict[int, list[int]] = {}  # minute -> [served, refused_quota]

    def minute(self, now: float) -> list[int]:
        m = int(now // 60)
        row = self.minutes.get(m)
        if row is None:
            row = self.minutes[m] = [0, 0]
            for old in [k for k in self.minutes if k < m - 120]:
                del self.minutes[old]
        return row


class GoogleStandin:
    """One Google project + one Workspace customer: the directory, the service accounts'
    public keys, the delegated admins, the quota and the faults."""

    def __init__(
        self,
        public_keys: list[bytes] = (),
        *,
        domain: str = "belajar.test",
        customer_id: str = "C03az79cb",
        admins: list[str] | None = None,
        client_emails: list[str] | None = None,
        authorized_scopes: frozenset = DEFAULT_SCOPES,
        quota_per_minute: int | None = None,
        faults: str | dict | None = None,
        token_lifetime: int = 3599,
    ):
        self.keys = [load_public_key(k) for k in public_keys]
        self.directory = Directory(domain, customer_id)
        self.admins = {a.lower() for a in (admins or [f"admin@{domain}"])}
        self.client_emails = set(client_emails or ())
        self.authorized_scopes = frozenset(authorized_scopes)
        self.quota = Quota(quota_per_minute)
        self.faults = Faults.parse(faults)
        self.token_lifetime = token_lifetime
        self.grants: dict[str, Grant] = {}
        self.stats = Stats()
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.handlers = {
            "directory.users.insert": self.directory.users_insert,
            "directory.users.get": self.directory.users_get,
            "directory.users.list": self.directory.users_list,
            "directory.users.patch": self.directory.users_patch,
            "directory.users.update": self.directory.users_update,
            "directory.users.delete": self.directory.users_delete,
            "directory.orgunits.insert": self.directory.orgunits_insert,
            "directory.orgunits.get": self.directory.orgunits_get,
            "directory.orgunits.list": self.directory.orgunits_list,
            "directory.orgunits.patch": self.directory.orgunits_patch,
            "directory.orgunits.update": self.directory.orgunits_update,
            "directory.orgunits.delete": self.directory.orgunits_delete,
            "directory.schemas.insert": self.directory.schemas_insert,
            "directory.schemas.get": self.directory.schemas_get,
            "directory.schemas.list": self.directory.schemas_list,
            "directory.schemas.patch": self.directory.schemas_patch,
            "directory.schemas.update": self.directory.schemas_update,
            "directory.schemas.delete": self.directory.schemas_delete,
        }

    # --- running ----------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> "GoogleStandin":
        self.httpd = _Server((host, port), _Handler)
        self.httpd.standin = self
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="google-standin", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self, host: str, port: int) -> None:
        self.httpd = _Server((host, port), _Handler)
        self.httpd.standin = self
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.stopping.set()
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    # --- OAuth ------------------------------------------------------------------------

    def token(self, form: dict[str, list[str]]) -> dict:
        grant_type = (form.get("grant_type") or [""])[-1]
        if grant_type != JWT_GRANT:
            raise OAuthError(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        assertion = (form.get("assertion") or [""])[-1]
        if not assertion:
            raise OAuthError(400, "invalid_request", "Missing required parameter: assertion")
        try:
            h64, p64, s64 = assertion.split(".")
            header = json.loads(_b64(h64))
            claims = json.loads(_b64(p64))
            signature = _b64(s64)
        except (ValueError, UnicodeDecodeError):
            raise OAuthError(400, "invalid_grant", "Invalid JWT: malformed assertion") from None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise OAuthError(400, "invalid_grant", "Invalid JWT: malformed assertion")
        if header.get("alg") != "RS256":
            raise OAuthError(400, "invalid_grant", "Invalid JWT Signature.")
        signed = f"{h64}.{p64}".encode()
        for key in self.keys:
            try:
                key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
                break
            except InvalidSignature:
                continue
        else:
            raise OAuthError(400, "invalid_grant", "Invalid JWT Signature.")
        iss = claims.get("iss")
        if not isinstance(iss, str) or (self.client_emails and iss not in self.client_emails):
            raise OAuthError(401, "invalid_client", "The OAuth client was not found.")
        if claims.get("aud") not in GOOGLE_AUDIENCES | {self.url + "/token"}:
            raise OAuthError(400, "invalid_grant", "Invalid JWT: Failed audience check.")
        now = time.time()
        iat, exp = claims.get("iat"), claims.get("exp")
        if (
            not isinstance(iat, int | float)
            or not isinstance(exp, int | float)
            or exp <= now
            or iat > now + CLOCK_SKEW
            or exp - iat > 3600
            or exp <= iat
        ):
            raise OAuthError(
                400,
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                "reasonable timeframe. Check your iat and exp values in the JWT claim.",
            )
        scopes = frozenset((claims.get("scope") or "").split())
        if not scopes:
            raise OAuthError(
                400, "invalid_scope", "Invalid OAuth scope or ID token audience provided."
            )
        sub = claims.get("sub")
        if sub is not None:
            if not isinstance(sub, str) or not self._in_domain(sub):
                raise OAuthError(400, "invalid_grant", "Invalid email or User ID")
            if not scopes <= self.authorized_scopes:
                # domain-wide delegation grants the client only the scopes an admin entered
                raise OAuthError(
                    401,
                    "unauthorized_client",
                    "Client is unauthorized to retrieve access tokens using this method, or "
                    "client not authorized for any of the scopes requested.",
                )
        access = "ya29.c." + secrets.token_urlsafe(48)
        with self.lock:
            self.grants[access] = Grant(
                sub.lower() if sub else None, scopes, now + self.token_lifetime, iss
            )
            self.stats.tokens_issued += 1
        return {"access_token": access, "expires_in": self.token_lifetime, "token_type": "Bearer"}

    def _in_domain(self, email: str) -> bool:
        d = self.directory.domain
        dom = email.lower().rpartition("@")[2]
        return dom == d or dom.endswith("." + d)

    def _grant(self, authorization: str | None) -> Grant:
        if not authorization or not authorization.startswith(("Bearer ", "bearer ")):
            raise errors.auth_error()
        g = self.grants.get(authorization[7:].strip())
        if g is None or g.expires <= time.time():
            raise errors.auth_error()
        return g

    # --- one API call -----------------------------------------------------------------

    def call(self, verb: str, target: str, authorization: str | None, body: bytes) -> tuple:
        """One Directory API call (alone or inside a batch) -> (status, JSON bytes)."""
        path, _, query_string = target.partition("?")
        now = time.time()
        st = self.stats
        try:
            found = discovery.route(verb, path)
            if found is None:
                raise GoogleError(404, "notFound", "Not Found")
            method, path_params = found
            try:
                grant = self._grant(authorization)
            except GoogleError:
                with self.lock:
                    st.unauthenticated += 1
                raise
            if not method.scopes & grant.scopes:
                raise errors.insufficient_scopes()
            if grant.subject is None or grant.subject not in self.admins:
                raise errors.forbidden()
            with self.lock:
                ok = self.quota.take(now)
                row = st.minute(now)
                if not ok:
                    st.refused_quota += 1
                    row[1] += 1
                    st.by_reason["userRateLimitExceeded"] += 1
                    raise errors.rate_limited()
                st.served += 1
                row[0] += 1
                st.by_method[method.id] += 1
                if self.faults.hit("backend"):
                    raise errors.backend_error()
                if self.faults.hit("quota"):
                    raise errors.quota_exceeded()
            handler = self.handlers.get(method.id)
            if handler is None:
                raise GoogleError(
                    501, "notImplemented", f"{method.id} is not implemented by the stand-in."
                )
            query = urllib.parse.parse_qs(query_string, keep_blank_values=True)
            params = discovery.check_query(method, query)
            mask = None
            if params.get("fields"):
                try:
                    mask = discovery.parse_fields(params["fields"])
                except ValueError:
                    raise GoogleError(
                        400,
                        "invalidParameter",
                        f"Invalid field selection {params['fields']}",
                        location="fields",
                        locationType="parameter",
                    ) from None
                discovery.check_fields(mask, method.response_ref)
            for k in (
                "fields",
                "alt",
                "prettyPrint",
                "quotaUser",
                "key",
                "$.xgafv",
                "access_token",
                "oauth_token",
                "callback",
            ):
                params.pop(k, None)
            payload = None
            if method.request_ref is not None:
                payload = _parse_json(body)
                discovery.validate_body(method, payload)
            with self.directory.lock:
                status, result = handler({**params, **path_params}, payload)
            with self.lock:
                st.by_status[status] += 1
            if result is None:
                return status, b""
            if mask is not None:
                result = discovery.apply_fields(result, mask)
            return status, json.dumps(result, ensure_ascii=False).encode()
        except GoogleError as e:
            with self.lock:
                st.by_status[e.code] += 1
                if e.reason != "userRateLimitExceeded":
                    st.by_reason[e.reason] += 1
            return e.code, e.json_bytes()

    # --- batch ------------------------------------------------------------------------

    def batch(self, content_type: str, body: bytes, authorization: str | None) -> tuple:
        """multipart/mixed of application/http parts -> (status, content type, bytes)."""
        m = re.search(r'boundary="?([^";]+)"?', content_type or "")
        if not (content_type or "").lower().startswith("multipart/mixed") or not m:
            e = errors.bad_request("Batch requests must be multipart/mixed with a boundary.")
            return 400, "application/json; charset=UTF-8", e.json_bytes()
        try:
            parts = parse_batch(m.group(1).encode(), body)
        except ValueError as exc:
            e = errors.bad_request(f"Invalid batch request: {exc}")
            return 400, "application/json; charset=UTF-8", e.json_bytes()
        if not parts:
            e = errors.bad_request("A batch request must contain at least one request.")
            return 400, "application/json; charset=UTF-8", e.json_bytes()
        if len(parts) > MAX_BATCH:
            e = errors.bad_request(
                f"A batch request cannot contain more than {MAX_BATCH} requests."
            )
            return 400, "application/json; charset=UTF-8", e.json_bytes()
        with self.lock:
            self.stats.batches += 1
            self.stats.batch_calls += len(parts)
        boundary = "batch_" + secrets.token_urlsafe(18)
        out = []
        for content_id, verb, target, headers, inner in parts:
            if target.startswith(("http://", "https://")):
                target = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
            if target.startswith("/batch"):
                status, data = (
                    400,
                    errors.bad_request("Nested batch requests are not allowed.").json_bytes(),
                )
            else:
                auth = headers.get("authorization") or authorization
                status, data = self.call(verb, target, auth, inner)
            head = [f"--{boundary}", "Content-Type: application/http"]
            if content_id:
                cid = content_id.strip()
                cid = "<response-" + cid[1:] if cid.startswith("<") else "response-" + cid
                head.append(f"Content-ID: {cid}")
            head.append("")
            head.append(f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}")
            if data:
                head.append("Content-Type: application/json; charset=UTF-8")
            head.append(f"Content-Length: {len(data)}")
            head.append("")
            out.append("\r\n".join(head).encode() + b"\r\n" + data + b"\r\n")
        out.append(f"--{boundary}--\r\n".encode())
        return 200, f"multipart/mixed; boundary={boundary}", b"".join(out)

    # --- for tests and the benchmark --------------------------------------------------

    def stats_dict(self) -> dict:
        with self.lock, self.directory.lock:
            st = self.stats
            now = time.time()
            cur = int(now // 60)
            return {
                "calls_served": st.served,
                "refused_quota": st.refused_quota,
                "unauthenticated": st.unauthenticated,
                "http_requests": st.http_requests,
                "batches": st.batches,
                "batch_calls": st.batch_calls,
                "tokens_issued": st.tokens_issued,
                "tokens_refused": st.tokens_refused,
                "by_method": dict(st.by_method),
                "by_status": {str(k): v for k, v in st.by_status.items()},
                "by_reason": dict(st.by_reason),
                "per_minute": [
                    {
                        "minute": time.strftime("%Y-%m-%dT%H:%M:00Z", time.gmtime(m * 60)),
                        "served": v[0],
                        "refused_quota": v[1],
                        "complete": m < cur,
                    }
                    for m, v in sorted(st.minutes.items())
                ],
                "quota_per_minute": self.quota.per_minute,
                "quota_used_last_60s": self.quota.total,
                "faults": self.faults.describe(),
                "faults_fired": dict(self.faults.fired),
                "users": len(self.directory.users),
                "orgunits": len(self.directory.orgunits) - 1,
                "schemas": len(self.directory.schemas),
                "uptime_seconds": round(now - st.started, 3),
            }

    def reset(self, data: bool = True, counters: bool = True, faults: bool = True) -> None:
        with self.lock:
            if data:
                self.directory.reset()
            if counters:
                self.stats = Stats()
                self.quota = Quota(self.quota.per_minute)
            if faults:
                self.faults = Faults.parse(None)
            elif counters:
                self.faults.fired.clear()

    def set_quota(self, per_minute: int | None) -> None:
        with self.lock:
            self.quota = Quota(per_minute)

    def set_faults(self, spec: str | dict | None) -> None:
        faults = Faults.parse(spec)
        with self.lock:
            faults.fired = self.faults.fired
            self.faults = faults

    def seed(self, lines: list[bytes], create_orgunits: bool = True) -> dict:
        """Users straight into the directory (NDJSON of User resources, checked as by
        users.insert), no quota: for the benchmark's million-user domain."""
        d = self.directory
        method = discovery.route("POST", "/admin/directory/v1/users")[0]
        inserted, failed = 0, []
        with d.lock:
            for n, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    body = _parse_json(line)
                    discovery.validate_body(method, body)
                    ou = body.get("orgUnitPath")
                    if create_orgunits and ou and ou.startswith("/"):
                        self._mkdirs(ou)
                    d.insert_user(body)
                    inserted += 1
                except GoogleError as e:
                    if len(failed) < 20:
                        failed.append({"line": n, "error": e.message})
            d.merge_index()
        return {"inserted": inserted, "failed": failed, "users": len(d.users)}

    def signin(self, args: dict) -> dict:
        """A password sign-in at "Google" (password-sync mode): the user must exist, not be
        suspended, and the password must match what was last sent."""
        from standins.google.passwords import verify

        email, password = args.get("email"), args.get("password")
        if not isinstance(email, str) or not isinstance(password, str):
            raise ValueError("email and password, both strings")
        with self.directory.lock:
            stored = self.directory.stored_user(email)
        if stored is None:
            return {"ok": False, "reason": "unknown_user"}
        if "password" not in stored:
            return {"ok": False, "reason": "no_password"}
        ok = verify(password, stored["password"], stored.get("hashFunction"))
        if ok is None:
            return {"ok": False, "reason": "unverifiable"}
        if not ok:
            return {"ok": False, "reason": "wrong_password"}
        if stored.get("suspended"):
            return {"ok": False, "reason": "suspended"}
        return {"ok": True, "reason": ""}

    def _mkdirs(self, path: str) -> None:
        d = self.directory
        parts = [p for p in path.split("/") if p]
        cur = "/"
        for p in parts:
            nxt = (cur.rstrip("/") + "/" + p) if cur != "/" else "/" + p
            if nxt not in d.orgunits:
                d._add_ou(nxt, p, cur)
            cur = nxt


def _interned(pairs) -> dict:
    # a million users share their field names instead of holding a copy each
    return {sys.intern(k): v for k, v in pairs}


def _parse_json(body: bytes):
    def no_constants(name):
        raise ValueError(name)

    try:
        text = body.decode("utf-8")
        if "\x00" in text:
            raise ValueError("NUL")
        if not text.strip():
            return None
        return json.loads(text, parse_constant=no_constants, object_pairs_hook=_interned)
    except UnicodeDecodeError:
        raise errors.invalid("Invalid JSON payload received. Invalid UTF-8.") from None
    except (ValueError, RecursionError):
        raise errors.invalid("Invalid JSON payload received. Unexpected token.") from None


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    """Headers / rest at the first blank line (CRLF or bare LF: googleapiclient writes LF)."""
    a = data.find(b"\r\n\r\n")
    b = data.find(b"\n\n")
    if a == -1 and b == -1:
        return data, b""
    if b == -1 or (a != -1 and a < b):
        return data[:a], data[a + 4 :]
    return data[:b], data[b + 2 :]


def _headers(block: bytes) -> dict[str, str]:
    out = {}
    for line in block.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            out[name.strip().lower()] = value.strip()
    return out


def parse_batch(boundary: bytes, body: bytes) -> list[tuple]:
    """The parts of a batch: (Content-ID, verb, target, headers, body) each."""
    delim = b"--" + boundary
    chunks = body.split(delim)
    if len(chunks) < 2:
        raise ValueError("no part")
    if not chunks[-1].startswith(b"--"):
        raise ValueError("no closing delimiter")
    parts = []
    for chunk in chunks[1:-1]:
        if len(parts) > MAX_BATCH:
            break  # refused by the caller; don't parse the rest
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk.lstrip(b"\n")
        if chunk.endswith(b"\r\n"):
            chunk = chunk[:-2]
        elif chunk.endswith(b"\n"):
            chunk = chunk[:-1]
        part_head, inner = _split_head(chunk)
        ph = _headers(part_head)
        if ph.get("content-type", "application/http").split(";")[0].strip() != "application/http":
            raise ValueError("each part must be application/http")
        req_head, req_body = _split_head(inner)
        first, _, rest = req_head.partition(b"\n")
        words = first.decode("utf-8", "replace").strip().split(" ")
        if len(words) < 2 or words[0] not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            raise ValueError("bad request line in a part")
        parts.append((ph.get("content-id", ""), words[0], words[1], _headers(rest), req_body))
    return parts


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    standin: GoogleStandin

    def handle_error(self, request, client_address):
        # a client that hung up (its timeout, a dropped connection) is routine here
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ESF"
    sys_version = ""
    server: _Server

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _send(
        self,
        status: int,
        body: bytes,
        ctype: str = "application/json; charset=UTF-8",
        partial: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Origin, X-Origin, Referer")
        self.end_headers()
        if partial:
            # the answer stops half-way: the client sees a short read on a closed socket
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self._drop()
            return
        self.wfile.write(body)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _handle(self) -> None:
        st = self.server.standin
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self._send(411, errors.bad_request("Length Required").json_bytes())
            self.close_connection = True
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            e = GoogleError(413, "uploadTooLarge", "Request too large.")
            self._send(413, e.json_bytes())
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        path = self.path
        with st.lock:
            st.stats.http_requests += 1
        if path.startswith("/_standin/"):
            return self._admin(path, body)
        if path.split("?")[0] == "/token":
            return self._token(body)
        is_batch = path.split("?")[0] in ("/batch", "/batch/admin/directory_v1", "/batch/admin/v1")
        # faults that hit the connection: API and batch requests only
        with st.lock:
            drop_before = st.faults.hit("drop_before")
            timeout = not drop_before and st.faults.hit("timeout")
            drop_after = not (drop_before or timeout) and st.faults.hit("drop_after")
            drop_mid = not (drop_before or timeout or drop_after) and st.faults.hit("drop_mid")
        if drop_before:
            return self._drop()
        if timeout:
            # answer nothing until well past the client's timeout, then hang up
            st.stopping.wait(st.faults.timeout_seconds)
            return self._drop()
        if is_batch:
            if self.command != "POST":
                return self._send(
                    405, errors.bad_request("Batch requests are POSTed.").json_bytes()
                )
            status, ctype, data = st.batch(
                self.headers.get("Content-Type", ""), body, self.headers.get("Authorization")
            )
        else:
            status, data = st.call(self.command, path, self.headers.get("Authorization"), body)
            ctype = "application/json; charset=UTF-8"
        if drop_after:
            return self._drop()
        self._send(status, data, ctype, partial=drop_mid)

    def _token(self, body: bytes) -> None:
        st = self.server.standin
        if self.command != "POST":
            return self._send(405, b'{"error": "invalid_request"}')
        try:
            form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True)
            answer = st.token(form)
            self._send(200, json.dumps(answer).encode())
        except UnicodeDecodeError:
            self._oauth_error(OAuthError(400, "invalid_request", "Invalid request body."))
        except OAuthError as e:
            self._oauth_error(e)

    def _oauth_error(self, e: OAuthError) -> None:
        st = self.server.standin
        with st.lock:
            st.stats.tokens_refused += 1
        self._send(
            e.status, json.dumps({"error": e.error, "error_description": e.description}).encode()
        )

    def _admin(self, path: str, body: bytes) -> None:
        st = self.server.standin
        route, _, qs = path.partition("?")
        q = urllib.parse.parse_qs(qs)
        try:
            args = _parse_json(body) if body and route != "/_standin/seed" else None
        except GoogleError as e:
            return self._send(400, e.json_bytes())
        args = args if isinstance(args, dict) else {}
        try:
            if route == "/_standin/stats":
                return self._send(200, json.dumps(st.stats_dict()).encode())
            if route == "/_standin/reset" and self.command == "POST":
                st.reset(
                    data=args.get("data", True),
                    counters=args.get("counters", True),
                    faults=args.get("faults", True),
                )
                return self._send(200, b"{}")
            if route == "/_standin/faults":
                if self.command == "POST":
                    st.set_faults(args.get("spec") if "spec" in args else args)
                return self._send(200, json.dumps(st.faults.describe()).encode())
            if route == "/_standin/quota" and self.command == "POST":
                n = args.get("per_minute")
                st.set_quota(int(n) if n is not None else None)
                return self._send(200, json.dumps({"per_minute": st.quota.per_minute}).encode())
            if route == "/_standin/seed" and self.command == "POST":
                create = q.get("create_orgunits", ["true"])[-1] != "false"
                result = st.seed(body.split(b"\n"), create_orgunits=create)
                return self._send(200, json.dumps(result).encode())
            if route == "/_standin/signin" and self.command == "POST":
                return self._send(200, json.dumps(st.signin(args)).encode())
            if route == "/_standin/user":
                user = st.directory.stored_user((q.get("key") or [""])[-1])
                if user is None:
                    return self._send(404, errors.not_found().json_bytes())
                user.pop("_v", None)
                return self._send(200, json.dumps(user).encode())
        except (ValueError, TypeError) as exc:
            return self._send(400, errors.bad_request(str(exc)).json_bytes())
        self._send(404, GoogleError(404, "notFound", "Not Found").json_bytes())
