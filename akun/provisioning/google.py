"""The Google Workspace client: Admin SDK Directory API v1 through Google's own libraries.

- Credentials: google-auth's service-account credentials with domain-wide delegation
  (`subject` = the delegated admin), scopes admin.directory.user, .orgunit, .userschema.
- Calls: google-api-python-client on the discovery document it ships (static_discovery),
  sent in batch requests of up to AKUN_PROVISION_BATCH_CALLS calls (Google: 1,000), each
  call taking a token of the shared quota (akun.provisioning.quota) first.
- Errors: 403 userRateLimitExceeded/quotaExceeded/rateLimitExceeded, 429 and 5xx (and a
  batch lost on the wire) are retried per call with exponential backoff and jitter; when
  they persist the engine gets Outcome(retry=True) and tries again later.
- 409 on insert: the user is fetched; it is adopted when it is ours (our custom schema marks
  it, or it sits in the org units Akun manages), else the account fails with `conflict`.
  Nothing else is ever done to a user Akun does not manage.

Target.config (google): domain, customer (default my_customer), subject (the delegated
admin), key_file (the service account's JSON key), org_unit_root (default /Akun),
schema_name (default Akun), api_endpoint (default Google's; the stand-in in tests),
password_sync, quota_per_minute, timeout, backoff_base.
"""

import http.client
import json
import logging
import random
import secrets
import time
from collections.abc import Iterator

import httplib2
from django.conf import settings
from django.db import IntegrityError, transaction

from akun.provisioning.base import Desired, Outcome, OutgoingSyncClient, Remote
from akun.provisioning.models import OrgUnit
from akun.provisioning.quota import bucket_for

log = logging.getLogger("akun.provisioning")

SCOPES = [
    "https://www.googleapis.com/auth/admin.directory.user",
    "https://www.googleapis.com/auth/admin.directory.orgunit",
    "https://www.googleapis.com/auth/admin.directory.userschema",
]
GOOGLE_ENDPOINT = "https://admin.googleapis.com/"
QUOTA_REASONS = {"userRateLimitExceeded", "quotaExceeded", "rateLimitExceeded"}
SCHEMA_FIELDS = ["role", "jenjang", "npsn", "kode_wilayah", "akun_id", "nisn", "tanggal_lahir"]
LIST_FIELDS = (
    "nextPageToken,users(id,primaryEmail,name(givenName,familyName),suspended,orgUnitPath,"
    "includeInGlobalAddressList,customSchemas)"
)
RETRIES = 4  # per call, inside one write(): then the engine's own backoff takes over


class _Call:
    """One API call of a batch and what came of it."""

    __slots__ = ("key", "make", "response", "status", "reason", "message")

    def __init__(self, key, make):
        self.key = key
        self.make = make  # () -> HttpRequest (built anew for each attempt)
        self.response = None
        self.status = 0  # 0: not answered (lost); 200: fine; else the HTTP status
        self.reason = ""
        self.message = ""

    @property
    def transient(self) -> bool:
        return (
            self.status == 0
            or self.status == 429
            or self.status >= 500
            or (self.status == 403 and self.reason in QUOTA_REASONS)
        )

    @property
    def quota(self) -> bool:
        return self.status == 429 or (self.status == 403 and self.reason in QUOTA_REASONS)


def _error_of(exc) -> tuple[int, str, str]:
    status = int(getattr(getattr(exc, "resp", None), "status", 0) or 0)
    reason, message = "", str(exc)[:500]
    try:
        err = json.loads(exc.content)["error"]
        message = err.get("message", message)
        reason = (err.get("errors") or [{}])[0].get("reason", "")
    except Exception:  # a body that is not Google's JSON: keep the status
        pass
    return status, reason, message


class GoogleClient(OutgoingSyncClient):
    kind = "google"

    def __init__(self, target, *, bucket=None, sleep=time.sleep):
        super().__init__(target)
        c = target.config or {}
        self.customer = c.get("customer") or "my_customer"
        self.domain = c.get("domain", "")
        self.root = "/" + (c.get("org_unit_root") or "Akun").strip("/")
        self.schema = c.get("schema_name") or "Akun"
        self.endpoint = (c.get("api_endpoint") or GOOGLE_ENDPOINT).rstrip("/") + "/"
        calls = c.get("batch_calls") or settings.AKUN_PROVISION_BATCH_CALLS
        self.batch_size = min(1000, int(calls))
        self.backoff_base = float(c.get("backoff_base", 1.0))
        self.timeout = float(c.get("timeout", 60))
        self.bucket = bucket or bucket_for(target, batch=self.batch_size)
        self.sleep = sleep
        self.calls = 0  # API calls sent (benchmarks)
        self.refused = 0  # of them refused for quota
        self._service = None
        self._schema_ok = False
        self.after_batch = None  # test hook: called after each batch request came back

    # -- the connection ----------------------------------------------------------------------

    @property
    def service(self):
        if self._service is None:
            import google_auth_httplib2
            from google.oauth2 import service_account
            from googleapiclient.discovery import build

            c = self.target.config or {}
            creds = service_account.Credentials.from_service_account_file(
                c["key_file"], scopes=SCOPES, subject=c.get("subject") or None
            )
            authed = google_auth_httplib2.AuthorizedHttp(
                creds, http=httplib2.Http(timeout=self.timeout)
            )
            self._service = build(
                "admin",
                "directory_v1",
                http=authed,
                static_discovery=True,
                cache_discovery=False,
                client_options={"api_endpoint": self.endpoint},
            )
        return self._service

    def _new_batch(self, callback):
        from googleapiclient.http import BatchHttpRequest

        # The Directory API's own batch endpoint (the global /batch is gone), at api_endpoint.
        return BatchHttpRequest(
            callback=callback, batch_uri=self.endpoint + "batch/admin/directory_v1"
        )

    def _send(self, calls: list[_Call]) -> None:
        """Every call answered (or given up on as transient), in batches, retrying the
        transient ones with exponential backoff and jitter."""
        waiting = list(calls)
        for attempt in range(RETRIES + 1):
            for i in range(0, len(waiting), self.batch_size):
                self._send_batch(waiting[i : i + self.batch_size])
            retry = [c for c in waiting if c.transient]
            if not retry or attempt == RETRIES:
                return
            delay = self.backoff_base * 2**attempt
            delay = delay / 2 + random.uniform(0, delay / 2)  # jitter
            if any(c.quota for c in retry):
                self.bucket.penalise(delay)  # every worker waits, not only this one
            self.sleep(delay)
            waiting = retry

    def _send_batch(self, chunk: list[_Call]) -> None:
        from googleapiclient.errors import BatchError, HttpError

        self.bucket.take(len(chunk))
        by_id = {}

        def callback(request_id, response, exception):
            call = by_id[request_id]
            if exception is None:
                call.status, call.response = 200, response
                return
            call.status, call.reason, call.message = _error_of(exception)
            if not call.status:
                call.status = 500
            if call.quota:
                self.refused += 1

        batch = self._new_batch(callback)
        for n, call in enumerate(chunk):
            call.status, call.response, call.reason, call.message = 0, None, "", ""
            by_id[str(n)] = call
            batch.add(call.make(), request_id=str(n))
        self.calls += len(chunk)
        try:
            batch.execute()
        except HttpError as exc:  # the batch request itself refused: every call again
            status, reason, message = _error_of(exc)
            for call in chunk:
                if not call.status:
                    call.status, call.reason, call.message = status or 500, reason, message
            if status == 429 or (status == 403 and reason in QUOTA_REASONS):
                self.refused += len(chunk)
        except (BatchError, OSError, httplib2.HttpLib2Error, http.client.HTTPException) as exc:
            # Lost on the wire (timeout, connection dropped mid-batch): the calls that got
            # no answer are transient; the target may have done them (idempotent retries).
            log.warning("batch request to %s failed: %s", self.target.name, exc)
            for call in chunk:
                if not call.status:
                    call.message = f"{type(exc).__name__}: {exc}"[:500]
        if self.after_batch is not None:
            self.after_batch(chunk)

    # -- the custom schema and the org units -----------------------------------------------

    def ensure_schema(self) -> None:
        if self._schema_ok:
            return
        schemas = self.service.schemas()
        get = _Call("get", lambda: schemas.get(customerId=self.customer, schemaKey=self.schema))
        self._send([get])
        if get.status == 404:
            body = {
                "schemaName": self.schema,
                "displayName": "Akun",
                "fields": [
                    {"fieldName": f, "fieldType": "STRING", "displayName": f,
                     "readAccessType": "ADMINS_AND_SELF"}
                    for f in SCHEMA_FIELDS
                ],
            }  # fmt: skip
            ins = _Call("ins", lambda: schemas.insert(customerId=self.customer, body=body))
            self._send([ins])
            if ins.status not in (200, 409):
                raise TargetDown(f"custom schema {self.schema}: {ins.status} {ins.message}", ins)
        elif get.status != 200:
            raise TargetDown(f"custom schema {self.schema}: {get.status} {get.message}", get)
        self._schema_ok = True

    def ensure_org_units(self, paths: set[str]) -> None:
        """Create the missing org units (parents first), each once per target: the ones
        known are recorded in OrgUnit."""
        wanted = set()
        for path in paths:
            parts = path.strip("/").split("/")
            for i in range(1, len(parts) + 1):
                wanted.add("/" + "/".join(parts[:i]))
        known = set(
            OrgUnit.objects.filter(target=self.target, path__in=wanted).values_list(
                "path", flat=True
            )
        )
        missing = sorted(wanted - known, key=lambda p: (p.count("/"), p))
        if not missing:
            return
        units = self.service.orgunits()
        by_depth: dict[int, list[str]] = {}
        for p in missing:
            by_depth.setdefault(p.count("/"), []).append(p)
        for depth in sorted(by_depth):
            calls = []
            for p in by_depth[depth]:
                parent, _, name = p.rpartition("/")
                body = {"name": name, "parentOrgUnitPath": parent or "/"}
                calls.append(
                    _Call(p, lambda body=body: units.insert(customerId=self.customer, body=body))
                )
            self._send(calls)
            done = []
            for call in calls:
                exists = call.status == 409 or (
                    call.status == 400 and "exist" in call.message.lower()
                )
                if call.status == 200 or exists:
                    done.append(call.key)
                else:
                    raise TargetDown(f"org unit {call.key}: {call.status} {call.message}", call)
            for p in done:
                try:
                    with transaction.atomic():
                        OrgUnit.objects.get_or_create(target=self.target, path=p)
                except IntegrityError:  # another worker recorded it just now
                    pass

    # -- users -------------------------------------------------------------------------------

    def _body(self, d: Desired, *, insert: bool) -> dict:
        body = {
            "primaryEmail": d.user_id,
            "name": {"givenName": d.given_name, "familyName": d.family_name},
            "suspended": not d.active,
            "orgUnitPath": d.org_unit,
            "includeInGlobalAddressList": d.directory_visible,
            "customSchemas": {self.schema: {k: v for k, v in d.attributes.items() if v}},
        }
        if d.password_hash:
            body["password"] = d.password_hash
            body["hashFunction"] = "crypt"
        elif insert:
            # Google wants a password on insert. Sign-in is Akun's (SAML): this one is
            # random, never kept, never shown to anyone.
            body["password"] = secrets.token_urlsafe(32)
        return body

    def ours(self, user: dict) -> bool:
        """A user Akun manages: our custom schema marks it, or it is in our org units."""
        if ((user.get("customSchemas") or {}).get(self.schema) or {}).get("akun_id"):
            return True
        ou = user.get("orgUnitPath") or ""
        return ou == self.root or ou.startswith(self.root + "/")

    def write(self, items: list[Desired]) -> list[Outcome]:
        if not items:
            return []
        try:
            self.ensure_schema()
            self.ensure_org_units({d.org_unit for d in items})
        except TargetDown as exc:
            return [Outcome(d.account_id, False, d.remote_id, exc.reason, str(exc), True)
                    for d in items]  # fmt: skip
        users = self.service.users()
        out: dict[int, Outcome] = {}
        by_id = {d.account_id: d for d in items}

        def patch(d: Desired, key: str):
            body = self._body(d, insert=False)
            return _Call(d.account_id, lambda: users.patch(userKey=key, body=body))

        def insert(d: Desired):
            body = self._body(d, insert=True)
            return _Call(d.account_id, lambda: users.insert(body=body))

        first = [patch(d, d.remote_id) if d.remote_id else insert(d) for d in items]
        self._send(first)
        conflicts, gone = [], []
        for call in first:
            d = by_id[call.key]
            if call.status == 200:
                out[d.account_id] = Outcome(d.account_id, True, call.response.get("id", ""))
            elif call.status == 409 and not d.remote_id:
                conflicts.append(d)
            elif call.status == 404 and d.remote_id:
                gone.append(d)  # removed at the target behind Akun's back: create it again
            else:
                out[d.account_id] = self._failed(d, call)
        if gone:
            again = [insert(d) for d in gone]
            self._send(again)
            for call in again:
                d = by_id[call.key]
                if call.status == 200:
                    out[d.account_id] = Outcome(d.account_id, True, call.response.get("id", ""))
                elif call.status == 409:
                    conflicts.append(d)
                else:
                    out[d.account_id] = self._failed(d, call)
        if conflicts:
            gets = [
                _Call(
                    d.account_id,
                    lambda d=d: users.get(
                        userKey=d.user_id, projection="custom", customFieldMask=self.schema
                    ),
                )
                for d in conflicts
            ]
            self._send(gets)
            adopt = []
            for call in gets:
                d = by_id[call.key]
                if call.status == 200 and self.ours(call.response):
                    adopt.append(patch(d, call.response["id"]))
                elif call.status == 200:
                    out[d.account_id] = Outcome(
                        d.account_id, False, "", "conflict",
                        f"{d.user_id} sudah ada di Google dan tidak dikelola Akun",
                    )  # fmt: skip
                else:
                    out[d.account_id] = self._failed(d, call)
            self._send(adopt)
            for call in adopt:
                d = by_id[call.key]
                if call.status == 200:
                    out[d.account_id] = Outcome(d.account_id, True, call.response.get("id", ""))
                else:
                    out[d.account_id] = self._failed(d, call)
        return [out[d.account_id] for d in items]

    def _failed(self, d: Desired, call: _Call) -> Outcome:
        if call.transient:
            reason = "quota" if call.quota else "target_error"
            return Outcome(d.account_id, False, d.remote_id, reason, call.message, True)
        reason = "invalid"
        if call.status == 400 and "name" in call.message.lower():
            reason = "name_rejected"
        return Outcome(d.account_id, False, d.remote_id, reason, call.message[:500], False)

    def delete(self, items: list[Desired]) -> list[Outcome]:
        """Delete users Akun created or adopted (a known remote id). Without one, the user
        is looked up first and left alone unless it is ours."""
        if not items:
            return []
        users = self.service.users()
        out: dict[int, Outcome] = {}
        by_id = {d.account_id: d for d in items}
        unknown = [d for d in items if not d.remote_id]
        keys = {d.account_id: d.remote_id for d in items if d.remote_id}
        if unknown:
            gets = [_Call(d.account_id, lambda d=d: users.get(userKey=d.user_id,
                                                            projection="custom",
                                                            customFieldMask=self.schema))
                    for d in unknown]  # fmt: skip
            self._send(gets)
            for call in gets:
                d = by_id[call.key]
                if call.status == 200 and self.ours(call.response):
                    keys[d.account_id] = call.response["id"]
                elif call.status in (200, 404):  # not there, or not ours: nothing to do
                    out[d.account_id] = Outcome(d.account_id, True, "")
                else:
                    out[d.account_id] = self._failed(d, call)
        dels = [_Call(acc, lambda key=key: users.delete(userKey=key)) for acc, key in keys.items()]
        self._send(dels)
        for call in dels:
            d = by_id[call.key]
            if call.status in (200, 204, 404):  # 404: already gone
                out[d.account_id] = Outcome(d.account_id, True, keys[d.account_id])
            else:
                out[d.account_id] = self._failed(d, call)
        return [out[d.account_id] for d in items]

    def suspend(self, remote_ids: list[str]) -> dict[str, bool]:
        """Reconcile --fix: suspend users found in our org units that Akun has no account
        for (never delete them). {remote id: done}."""
        users = self.service.users()
        calls = [
            _Call(rid, lambda rid=rid: users.patch(userKey=rid, body={"suspended": True}))
            for rid in remote_ids
        ]
        self._send(calls)
        return {c.key: c.status == 200 for c in calls}

    def discover(self) -> Iterator[Remote]:
        """Every user of the domain that Akun manages, paged (500 a page) with a field mask;
        the others are skipped, never returned."""
        for user in self.list_users():
            if self.ours(user):
                yield self.remote_of(user)

    def remote_of(self, user: dict) -> Remote:
        attrs = dict((user.get("customSchemas") or {}).get(self.schema) or {})
        name = user.get("name") or {}
        attrs["_given_name"] = name.get("givenName", "")
        attrs["_family_name"] = name.get("familyName", "")
        attrs["_gal"] = user.get("includeInGlobalAddressList", True)
        return Remote(
            remote_id=user.get("id", ""),
            user_id=(user.get("primaryEmail") or "").lower(),
            active=not user.get("suspended", False),
            org_unit=user.get("orgUnitPath") or "/",
            attributes=attrs,
        )

    def list_users(self) -> Iterator[dict]:
        users = self.service.users()
        token = None
        while True:
            params = {
                "maxResults": 500,
                "projection": "custom",
                "customFieldMask": self.schema,
                "fields": LIST_FIELDS,
            }
            # The whole customer: user IDs live in subdomains (sd., guru.sd., ...), each a
            # secondary domain that `domain=` alone would leave out.
            params["customer"] = self.customer
            if token:
                params["pageToken"] = token
            call = _Call("list", lambda params=params: users.list(**params))
            self._send([call])
            if call.status != 200:
                raise TargetDown(f"users.list: {call.status} {call.message}", call)
            yield from call.response.get("users") or []
            token = call.response.get("nextPageToken")
            if not token:
                return


class TargetDown(Exception):
    """The target cannot be used now (schema, org units, listing): try again later."""

    def __init__(self, message: str, call: "_Call | None" = None):
        super().__init__(message)
        self.reason = "quota" if call is not None and call.quota else "target_error"
