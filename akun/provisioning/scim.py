"""The SCIM 2.0 target (RFC 7643/7644): any SaaS that takes SCIM gets Akun's accounts.

Built on scim2-client (its httpx2 engine) and scim2-models: every payload is a model, never
hand-written JSON. The client reads the target's ServiceProviderConfig once per client and
adapts (docs/provisioning.md, "SCIM targets"):

- PATCH supported: updates are PatchOps; otherwise GET + PUT of the whole resource, with
  If-Match when the target supports ETags, so a change made at the target between the two
  is not overwritten blindly (412: read again and retry).
- bulk supported: creations, updates and deletions go in /Bulk requests of at most
  maxOperations (and maxPayloadSize: a too large request is split).
- filter supported: a 409 on creation is resolved with `userName eq` and adopted when the
  user is ours (its externalId is Akun's stable id), otherwise the reason is `conflict`.
- Groups (a school, a rombel) when the target serves /Groups: members kept in step.

Secrets never go in Target.config: the bearer token is read from the environment variable
named by `token_env`.
"""

import dataclasses
import json
import logging
from collections.abc import Iterator

import email_validator
import httpx2
from django.conf import settings
from pydantic import ValidationError
from scim2_client import (
    RequestNetworkException,
    SCIMClientException,
    UnexpectedStatusCodeException,
)
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import (
    BulkRequest,
    Context,
    Email,
    EnterpriseUser,
    Group,
    GroupMember,
    InvalidValueException,
    ListResponse,
    Name,
    NotFoundException,
    PatchOp,
    PatchOperation,
    PreconditionFailedException,
    ResourceType,
    SCIMException,
    ScimProvider,
    SearchRequest,
    ServiceProviderConfig,
    UniquenessException,
    User,
)

from akun.core import env
from akun.provisioning.base import Desired, Outcome, OutgoingSyncClient, Remote

log = logging.getLogger(__name__)

# scim2-models checks e-mails with email-validator, which refuses the reserved .test domain
# (RFC 6761) unless told, by its documented switch, that this is a test environment: a
# platform whose user IDs are under .test (the demo, the tests) is one.
if settings.AKUN_DOMAIN.lower().rstrip(".").endswith(".test"):
    email_validator.TEST_ENVIRONMENT = True

EXTERNAL_ID_PREFIX = "akun:"
GROUP_PREFIX = "akun:"  # akun:sekolah:<npsn>, akun:rombel:<id>
ENTERPRISE = EnterpriseUser.__schema__
DEFAULT_BULK_OPERATIONS = 1000
PAGE = 200
LOOKUP_CHUNK = 50  # users per `id eq .. or id eq ..` search
PUT_ATTEMPTS = 3  # read-modify-write rounds lost to a concurrent change (412) before giving up


class ScimConfigError(ValueError):
    """The target's config is not usable (no URL, no token variable): an admin's mistake."""


def check_user_id(user_id: str) -> None:
    """Never send a user without a usable userName (some services accept an empty one)."""
    local, at, domain = (user_id or "").partition("@")
    if not (local and at and domain) or not user_id.isprintable() or " " in user_id:
        raise InvalidValueException(detail=f"userName {user_id!r} is not an e-mail address")


def valid_id(value) -> bool:
    """A remote id Akun can store (Provisioned.remote_id) and put in a URL path."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= 200
        and value.isprintable()
        and not any(c in value for c in "/?# ")
    )


def work_email(user_id: str) -> Email:
    """The user ID is also the e-mail address. Built without running email-validator on
    it: that costs as much as the rest of the user, Akun's own rules made the user ID,
    and the target checks it anyway."""
    return Email.model_construct(value=user_id, type=Email.Type.work, primary=True)


def school_group(npsn: str) -> str:
    return f"{GROUP_PREFIX}sekolah:{npsn}"


def external_id(account_id: int) -> str:
    """Akun's stable id as the target stores it: how a user is recognised as ours."""
    return f"{EXTERNAL_ID_PREFIX}{account_id}"


@dataclasses.dataclass(frozen=True)
class Capabilities:
    """What the target's ServiceProviderConfig and ResourceTypes say it serves."""

    patch: bool
    bulk: bool
    bulk_max_operations: int
    bulk_max_payload: int | None
    etag: bool
    filter: bool
    filter_max_results: int
    groups: bool
    enterprise: bool

    @classmethod
    def read(cls, config: ServiceProviderConfig, types: tuple[ResourceType, ...]) -> "Capabilities":
        def on(feature) -> bool:
            return bool(feature and feature.supported)

        bulk = config.bulk
        user_type = next((t for t in types if t.name == "User"), None)
        extensions = (
            {str(e.schema_) for e in (user_type.schema_extensions or [])} if user_type else set()
        )
        return cls(
            patch=on(config.patch),
            bulk=on(bulk) and bool(bulk.max_operations),
            bulk_max_operations=min(bulk.max_operations or 0, DEFAULT_BULK_OPERATIONS)
            if bulk
            else 0,
            bulk_max_payload=bulk.max_payload_size if bulk else None,
            etag=on(config.etag),
            filter=on(config.filter),
            filter_max_results=(config.filter.max_results or PAGE) if config.filter else PAGE,
            groups=any(t.name == "Group" for t in types),
            enterprise=ENTERPRISE in extensions,
        )


class ScimClient(OutgoingSyncClient):
    """Target.config: {"url": "https://saas.example/scim/v2", "token_env": "VAR",
    "groups": true, "timeout": 30}."""

    kind = "scim"

    def __init__(self, target, *, http: httpx2.Client | None = None):
        super().__init__(target)
        cfg = target.config or {}
        url = cfg.get("url") or ""
        if not url.startswith(("https://", "http://")):
            raise ScimConfigError(f"target {target.name}: config.url must be an http(s) URL")
        headers = {"Accept": "application/scim+json"}
        token_env = cfg.get("token_env") or ""
        if token_env:
            token = env.named_secret(token_env)
            if not token:
                raise ScimConfigError(f"target {target.name}: ${token_env} is not set")
            headers["Authorization"] = f"Bearer {token}"
        self.http = http or httpx2.Client(
            base_url=url.rstrip("/"), headers=headers, timeout=float(cfg.get("timeout", 30))
        )
        self.use_groups = bool(cfg.get("groups", True))
        self.bulk_operations = int(cfg.get("bulk_operations") or DEFAULT_BULK_OPERATIONS)
        self.after_bulk = None  # test hook: called after each /Bulk answer came back
        self._scim: SyncSCIMClient | None = None
        self._caps: Capabilities | None = None
        self._group_ids: dict[str, str] = {}  # externalId -> id, found or created this run
        # the attribute paths of the first patch, validated against the model
        self._patch_paths: set | None = None

    # -- discovery

    @property
    def scim(self) -> SyncSCIMClient:
        if self._scim is None:
            # Akun's own models; the target's ResourceTypes bind the enterprise extension
            # (or not) and say whether /Groups exists; its ServiceProviderConfig what it can do.
            scim = SyncSCIMClient(
                self.http,
                provider=ScimProvider(models=[User, EnterpriseUser, Group], resource_types=[]),
            )
            scim.discover(schemas=False)
            self._caps = Capabilities.read(scim.provider.config, scim.provider.resource_types)
            self._scim = scim
        return self._scim

    @property
    def caps(self) -> Capabilities:
        self.scim  # noqa: B018 -- discovers on first use
        return self._caps

    @property
    def user_model(self):
        return self.scim.get_resource_model("User")

    # -- building resources

    def build_user(self, d: Desired, base=None):
        """The user Akun wants at the target; `base` (PUT fallback) keeps what the target
        added itself (its own attributes, roles)."""
        check_user_id(d.user_id)
        formatted = " ".join(p for p in (d.given_name, d.family_name) if p)
        fields = {
            "user_name": d.user_id,
            "external_id": external_id(d.account_id),
            "name": Name(given_name=d.given_name, family_name=d.family_name, formatted=formatted),
            "display_name": formatted,
            "active": d.active,
            "emails": [work_email(d.user_id)],
            "user_type": d.attributes.get("role") or None,
            "preferred_language": "id",
        }
        if base is None:
            # One validation of the whole user (field by field costs three times as much).
            if self.caps.enterprise:
                fields["EnterpriseUser"] = self._enterprise(d)
            return self.user_model(**fields)
        for field, value in fields.items():
            setattr(base, field, value)
        if self.caps.enterprise:
            base[EnterpriseUser] = self._enterprise(d)
        return base

    def _enterprise(self, d: Desired) -> EnterpriseUser:
        """Where Akun's attributes go in the enterprise extension (docs/provisioning.md)."""
        a = d.attributes
        return EnterpriseUser(
            organization=a.get("npsn") or None,  # the school
            division=d.org_unit or None,  # region / school / role, as Google's org unit
            department=a.get("jenjang") or None,
            cost_center=a.get("kode_wilayah") or None,
            # Only when AKUN_PROVISION_PERSONAL_FIELDS lets NISN out (desired.build).
            employee_number=a.get("nisn") or None,
        )

    def _patch_values(self, d: Desired) -> dict:
        """attribute path -> the value a patch replaces it with."""
        check_user_id(d.user_id)
        formatted = " ".join(p for p in (d.given_name, d.family_name) if p)
        values = {
            "userName": d.user_id,
            "externalId": external_id(d.account_id),
            "name.givenName": d.given_name,
            "name.familyName": d.family_name,
            "name.formatted": formatted,
            "displayName": formatted,
            "active": d.active,
            "emails": [work_email(d.user_id)],
            "userType": d.attributes.get("role") or None,
        }
        if self.caps.enterprise:
            e = self._enterprise(d)
            for attr in ("organization", "division", "department", "costCenter", "employeeNumber"):
                field = "cost_center" if attr == "costCenter" else attr
                field = "employee_number" if attr == "employeeNumber" else field
                values[f"{ENTERPRISE}:{attr}"] = getattr(e, field)
        return values

    def build_patch(self, d: Desired) -> PatchOp:
        """The patch, validated against the model (a PATCH sent alone)."""
        values = self._patch_values(d)
        ops = [PatchOperation(op="replace", path=path, value=v) for path, v in values.items()]
        patch = PatchOp[self.user_model](operations=ops)
        self._patch_paths = set(values)
        return patch

    def patch_payload(self, d: Desired) -> dict:
        """The patch as sent in a /Bulk. The first is validated (build_patch); the next use
        the same paths with their user's values, Akun's own strings and flags of the types
        the first showed valid (the target validates them again): resolving every path
        against the model and serialising through it cost more than 1 ms an account, most
        of a move's CPU. tests/test_provisioning_scim_client.py: both give the same JSON."""
        values = self._patch_values(d)
        if self._patch_paths is None or values.keys() - self._patch_paths:
            return self.build_patch(d).model_dump(scim_ctx=Context.RESOURCE_PATCH_REQUEST)
        return {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "replace", "path": path, "value": _payload(v)} for path, v in values.items()
            ],
        }

    # -- write

    def write(self, items: list[Desired]) -> list[Outcome]:
        try:
            self.caps  # noqa: B018 -- an unreachable target fails every item alike
        except Exception as exc:  # noqa: BLE001
            return [failure(d.account_id, exc) for d in items]
        outcomes: dict[int, Outcome] = {}
        creates = [d for d in items if not d.remote_id]
        updates = [d for d in items if d.remote_id]
        groups = self.use_groups and self.caps.groups
        try:
            # Read before the write overwrites it: where each user was (a move).
            previous = self._previous_groups(updates) if groups else {}
        except Exception as exc:  # noqa: BLE001
            for d in updates:
                outcomes[d.account_id] = failure(d.account_id, exc, remote_id=d.remote_id)
            previous, updates = {}, []
            items_written = creates
        else:
            items_written = items
        if self.caps.bulk:
            self._bulk_write(creates, updates, outcomes)
        else:
            for d in creates:
                outcomes[d.account_id] = self._create(d)
            for d in updates:
                outcomes[d.account_id] = self._update(d)
        if groups:
            self._sync_groups(items_written, previous, outcomes)
        return [outcomes[d.account_id] for d in items]

    def _create(self, d: Desired) -> Outcome:
        try:
            # The answer read raw (its id only): validating the user it echoes back costs
            # more than building the request.
            made = self.scim.create(self.build_user(d), check_response_payload=False)
            made_id = made.get("id") if isinstance(made, dict) else None
            if not valid_id(made_id):
                return Outcome(d.account_id, ok=False, reason="scim_bad_response",
                               detail=f"id {str(made_id)[:80]!r}", retry=True)  # fmt: skip
            return Outcome(d.account_id, ok=True, remote_id=made_id)
        except UniquenessException as exc:
            return self._adopt(d, exc)
        except Exception as exc:  # noqa: BLE001
            return failure(d.account_id, exc)

    def _adopt(self, d: Desired, exc: Exception) -> Outcome:
        """A 409: the userName exists. Ours (externalId) -> take it over; else `conflict`."""
        if not self.caps.filter:
            return Outcome(d.account_id, ok=False, reason="conflict", detail=_detail(exc))
        try:
            found = self.find_user(d.user_id)
        except Exception as lookup:  # noqa: BLE001
            return failure(d.account_id, lookup)
        if found is None:  # gone since: try again later
            return failure(d.account_id, exc)
        if found.external_id != external_id(d.account_id):
            return Outcome(
                d.account_id,
                ok=False,
                remote_id="",
                reason="conflict",
                detail=f"userName {d.user_id} (externalId {found.external_id or '-'})",
            )
        return self._update(dataclasses.replace(d, remote_id=found.id))

    def _update(self, d: Desired) -> Outcome:
        try:
            if self.caps.patch:
                self.scim.modify(self.user_model, d.remote_id, self.build_patch(d))
            else:
                self._replace(d)
            return Outcome(d.account_id, ok=True, remote_id=d.remote_id)
        except NotFoundException:
            # Deleted at the target (by its admin): create it again.
            return self._create(dataclasses.replace(d, remote_id=""))
        except Exception as exc:  # noqa: BLE001
            return failure(d.account_id, exc, remote_id=d.remote_id)

    def _replace(self, d: Desired) -> None:
        """PUT fallback: read, change Akun's attributes, write back with If-Match."""
        for attempt in range(PUT_ATTEMPTS):
            current = self.scim.query(self.user_model, d.remote_id)
            try:
                self.scim.replace(self.build_user(d, base=current))
                return
            except PreconditionFailedException:
                if attempt == PUT_ATTEMPTS - 1:
                    raise

    def find_user(self, user_name: str):
        found = self.scim.query(
            self.user_model,
            query_parameters=SearchRequest(filter=f"userName eq {_quote(user_name)}", count=2),
        )
        return (found.resources or [None])[0]

    # -- bulk

    def _bulk_write(self, creates, updates, outcomes) -> None:
        # The operations as JSON: each one's data is a validated user (build_user) or a
        # patch (patch_payload); validating the envelope's models again in their
        # single-operation context cost 1.9 ms an operation.
        ops = []
        for d in creates + updates:
            if d.remote_id and not self.caps.patch:
                outcomes[d.account_id] = self._update(d)  # GET + PUT, one by one
                continue
            try:
                if d.remote_id:
                    path, method, data = f"/Users/{d.remote_id}", "PATCH", self.patch_payload(d)
                else:
                    path, method = "/Users", "POST"
                    data = self.build_user(d).model_dump(scim_ctx=Context.RESOURCE_CREATION_REQUEST)
            except Exception as exc:  # noqa: BLE001 -- refused by the models: nothing sent
                outcomes[d.account_id] = failure(d.account_id, exc, remote_id=d.remote_id)
                continue
            ops.append((d, {"method": method, "bulkId": str(d.account_id), "path": path,
                            "data": data}))  # fmt: skip
        retry_single: list[tuple[Desired, int]] = []
        for chunk in self._chunks(ops):
            for d, status, result in self._send_bulk(chunk, outcomes):
                if status in (200, 201, 204) and not d.remote_id and not valid_id(result):
                    retry_single.append((d, 409))  # created, but no usable id: find it
                elif status in (200, 201, 204):
                    outcomes[d.account_id] = Outcome(
                        d.account_id, ok=True, remote_id=result or d.remote_id
                    )
                else:
                    retry_single.append((d, status))
        for d, status in retry_single:
            if status == 409 and not d.remote_id:
                outcomes[d.account_id] = self._adopt(d, UniquenessException())
            elif status == 404 and d.remote_id:
                outcomes[d.account_id] = self._create(dataclasses.replace(d, remote_id=""))
            else:
                # Sent alone, the same call answers its own error with its detail.
                outcomes[d.account_id] = self._update(d) if d.remote_id else self._create(d)

    def _chunks(self, ops):
        size = max(1, min(self.caps.bulk_max_operations, self.bulk_operations))
        for i in range(0, len(ops), size):
            yield ops[i : i + size]

    def _send_bulk(self, chunk, outcomes):
        """Send one /Bulk request; yield (desired, status, new id) per operation. A request
        the target's maxPayloadSize refuses is split in halves."""
        try:
            # The operations are JSON of validated models (_bulk_write). The answer is read
            # raw: validating the full user each operation echoes back would cost more.
            payload = {"schemas": [BULK_REQUEST], "Operations": [op for _, op in chunk]}
            limit = self.caps.bulk_max_payload
            if limit and len(json.dumps(payload).encode()) > limit:
                raise InvalidValueException(
                    detail=f"Bulk request payloads are limited to {limit} bytes by the server"
                )
            response = self.scim.bulk(
                payload, check_request_payload=False, check_response_payload=False
            )
        except InvalidValueException as exc:
            if len(chunk) > 1 and "bytes" in str(exc.detail or exc):
                half = len(chunk) // 2
                yield from self._send_bulk(chunk[:half], outcomes)
                yield from self._send_bulk(chunk[half:], outcomes)
                return
            for d, _ in chunk:
                outcomes[d.account_id] = failure(d.account_id, exc, remote_id=d.remote_id)
            return
        except Exception as exc:  # noqa: BLE001
            for d, _ in chunk:
                outcomes[d.account_id] = failure(d.account_id, exc, remote_id=d.remote_id)
            return
        if self.after_bulk is not None:
            self.after_bulk(chunk)
        by_id = {str(d.account_id): d for d, _ in chunk}
        for op in response.get("Operations") or []:
            d = by_id.pop(str(op.get("bulkId") or ""), None)
            if d is None:
                continue
            location = str(op.get("location") or "")
            new_id = location.rstrip("/").rsplit("/", 1)[-1] if location else ""
            try:
                status = int(op.get("status") or 0)
            except (TypeError, ValueError):
                status = 0
            yield d, status, new_id
        for d in by_id.values():  # the target skipped it: send it alone
            yield d, 0, ""

    # -- delete

    def delete(self, items: list[Desired]) -> list[Outcome]:
        try:
            self.caps  # noqa: B018
        except Exception as exc:  # noqa: BLE001
            return [failure(d.account_id, exc) for d in items]
        out: dict[int, Outcome] = {}
        known = []
        for d in items:
            if d.remote_id:
                known.append(d)
                continue
            # No remote id: a creation may have reached the target before a kill -9.
            try:
                found = self.find_user(d.user_id) if self.caps.filter else None
            except Exception as exc:  # noqa: BLE001
                out[d.account_id] = failure(d.account_id, exc)
                continue
            if found is not None and found.external_id == external_id(d.account_id):
                known.append(dataclasses.replace(d, remote_id=found.id))
            else:
                out[d.account_id] = Outcome(d.account_id, ok=True)
        if known and self.use_groups and self.caps.groups:
            known = self._leave_groups(known, out)
        if self.caps.bulk and len(known) > 1:
            ops = [
                (d, {"method": "DELETE", "bulkId": str(d.account_id),
                     "path": f"/Users/{d.remote_id}"})
                for d in known
            ]  # fmt: skip
            for chunk in self._chunks(ops):
                for d, status, _ in self._send_bulk(chunk, out):
                    if status in (204, 200, 404):
                        out[d.account_id] = Outcome(d.account_id, ok=True, remote_id=d.remote_id)
                    else:
                        out[d.account_id] = self._delete_one(d)
        else:
            for d in known:
                out[d.account_id] = self._delete_one(d)
        return [out[d.account_id] for d in items]

    def _leave_groups(self, known: list[Desired], out) -> list[Desired]:
        """Take the users out of their Akun groups before deleting them (not every target
        drops a deleted user's memberships); those whose groups could not be changed are
        not deleted now (a deleted user could not be found in its groups again)."""
        try:
            previous = self._previous_groups(known)
        except Exception as exc:  # noqa: BLE001
            for d in known:
                out[d.account_id] = failure(d.account_id, exc, remote_id=d.remote_id)
            return []
        changes: dict[str, tuple[list[str], list[str]]] = {}
        owner: dict[str, list[Desired]] = {}
        for d in known:
            out[d.account_id] = Outcome(d.account_id, ok=True, remote_id=d.remote_id)
            for g in previous.get(d.remote_id, ()):
                changes.setdefault(g, ([], []))[1].append(d.remote_id)
                owner.setdefault(g, []).append(d)
        self._apply_groups(changes, {}, owner, out)
        return [d for d in known if out[d.account_id].ok]

    def _delete_one(self, d: Desired) -> Outcome:
        try:
            self.scim.delete(self.user_model, d.remote_id)
        except NotFoundException:
            pass  # already gone: what we wanted
        except Exception as exc:  # noqa: BLE001
            return failure(d.account_id, exc, remote_id=d.remote_id)
        return Outcome(d.account_id, ok=True, remote_id=d.remote_id)

    # -- discover (reconcile)

    def list_users(self) -> Iterator:
        """Every user the target lists (ours, by filter, when it can filter), paged."""
        model = self.user_model
        count = max(1, min(PAGE, self.caps.filter_max_results))
        query = f"externalId sw {_quote(EXTERNAL_ID_PREFIX)}" if self.caps.filter else None
        start = 1
        while True:
            page: ListResponse = self.scim.query(
                model, query_parameters=SearchRequest(filter=query, start_index=start, count=count)
            )
            resources = page.resources or []
            yield from resources
            start += len(resources)
            if not resources or start > (page.total_results or 0):
                return

    @staticmethod
    def ours(user) -> bool:
        """Akun manages only the users whose externalId is one of its ids."""
        ext = user.external_id or ""
        return ext.startswith(EXTERNAL_ID_PREFIX) and ext[len(EXTERNAL_ID_PREFIX) :].isdigit()

    def remote_of(self, user) -> Remote:
        e = user[EnterpriseUser] if self.caps.enterprise else None
        name = user.name
        attrs = {
            "role": user.user_type or "",
            "akun_id": (user.external_id or "")[len(EXTERNAL_ID_PREFIX) :],
            "_given_name": (name.given_name if name else "") or "",
            "_family_name": (name.family_name if name else "") or "",
        }
        if e is not None:
            attrs.update(
                npsn=e.organization or "",
                jenjang=e.department or "",
                kode_wilayah=e.cost_center or "",
            )
            if e.employee_number:
                attrs["nisn"] = e.employee_number
        return Remote(
            remote_id=user.id,
            user_id=(user.user_name or "").lower(),
            active=user.active is not False,
            org_unit=(e.division if e else "") or "",
            attributes=attrs,
        )

    def suspend(self, remote_ids: list[str]) -> dict[str, bool]:
        """reconcile --fix: users of ours that Akun has no live account for are made
        inactive (never deleted). remote id -> done."""
        done: dict[str, bool] = {}
        for rid in remote_ids:
            try:
                if self.caps.patch:
                    op = PatchOperation(op="replace", path="active", value=False)
                    self.scim.modify(
                        self.user_model, rid, PatchOp[self.user_model](operations=[op])
                    )
                else:
                    for attempt in range(PUT_ATTEMPTS):
                        current = self.scim.query(self.user_model, rid)
                        current.active = False
                        try:
                            self.scim.replace(current)
                            break
                        except PreconditionFailedException:
                            if attempt == PUT_ATTEMPTS - 1:
                                raise
                done[rid] = True
            except Exception:  # noqa: BLE001
                log.warning("reconcile: could not suspend %s", rid, exc_info=True)
                done[rid] = False
        return done

    def discover(self) -> Iterator[Remote]:
        for user in self.list_users():
            if self.ours(user):  # never an outsider, even where the filter is not served
                yield self.remote_of(user)

    # -- groups

    def groups_of(self, d: Desired) -> dict[str, str]:
        """The groups Akun keeps the user in: externalId -> displayName."""
        a = d.attributes
        wanted = {}
        if a.get("npsn"):
            wanted[school_group(a["npsn"])] = a.get("nama_sekolah") or f"Sekolah {a['npsn']}"
        if a.get("rombel"):
            wanted[f"{GROUP_PREFIX}rombel:{a['rombel']}"] = (
                a.get("nama_rombel") or f"Rombel {a['rombel']}"
            )
        return wanted

    def _previous_groups(self, items: list[Desired]) -> dict[str, set[str]]:
        """remote id -> the Akun groups the user is in at the target now. The school is read
        from the user's enterprise `organization` (Akun wrote it), one search per
        LOOKUP_CHUNK users; without the extension, or for a rombel, the groups are searched
        by member, one search per user."""
        items = [d for d in items if d.remote_id]
        out: dict[str, set[str]] = {d.remote_id: set() for d in items}
        if not items or not self.caps.filter:
            return out  # cannot ask: memberships are only added (docs/provisioning.md)
        by_member = [d for d in items if not self.caps.enterprise or d.attributes.get("rombel")]
        if self.caps.enterprise:
            model = self.user_model
            for i in range(0, len(items), LOOKUP_CHUNK):
                chunk = items[i : i + LOOKUP_CHUNK]
                query = " or ".join(f"id eq {_quote(d.remote_id)}" for d in chunk)
                found = self.scim.query(
                    model,
                    query_parameters=SearchRequest(
                        filter=query, attributes=[f"{ENTERPRISE}:organization"], count=len(chunk)
                    ),
                )
                for u in found.resources or []:
                    e = u[EnterpriseUser]
                    if u.id in out and e is not None and e.organization:
                        out[u.id].add(school_group(e.organization))
        for d in by_member:
            out[d.remote_id] |= self._managed_groups_of(d.remote_id)
        return out

    def _sync_groups(self, items, previous: dict[str, set[str]], outcomes) -> None:
        """Add each written user to its groups (again: adding a member twice changes
        nothing, and it mends an add that failed before) and take users out of the Akun
        groups they left (a move). One change per group, not per member."""
        changes: dict[str, tuple[list[str], list[str]]] = {}  # group -> (add, remove)
        names: dict[str, str] = {}
        owner: dict[str, list[Desired]] = {}
        for d in items:
            o = outcomes[d.account_id]
            if not o.ok or not o.remote_id:
                continue
            wanted = self.groups_of(d)
            names.update(wanted)
            for g in wanted:
                changes.setdefault(g, ([], []))[0].append(o.remote_id)
                owner.setdefault(g, []).append(d)
            for g in previous.get(d.remote_id, set()) - wanted.keys():
                changes.setdefault(g, ([], []))[1].append(o.remote_id)
                owner.setdefault(g, []).append(d)
        self._apply_groups(changes, names, owner, outcomes)

    def _apply_groups(self, changes, names, owner, outcomes) -> None:
        for g in sorted(changes):
            add, remove = changes[g]
            try:
                group_id = self._group_id(g, names.get(g, g)) if add else self._known_group(g)
                if group_id:
                    self._change_members(group_id, add, remove)
            except Exception as exc:  # noqa: BLE001
                for d in owner[g]:
                    o = outcomes[d.account_id]
                    # The user is there (keep its id); the membership is retried with it.
                    outcomes[d.account_id] = failure(d.account_id, exc, remote_id=o.remote_id)

    def _known_group(self, key: str) -> str:
        """A group to take members out of: never created for that."""
        if key in self._group_ids:
            return self._group_ids[key]
        if not self.caps.filter:
            return ""
        res = self.scim.query(
            Group,
            query_parameters=SearchRequest(
                filter=f"externalId eq {_quote(key)}", attributes=["externalId"]
            ),
        )
        found = (res.resources or [None])[0]
        if found is not None:
            self._group_ids[key] = found.id
        return found.id if found is not None else ""

    def _managed_groups_of(self, user_id: str) -> set[str]:
        if not self.caps.filter:
            return set()  # cannot ask: memberships are only added (docs/provisioning.md)
        found = self.scim.query(
            Group,
            query_parameters=SearchRequest(
                filter=f"members.value eq {_quote(user_id)}", attributes=["externalId"]
            ),
        )
        ids = set()
        for g in found.resources or []:
            if (g.external_id or "").startswith(GROUP_PREFIX):
                ids.add(g.external_id)
                self._group_ids.setdefault(g.external_id, g.id)
        return ids

    def _group_id(self, key: str, display: str) -> str:
        if key in self._group_ids:
            return self._group_ids[key]
        found = None
        if self.caps.filter:
            res = self.scim.query(
                Group,
                query_parameters=SearchRequest(
                    filter=f"externalId eq {_quote(key)}", attributes=["externalId"]
                ),
            )
            found = (res.resources or [None])[0]
        if found is None:
            try:
                found = self.scim.create(Group(display_name=display, external_id=key))
            except UniquenessException:
                # displayName taken (by another worker, or by the target's own group)
                found = self._group_by_display(display, key)
        self._group_ids[key] = found.id if found else ""
        return self._group_ids[key]

    def _group_by_display(self, display: str, key: str):
        if not self.caps.filter:
            return None
        res = self.scim.query(
            Group, query_parameters=SearchRequest(filter=f"displayName eq {_quote(display)}")
        )
        g = (res.resources or [None])[0]
        return g if g is not None and g.external_id == key else None

    def _change_members(self, group_id: str, add: list[str], remove: list[str]) -> None:
        if self.caps.patch:
            ops = []
            if add:
                ops.append(
                    PatchOperation(
                        op="add",
                        path="members",
                        value=[GroupMember(value=i, type="User") for i in add],
                    )
                )
            for i in remove:
                ops.append(PatchOperation(op="remove", path=f"members[value eq {_quote(i)}]"))
            self.scim.modify(Group, group_id, PatchOp[Group](operations=ops))
            return
        # No PATCH: read-modify-write of the whole group, If-Match against a lost update
        # by another worker changing the same group.
        for attempt in range(PUT_ATTEMPTS):
            group = self.scim.query(Group, group_id)
            members = [m for m in (group.members or []) if m.value not in set(remove)]
            have = {m.value for m in members}
            members += [GroupMember(value=i, type="User") for i in add if i not in have]
            group.members = members
            try:
                self.scim.replace(group)
                return
            except PreconditionFailedException:
                if attempt == PUT_ATTEMPTS - 1:
                    raise

    def close(self) -> None:
        self.http.close()


PATCH_OP = str(PatchOp.__schema__)
BULK_REQUEST = str(BulkRequest.__schema__)


def _payload(value):
    """A patch value as JSON: Akun's models (the e-mail) as the patch request dumps them."""
    if isinstance(value, list):
        return [_payload(v) for v in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(scim_ctx=Context.RESOURCE_PATCH_REQUEST)
    return value


def _quote(value: str) -> str:
    """A SCIM filter string literal (RFC 7644 §3.4.2.2: JSON string rules)."""
    return json.dumps(value)


def _detail(exc: Exception) -> str:
    if isinstance(exc, SCIMException):
        text = exc.detail or ""
        return (
            f"{exc.status} {exc.scim_type}: {text}".strip()
            if exc.scim_type
            else f"{exc.status} {text}".strip()
        )
    return str(exc)[:500]


def failure(account_id: int, exc: Exception, *, remote_id: str = "") -> Outcome:
    """An exception from the target as a reason an operator reads (reasons.REASONS)."""
    status = 0
    if isinstance(exc, SCIMException):
        status = int(exc.status or 0)
    elif isinstance(exc, UnexpectedStatusCodeException):
        status = int(getattr(exc, "status_code", 0) or 0)
    if isinstance(exc, ValidationError):
        reason, retry = "invalid", False  # refused by the models before anything was sent
    elif isinstance(exc, RequestNetworkException):
        reason, retry = "scim_unreachable", True
    elif status in (401, 403):
        reason, retry = "scim_auth", True
    elif status == 409:
        reason, retry = "conflict", False
    elif status == 412:
        reason, retry = "scim_changed", True
    elif status == 429:
        reason, retry = "quota", True
    elif status == 501:
        reason, retry = "scim_unsupported", False
    elif status >= 500:
        reason, retry = "target_error", True
    elif 400 <= status < 500:
        reason, retry = "invalid", False
    elif isinstance(exc, SCIMClientException):
        reason, retry = "scim_bad_response", True
    else:
        log.exception("unexpected error from a SCIM target", exc_info=exc)
        reason, retry = "target_error", True
    return Outcome(
        account_id, ok=False, remote_id=remote_id, reason=reason, detail=_detail(exc), retry=retry
    )
