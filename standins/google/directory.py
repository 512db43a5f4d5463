"""The directory itself, in memory: users (by id, by e-mail, by org unit, and in e-mail
order for paging), org units and custom schemas; each API method's rules as Google applies
them. Sized for a million users: a user is one dict, the e-mail order is a sorted list plus
a small sorted list of recent additions, merged now and then."""

import base64
import bisect
import copy
import datetime as dt
import hashlib
import itertools
import json
import random
import re
import threading
import time

from standins.google import discovery, errors
from standins.google.errors import GoogleError, invalid

NAME_MAX = 60
# Characters Google refuses in a given or family name.
_NAME_BAD = re.compile(r"[=<>\x00-\x1f\x7f]")
_LOCAL_PART = re.compile(r"^[a-z0-9](?:[a-z0-9._'+-]{0,62}[a-z0-9_])?$")
_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$")
_CRYPT = re.compile(
    r"^\$(?P<alg>[156])\$(?:rounds=(?P<rounds>\d+)\$)?(?P<salt>[./0-9A-Za-z]{1,16})\$"
    r"(?P<hash>[./0-9A-Za-z]+)$"
)
_CRYPT_HASH_LEN = {"1": 22, "5": 43, "6": 86}
_DES = re.compile(r"^[./0-9A-Za-z]{13}$")
_SCHEMA_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
FIELD_TYPES = {"STRING", "INT64", "BOOL", "DOUBLE", "EMAIL", "PHONE", "DATE"}
# User fields that _apply handles itself rather than copying as sent. Read-only fields in a
# request are ignored, as Google ignores them: clients send back what they read.
_USER_WRITABLE_SKIP = {"id", "password", "hashFunction", "primaryEmail", "customSchemas"}


_second = [0, ""]


def _now() -> str:
    t = time.time()
    sec = int(t)
    if _second[0] != sec:
        _second[:] = [sec, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))]
    return f"{_second[1]}.{int((t - sec) * 1000):03d}Z"


def _norm_ou(path: str) -> str:
    path = "/" + path.strip("/")
    return re.sub(r"/+", "/", path)


def _etag(*parts) -> str:
    h = hashlib.blake2b(repr(parts).encode(), digest_size=12).digest()
    return '"' + base64.urlsafe_b64encode(h).decode().rstrip("=") + '"'


class Directory:
    def __init__(self, domain: str = "belajar.test", customer_id: str = "C03az79cb"):
        self.domain = domain.lower()
        self.customer_id = customer_id
        self.lock = threading.RLock()
        self.reset()

    # --- state --------------------------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self.users: dict[str, dict] = {}
            self.by_email: dict[str, str] = {}  # primary e-mail and aliases -> id
            self.by_ou: dict[str, set[str]] = {}
            self._sorted: list[str] = []  # primary e-mails, sorted; may hold stale ones
            self._recent: list[str] = []  # added since the last merge, kept sorted
            self._seq = itertools.count(random.randrange(10**19, 9 * 10**19))
            self.orgunits: dict[str, dict] = {}
            self.ou_ids: dict[str, str] = {}  # "id:..." -> path
            self.schemas: dict[str, dict] = {}
            self._add_ou("/", "", None)

    def _new_id(self) -> str:
        return "1" + str(next(self._seq)).zfill(20)

    def _index_add(self, email: str) -> None:
        bisect.insort(self._recent, email)
        if len(self._recent) > max(4096, len(self._sorted) >> 4):
            self.merge_index()

    def merge_index(self) -> None:
        """Fold recent additions into the sorted list, dropping e-mails no longer primary."""
        merged = self._sorted + self._recent
        merged.sort()
        live = self.users
        by_email = self.by_email
        out = []
        last = None
        for e in merged:
            if e != last and e in by_email and live[by_email[e]]["primaryEmail"] == e:
                out.append(e)
            last = e
        self._sorted = out
        self._recent = []

    def _iter_from(self, after: str, inclusive: bool = False):
        """Ids of live primary e-mails after `after` (or from it), in e-mail order."""
        a, b = self._sorted, self._recent
        find = bisect.bisect_left if inclusive else bisect.bisect_right
        i, j = find(a, after), find(b, after)
        last = None
        by_email, users = self.by_email, self.users
        while i < len(a) or j < len(b):
            if j >= len(b) or (i < len(a) and a[i] <= b[j]):
                e = a[i]
                i += 1
            else:
                e = b[j]
                j += 1
            if e == last:
                continue
            last = e
            uid = by_email.get(e)
            if uid is not None and users[uid]["primaryEmail"] == e:
                yield uid

    # --- org units ---------------------------------------------------------------------

    def _add_ou(self, path: str, name: str, parent: str | None, description: str = "") -> dict:
        ou_id = (
            "id:"
            + hashlib.blake2b(
                path.encode() + str(random.random()).encode(), digest_size=6
            ).hexdigest()
        )
        ou = {
            "kind": "admin#directory#orgUnit",
            "name": name,
            "orgUnitPath": path,
            "orgUnitId": ou_id,
        }
        if description:
            ou["description"] = description
        if parent is not None:
            ou["parentOrgUnitPath"] = parent
            ou["parentOrgUnitId"] = self.orgunits[parent]["orgUnitId"]
        self.orgunits[path] = ou
        self.ou_ids[ou_id] = path
        self.by_ou.setdefault(path, set())
        return ou

    def _ou_path(self, key: str, error: str | None = None) -> str:
        """`error`: the 400 message when the org unit is missing (else 404)."""
        """An org unit by path (with or without the leading slash) or by its id."""
        if key.startswith("id:"):
            path = self.ou_ids.get(key)
        else:
            path = _norm_ou(key)
            path = path if path in self.orgunits else None
        if path is None:
            raise invalid(error) if error else errors.not_found("Org unit not found")
        return path

    def _check_customer(self, customer: str) -> None:
        if customer not in ("my_customer", self.customer_id):
            raise errors.forbidden()

    def _render_ou(self, ou: dict) -> dict:
        out = dict(ou)
        out["etag"] = _etag(ou["orgUnitId"], ou["orgUnitPath"], ou["name"], ou.get("description"))
        return out

    def orgunits_insert(self, p: dict, body: dict):
        self._check_customer(p["customerId"])
        name = body["name"]
        if "/" in name or not name.strip() or len(name) > 255 or _NAME_BAD.search(name):
            raise invalid("Invalid Ou Name")
        if body.get("parentOrgUnitId"):
            parent = self._ou_path(body["parentOrgUnitId"], "Invalid Parent Orgunit Id")
        else:
            parent = body.get("parentOrgUnitPath") or "/"
            if _norm_ou(parent) not in self.orgunits:
                raise invalid("Invalid Parent Orgunit Id")
            parent = _norm_ou(parent)
        path = (parent.rstrip("/") + "/" + name) if parent != "/" else "/" + name
        if path in self.orgunits:
            raise errors.duplicate()
        ou = self._add_ou(path, name, parent, body.get("description") or "")
        return 200, self._render_ou(ou)

    def orgunits_get(self, p: dict, body):
        self._check_customer(p["customerId"])
        path = self._ou_path(p["orgUnitPath"])
        if path == "/":
            raise errors.not_found("Org unit not found")
        return 200, self._render_ou(self.orgunits[path])

    def orgunits_list(self, p: dict, body):
        self._check_customer(p["customerId"])
        base = self._ou_path(p.get("orgUnitPath") or "/")
        kind = p.get("type") or "children"
        prefix = base.rstrip("/") + "/"
        out = []
        for path, ou in self.orgunits.items():
            if path == "/":
                continue
            if kind == "children":
                ok = ou.get("parentOrgUnitPath") == base
            else:
                ok = path.startswith(prefix) or (kind == "allIncludingParent" and path == base)
            if ok:
                out.append(self._render_ou(ou))
        out.sort(key=lambda o: o["orgUnitPath"])
        result = {"kind": "admin#directory#orgUnits", "etag": _etag(len(out), base, kind)}
        if out:
            result["organizationUnits"] = out
        return 200, result

    def orgunits_patch(self, p: dict, body: dict, replace: bool = False):
        self._check_customer(p["customerId"])
        path = self._ou_path(p["orgUnitPath"])
        if path == "/":
            raise invalid("Invalid Ou Id")
        ou = self.orgunits[path]
        name = body.get("name") or ou["name"]
        if "/" in name or _NAME_BAD.search(name) or not name.strip():
            raise invalid("Invalid Ou Name")
        parent = ou["parentOrgUnitPath"]
        if body.get("parentOrgUnitId"):
            parent = self._ou_path(body["parentOrgUnitId"], "Invalid Parent Orgunit Id")
        elif body.get("parentOrgUnitPath"):
            parent = _norm_ou(body["parentOrgUnitPath"])
            if parent not in self.orgunits:
                raise invalid("Invalid Parent Orgunit Id")
        new_path = (parent.rstrip("/") + "/" + name) if parent != "/" else "/" + name
        if new_path != path:
            if new_path in self.orgunits:
                raise errors.duplicate()
            if new_path.startswith(path + "/"):
                raise invalid("Invalid Parent Orgunit Id")
            self._move_ou(path, new_path)
        ou = self.orgunits[new_path]
        ou["name"] = name
        if "description" in body or replace:
            ou["description"] = body.get("description") or ""
        return 200, self._render_ou(ou)

    def orgunits_update(self, p: dict, body: dict):
        return self.orgunits_patch(p, body, replace=True)

    def _move_ou(self, old: str, new: str) -> None:
        moves = [x for x in self.orgunits if x == old or x.startswith(old + "/")]
        for x in sorted(moves, key=len):
            y = new + x[len(old) :]
            ou = self.orgunits.pop(x)
            ou["orgUnitPath"] = y
            if x == old:
                parent = new.rsplit("/", 1)[0] or "/"
                ou["parentOrgUnitPath"] = parent
                ou["parentOrgUnitId"] = self.orgunits[parent]["orgUnitId"]
            else:
                ou["parentOrgUnitPath"] = new + ou["parentOrgUnitPath"][len(old) :]
            self.orgunits[y] = ou
            self.ou_ids[ou["orgUnitId"]] = y
            members = self.by_ou.pop(x, set())
            for uid in members:
                self.users[uid]["orgUnitPath"] = y
            self.by_ou[y] = members

    def orgunits_delete(self, p: dict, body):
        self._check_customer(p["customerId"])
        path = self._ou_path(p["orgUnitPath"])
        if path == "/":
            raise invalid("Invalid Ou Id")
        if self.by_ou.get(path):
            raise GoogleError(
                400,
                "failedPrecondition",
                "Cannot delete an organizational unit that contains users.",
            )
        if any(x.startswith(path + "/") for x in self.orgunits):
            raise GoogleError(
                400, "failedPrecondition", "Cannot delete an organizational unit that has children."
            )
        ou = self.orgunits.pop(path)
        self.ou_ids.pop(ou["orgUnitId"], None)
        self.by_ou.pop(path, None)
        return 204, None

    # --- schemas ----------------------------------------------------------------------

    def _render_schema(self, s: dict) -> dict:
        out = copy.deepcopy(s)
        out["etag"] = _etag(json.dumps(s, sort_keys=True))
        return out

    def _schema(self, key: str) -> dict:
        s = self.schemas.get(key)
        if s is None:
            s = next((x for x in self.schemas.values() if x["schemaId"] == key), None)
        if s is None:
            raise errors.not_found("Resource Not Found: schemaKey")
        return s

    def _check_schema_fields(self, fields: list[dict]) -> list[dict]:
        out = []
        seen = set()
        for f in fields:
            name = f["fieldName"]
            if not _SCHEMA_NAME.match(name) or name.lower() in seen:
                raise invalid(f"Invalid Input: field name {name}")
            seen.add(name.lower())
            if f["fieldType"] not in FIELD_TYPES:
                raise invalid(f"Invalid Input: field type {f['fieldType']}")
            spec = {
                "kind": "admin#directory#schema#fieldspec",
                "fieldId": hashlib.blake2b(name.encode(), digest_size=8).hexdigest(),
                "fieldName": name,
                "fieldType": f["fieldType"],
                "displayName": f.get("displayName") or name,
                "multiValued": bool(f.get("multiValued", False)),
                "indexed": f.get("indexed", True) is not False,
                "readAccessType": f.get("readAccessType") or "ALL_DOMAIN_USERS",
            }
            if f["fieldType"] in ("INT64", "DOUBLE") and f.get("numericIndexingSpec"):
                spec["numericIndexingSpec"] = f["numericIndexingSpec"]
            if spec["readAccessType"] not in ("ALL_DOMAIN_USERS", "ADMINS_AND_SELF"):
                raise invalid("Invalid Input: readAccessType")
            out.append(spec)
        return out

    def schemas_insert(self, p: dict, body: dict):
        self._check_customer(p["customerId"])
        name = body["schemaName"]
        if not _SCHEMA_NAME.match(name):
            raise invalid(f"Invalid Input: schema name {name}")
        if name in self.schemas:
            raise errors.duplicate()
        s = {
            "kind": "admin#directory#schema",
            "schemaId": hashlib.blake2b(name.encode(), digest_size=8).hexdigest(),
            "schemaName": name,
            "displayName": body.get("displayName") or name,
            "fields": self._check_schema_fields(body["fields"]),
        }
        self.schemas[name] = s
        return 200, self._render_schema(s)

    def schemas_get(self, p: dict, body):
        self._check_customer(p["customerId"])
        return 200, self._render_schema(self._schema(p["schemaKey"]))

    def schemas_list(self, p: dict, body):
        self._check_customer(p["customerId"])
        items = [self._render_schema(s) for s in self.schemas.values()]
        out = {"kind": "admin#directory#schemas", "etag": _etag(len(items))}
        if items:
            out["schemas"] = items
        return 200, out

    def schemas_update(self, p: dict, body: dict, patch: bool = False):
        self._check_customer(p["customerId"])
        s = self._schema(p["schemaKey"])
        if "fields" in body or not patch:
            s["fields"] = self._check_schema_fields(body.get("fields") or [])
        if body.get("displayName"):
            s["displayName"] = body["displayName"]
        return 200, self._render_schema(s)

    def schemas_patch(self, p: dict, body: dict):
        return self.schemas_update(p, body, patch=True)

    def schemas_delete(self, p: dict, body):
        self._check_customer(p["customerId"])
        s = self._schema(p["schemaKey"])
        del self.schemas[s["schemaName"]]
        return 204, None

    def _check_custom(self, custom: dict) -> dict:
        """customSchemas on a user: every schema and field must exist, values of its type."""
        out = {}
        for sname, values in custom.items():
            schema = self.schemas.get(sname)
            if schema is None:
                raise invalid(f"Invalid Input: custom schema {sname} not found")
            if values is None:
                out[sname] = None
                continue
            if not isinstance(values, dict):
                raise invalid(f"Invalid Input: customSchemas.{sname}")
            fields = {f["fieldName"]: f for f in schema["fields"]}
            clean = {}
            for fname, v in values.items():
                spec = fields.get(fname)
                if spec is None:
                    raise invalid(f"Invalid Input: custom field {sname}.{fname} not found")
                if v is None:
                    clean[fname] = None
                    continue
                if spec["multiValued"]:
                    if not isinstance(v, list):
                        raise invalid(f"Invalid Input: {sname}.{fname} is multi-valued")
                    items = []
                    for item in v:
                        if (
                            not isinstance(item, dict)
                            or "value" not in item
                            or not set(item) <= {"value", "type", "customType"}
                        ):
                            raise invalid(f"Invalid Input: {sname}.{fname}")
                        items.append({**item, "value": self._field_value(spec, item["value"])})
                    clean[fname] = items
                else:
                    clean[fname] = self._field_value(spec, v)
            out[sname] = clean
        return out

    @staticmethod
    def _field_value(spec: dict, v):
        t = spec["fieldType"]
        if t == "STRING" and isinstance(v, str) and len(v) <= 500 and "\x00" not in v:
            return v  # the common case, first
        bad = invalid(f"Invalid Input: custom field {spec['fieldName']} ({t})")
        if t in ("STRING", "PHONE"):
            if not isinstance(v, str) or len(v) > 500 or "\x00" in v:
                raise bad
            return v
        if t == "EMAIL":
            if not isinstance(v, str) or "@" not in v:
                raise bad
            return v
        if t == "BOOL":
            if not isinstance(v, bool):
                raise bad
            return v
        if t == "INT64":
            if isinstance(v, bool):
                raise bad
            if isinstance(v, int) or (isinstance(v, str) and re.fullmatch(r"-?\d{1,19}", v)):
                return str(v)  # Google answers int64 as a string
            raise bad
        if t == "DOUBLE":
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise bad
            return v
        if t == "DATE":
            if not isinstance(v, str):
                raise bad
            try:
                dt.date.fromisoformat(v)
            except ValueError:
                raise bad from None
            return v
        raise bad

    # --- users ------------------------------------------------------------------------

    def _email(self, value: str) -> str:
        email = value.strip().lower()
        local, _, domain = email.rpartition("@")
        if not local or not _LOCAL_PART.match(local) or ".." in local or not _DOMAIN.match(domain):
            raise invalid("Invalid Input: primary_user_email")
        if domain != self.domain and not domain.endswith("." + self.domain):
            raise errors.not_found("Domain not found.")
        return email

    @staticmethod
    def _check_name(name: dict, partial: bool) -> dict:
        out = {}
        for key, label in (("givenName", "GivenName"), ("familyName", "FamilyName")):
            v = name.get(key)
            if v is None:
                if not partial:
                    raise GoogleError(400, "required", f"Invalid Given/Family Name: {label}")
                continue
            if not v.strip() or len(v) > NAME_MAX or _NAME_BAD.search(v):
                raise invalid(f"Invalid Given/Family Name: {label}")
            out[key] = v
        if name.get("displayName") is not None:
            if len(name["displayName"]) > 256:
                raise invalid("Invalid Input: displayName")
            out["displayName"] = name["displayName"]
        return out

    @staticmethod
    def _check_password(password: str, hash_function: str | None) -> None:
        bad = invalid("Invalid Password")
        if hash_function is None:
            if not 8 <= len(password) <= 100 or any(ord(c) < 32 or ord(c) > 126 for c in password):
                raise bad
        elif hash_function == "crypt":
            m = _CRYPT.match(password)
            if m:
                if len(m["hash"]) != _CRYPT_HASH_LEN[m["alg"]]:
                    raise bad
                if m["rounds"] is not None and not 1000 <= int(m["rounds"]) <= 10000:
                    raise bad
            elif not _DES.match(password):
                raise bad
        elif hash_function == "SHA-1":
            if not re.fullmatch(r"[0-9a-fA-F]{40}", password):
                raise bad
        elif hash_function == "MD5":
            if not re.fullmatch(r"[0-9a-fA-F]{32}", password):
                raise bad
        else:
            raise invalid("Invalid Input: hashFunction")

    def _user(self, key: str) -> dict:
        uid = key if key in self.users else self.by_email.get(key.strip().lower())
        if uid is None:
            raise errors.not_found("Resource Not Found: userKey")
        return self.users[uid]

    def _set_ou(self, user: dict, path: str) -> None:
        old = user.get("orgUnitPath")
        if old is not None:
            self.by_ou[old].discard(user["id"])
        path = self.orgunits[path]["orgUnitPath"]  # one string per org unit, shared
        user["orgUnitPath"] = path
        self.by_ou[path].add(user["id"])

    def _apply(self, user: dict, body: dict, partial: bool) -> None:
        """Writable fields of `body` onto `user` (checked first, so a refusal changes nothing)."""
        name = None
        if "name" in body and body["name"] is not None:
            base = dict(user.get("name") or {}) if partial else {}
            base.update({k: v for k, v in body["name"].items() if v is not None})
            name = self._check_name(base, partial=False)
        elif not partial and not user.get("name"):
            raise GoogleError(400, "required", "Invalid Given/Family Name: GivenName")
        ou = None
        if body.get("orgUnitPath") is not None:
            ou = self._ou_path(body["orgUnitPath"], "Invalid Input: INVALID_OU_ID")
            if not body["orgUnitPath"].startswith(("/", "id:")):
                raise invalid("Invalid Input: INVALID_OU_ID")
        custom = None
        if body.get("customSchemas") is not None:
            custom = self._check_custom(body["customSchemas"])
        if body.get("password") is not None:
            hf = body.get("hashFunction")
            self._check_password(body["password"], hf)
        elif body.get("hashFunction") is not None and not partial:
            raise invalid("Invalid Password")
        for f in ("recoveryEmail",):
            v = body.get(f)
            if v and "@" not in v:
                raise invalid(f"Invalid Input: {f}")
        # all checked: now write
        if not partial:
            keep = {
                "id",
                "primaryEmail",
                "creationTime",
                "customerId",
                "orgUnitPath",
                "password",
                "hashFunction",
                "aliases",
                "_v",
            }
            for k in [k for k in user if k not in keep]:
                del user[k]
        if name is not None:
            user["name"] = name
        if ou is not None:
            self._set_ou(user, ou)
        elif "orgUnitPath" not in user:
            self._set_ou(user, "/")
        if custom is not None:
            merged = dict(user.get("customSchemas") or {}) if partial else {}
            for sname, values in custom.items():
                if values is None:
                    merged.pop(sname, None)
                    continue
                cur = dict(merged.get(sname) or {}) if partial else {}
                for k, v in values.items():
                    if v is None:
                        cur.pop(k, None)
                    else:
                        cur[k] = v
                if cur:
                    merged[sname] = cur
                else:
                    merged.pop(sname, None)
            if merged:
                user["customSchemas"] = merged
            else:
                user.pop("customSchemas", None)
        if body.get("password") is not None:
            user["password"] = body["password"]
            if body.get("hashFunction") is not None:
                user["hashFunction"] = body["hashFunction"]
            else:
                user.pop("hashFunction", None)
        props = discovery.schema("User")["properties"]
        for k, v in body.items():
            if k in _USER_WRITABLE_SKIP or k in ("name", "orgUnitPath"):
                continue
            if props[k].get("readOnly"):
                continue
            if v is None:
                user.pop(k, None)
            else:
                user[k] = v
        user["_v"] = user.get("_v", 0) + 1

    def _rename(self, user: dict, email: str) -> None:
        old = user["primaryEmail"]
        if email == old:
            return
        owner = self.by_email.get(email)
        if owner is not None and owner != user["id"]:
            raise errors.duplicate()
        # the old address stays as an alias, as Google keeps it
        user.setdefault("aliases", []).append(old)
        aliases = user["aliases"]
        if email in aliases:
            aliases.remove(email)
        user["primaryEmail"] = email
        self.by_email[email] = user["id"]
        self._index_add(email)

    def users_insert(self, p: dict, body: dict):
        return 200, self.render_user(self.insert_user(body), "full", None, insert=True)

    def insert_user(self, body: dict) -> dict:
        email = self._email(body["primaryEmail"])
        if email in self.by_email:
            raise errors.duplicate()
        uid = self._new_id()
        user = {
            "id": uid,
            "primaryEmail": email,
            "creationTime": _now(),
            "customerId": self.customer_id,
        }
        self._apply(user, body, partial=False)
        self.users[uid] = user
        self.by_email[email] = uid
        self._index_add(email)
        return user

    def users_get(self, p: dict, body):
        user = self._user(p["userKey"])
        return 200, self.render_user(user, p.get("projection"), p.get("customFieldMask"))

    def users_patch(self, p: dict, body: dict, partial: bool = True):
        user = self._user(p["userKey"])
        new_email = None
        if body.get("primaryEmail") is not None:
            new_email = self._email(body["primaryEmail"])
            owner = self.by_email.get(new_email)
            if owner is not None and owner != user["id"]:
                raise errors.duplicate()
        self._apply(user, body, partial=partial)
        if new_email is not None:
            self._rename(user, new_email)
        return 200, self.render_user(user, "full", None)

    def users_update(self, p: dict, body: dict):
        return self.users_patch(p, body, partial=False)

    def users_delete(self, p: dict, body):
        user = self._user(p["userKey"])
        self.by_ou[user["orgUnitPath"]].discard(user["id"])
        del self.users[user["id"]]
        self.by_email.pop(user["primaryEmail"], None)
        for a in user.get("aliases", ()):
            self.by_email.pop(a, None)
        return 204, None

    def render_user(
        self, user: dict, projection: str | None, mask: str | None, insert: bool = False
    ) -> dict:
        name = user.get("name") or {}
        full = {"givenName": name.get("givenName", ""), "familyName": name.get("familyName", "")}
        full["fullName"] = f"{full['givenName']} {full['familyName']}".strip()
        if name.get("displayName"):
            full["displayName"] = name["displayName"]
        out = {
            "kind": "admin#directory#user",
            "id": user["id"],
            "etag": f'"{user["id"]}/{user["_v"]}"',
            "primaryEmail": user["primaryEmail"],
            "name": full,
            "isAdmin": False,
            "isDelegatedAdmin": False,
            "creationTime": user["creationTime"],
            "customerId": user["customerId"],
            "orgUnitPath": user["orgUnitPath"],
            "isMailboxSetup": True,
            "includeInGlobalAddressList": user.get("includeInGlobalAddressList", True),
        }
        if not insert:
            out.update(
                lastLoginTime="1970-01-01T00:00:00.000Z",
                agreedToTerms=False,
                suspended=user.get("suspended", False),
                archived=user.get("archived", False),
                changePasswordAtNextLogin=user.get("changePasswordAtNextLogin", False),
                ipWhitelisted=user.get("ipWhitelisted", False),
                emails=[{"address": user["primaryEmail"], "primary": True}],
                isEnrolledIn2Sv=False,
                isEnforcedIn2Sv=False,
            )
            if out["suspended"]:
                out["suspensionReason"] = "ADMIN"
        for k, v in user.items():
            if k not in out and k not in (
                "password",
                "hashFunction",
                "name",
                "customSchemas",
                "_v",
            ):
                out[k] = v
        custom = user.get("customSchemas")
        if custom:
            if projection == "full" or insert:
                out["customSchemas"] = custom
            elif projection == "custom":
                wanted = {s.strip() for s in (mask or "").split(",") if s.strip()}
                picked = {k: v for k, v in custom.items() if k in wanted}
                if picked:
                    out["customSchemas"] = picked
        return out

    def stored_user(self, key: str) -> dict | None:
        """The stored record, password hash included (Google never answers it): for tests."""
        try:
            return copy.deepcopy(self._user(key))
        except GoogleError:
            return None

    # --- users.list -------------------------------------------------------------------

    def users_list(self, p: dict, body):
        customer, domain = p.get("customer"), p.get("domain")
        if customer is None and domain is None:
            raise errors.bad_request()
        if customer is not None:
            self._check_customer(customer)
        if domain is not None:
            domain = domain.lower()
            if domain != self.domain and not domain.endswith("." + self.domain):
                raise errors.forbidden()
        if p.get("showDeleted") == "true":
            # deleted users are not kept (see docs): an empty page, as for a domain with none
            return 200, {"kind": "admin#directory#users", "etag": _etag("deleted")}
        size = int(p.get("maxResults") or 100)
        preds, ou, prefix = _parse_query(p.get("query") or "", self)
        if domain is not None:
            suffix = "@" + domain
            preds.append(lambda u: u["primaryEmail"].endswith(suffix))
        order = p.get("orderBy")
        desc = p.get("sortOrder") == "DESCENDING"
        key = _token_key(p)
        token = p.get("pageToken")
        cursor = ""
        offset = 0
        if token:
            try:
                t = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
                if t["k"] != key:
                    raise ValueError
                cursor, offset = t.get("c", ""), int(t.get("o", 0))
            except (ValueError, KeyError, TypeError, json.JSONDecodeError):
                raise invalid("Invalid Input: pageToken") from None

        page: list[dict] = []
        more = False
        if (order in (None, "email")) and not desc:
            if ou is not None:
                # a subtree's members: a set, so pick the next page without sorting it all
                import heapq

                ids = self._ou_members(ou)
                users = self.users
                cands = (users[i] for i in ids)
                if cursor:
                    cands = (u for u in cands if u["primaryEmail"] > cursor)
                if preds:
                    cands = (u for u in cands if all(f(u) for f in preds))
                page = heapq.nsmallest(size + 1, cands, key=lambda u: u["primaryEmail"])
            else:
                start, inclusive = cursor, False
                if prefix and prefix > cursor:
                    start, inclusive = prefix, True
                for uid in self._iter_from(start, inclusive):
                    u = self.users[uid]
                    if prefix and not u["primaryEmail"].startswith(prefix):
                        break
                    if all(f(u) for f in preds):
                        page.append(u)
                        if len(page) > size:
                            break
            if len(page) > size:
                more = True
                page = page[:size]
            next_token = {"k": key, "c": page[-1]["primaryEmail"]} if more else None
        else:
            ids = self._ou_members(ou) if ou is not None else self.users.keys()
            everyone = [self.users[i] for i in ids]
            everyone = [u for u in everyone if all(f(u) for f in preds)]
            field = {"email": "primaryEmail"}.get(order or "email")

            def sort_key(u):
                if field == "primaryEmail":
                    return u["primaryEmail"]
                return ((u.get("name") or {}).get(order, "").lower(), u["primaryEmail"])

            everyone.sort(key=sort_key, reverse=desc)
            page = everyone[offset : offset + size]
            more = offset + size < len(everyone)
            next_token = {"k": key, "o": offset + size} if more else None

        proj, mask = p.get("projection"), p.get("customFieldMask")
        out = {
            "kind": "admin#directory#users",
            "etag": _etag(len(page), cursor, offset),
        }
        if page:
            out["users"] = [self.render_user(u, proj, mask) for u in page]
        if next_token:
            raw = json.dumps(next_token, separators=(",", ":")).encode()
            out["nextPageToken"] = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return 200, out

    def _ou_members(self, ou: str):
        prefix = ou.rstrip("/") + "/"
        if ou == "/":
            return self.users.keys()
        ids: set[str] = set(self.by_ou.get(ou, ()))
        for path, members in self.by_ou.items():
            if path.startswith(prefix):
                ids |= members
        return ids


def _token_key(p: dict) -> str:
    parts = [p.get(k) or "" for k in ("customer", "domain", "query", "orderBy", "sortOrder")]
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=6).hexdigest()


_CLAUSE = re.compile(
    r"""\s*(?:(?P<field>[A-Za-z][A-Za-z0-9_.]*)\s*(?P<op>=|:)\s*)?"""
    r"""(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s]+)"""
)

_BOOL_FIELDS = {"isSuspended": "suspended", "isArchived": "archived"}


def _parse_query(text: str, d: Directory):
    """Google's user search: space-separated clauses, implicitly ANDed. Returns the
    predicates, an org unit (orgUnitPath= matches its whole subtree) and an e-mail prefix
    the scan can start from."""
    preds = []
    ou = None
    prefix = None
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _CLAUSE.match(text, pos)
        if not m or m.end() == pos:
            raise invalid("Invalid Input: query")
        pos = m.end()
        field, op, value = m["field"], m["op"], m["value"]
        if value[:1] in "'\"" and len(value) >= 2:
            value = value[1:-1].replace("\\'", "'").replace('\\"', '"')
        star = op == ":" and value.endswith("*")
        v = value.rstrip("*").lower() if star else value.lower()
        if field is None:

            def pred(u, v=v):
                n = u.get("name") or {}
                return any(
                    v in s.lower()
                    for s in (u["primaryEmail"], n.get("givenName", ""), n.get("familyName", ""))
                )

            preds.append(pred)
        elif field == "orgUnitPath":
            if op != "=":
                raise invalid("Invalid Input: query")
            path = _norm_ou(value)
            if path not in d.orgunits:
                raise invalid("Invalid Input: INVALID_OU_ID")
            ou = path if ou is None else ou
            if path != ou:
                preds.append(
                    lambda u, path=path: (
                        u["orgUnitPath"] == path
                        or u["orgUnitPath"].startswith(path.rstrip("/") + "/")
                    )
                )
        elif field == "email":
            if star and prefix is None and v:
                prefix = v  # the scan starts at the prefix, in e-mail order
            elif star:
                preds.append(lambda u, v=v: u["primaryEmail"].startswith(v))
            elif op == "=":
                preds.append(lambda u, v=v: u["primaryEmail"] == v or v in u.get("aliases", ()))
            else:
                preds.append(lambda u, v=v: v in u["primaryEmail"])
        elif field in ("givenName", "familyName", "name"):

            def pred(u, field=field, v=v, op=op, star=star):
                n = u.get("name") or {}
                s = (
                    f"{n.get('givenName', '')} {n.get('familyName', '')}"
                    if field == "name"
                    else n.get(field, "")
                ).lower()
                if op == "=":
                    return s == v
                return s.startswith(v) if star else v in s

            preds.append(pred)
        elif field in _BOOL_FIELDS or field in ("isAdmin", "isDelegatedAdmin"):
            if v not in ("true", "false"):
                raise invalid("Invalid Input: query")
            attr = _BOOL_FIELDS.get(field)
            want = v == "true"
            preds.append(
                lambda u, attr=attr, want=want: (
                    bool(u.get(attr, False)) == want if attr else not want
                )
            )
        elif "." in field:
            sname, fname = field.split(".", 1)
            schema = d.schemas.get(sname)
            if schema is None or fname not in {f["fieldName"] for f in schema["fields"]}:
                raise invalid("Invalid Input: query")

            def pred(u, sname=sname, fname=fname, v=v, op=op, star=star):
                raw = ((u.get("customSchemas") or {}).get(sname) or {}).get(fname)
                vals = [x["value"] for x in raw] if isinstance(raw, list) else [raw]
                for x in vals:
                    if x is None:
                        continue
                    s = (json.dumps(x) if isinstance(x, bool) else str(x)).lower()
                    if (op == "=" and s == v) or (
                        op == ":" and (s.startswith(v) if star else v in s)
                    ):
                        return True
                return False

            preds.append(pred)
        else:
            raise invalid("Invalid Input: query")
    return preds, ou, prefix
