"""The discovery document that google-api-python-client ships for admin directory_v1: the
routes (method + path), the parameters and the schemas every request is checked against."""

import functools
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from standins.google.errors import GoogleError, invalid

_TYPE_NAMES = {
    "string": "TYPE_STRING",
    "boolean": "TYPE_BOOL",
    "integer": "TYPE_INT32",
    "number": "TYPE_DOUBLE",
}


@functools.cache
def document() -> dict:
    import googleapiclient

    path = (
        Path(googleapiclient.__file__).parent
        / "discovery_cache"
        / "documents"
        / "admin.directory_v1.json"
    )
    return json.loads(path.read_text())


@dataclass
class Method:
    id: str  # directory.users.insert
    http_method: str
    path: str  # admin/directory/v1/users/{userKey}
    regex: re.Pattern
    path_params: list[str]
    parameters: dict
    request_ref: str | None
    response_ref: str | None
    scopes: frozenset[str]
    required_params: list[str] = field(default_factory=list)
    prefix: str = ""  # the literal path before the first parameter


def _compile(path: str) -> tuple[re.Pattern, list[str]]:
    names: list[str] = []
    out = []
    pos = 0
    for m in re.finditer(r"\{(\+?)([A-Za-z0-9_]+)\}", path):
        out.append(re.escape(path[pos : m.start()]))
        names.append(m.group(2))
        # {+name}: reserved expansion, may hold slashes (orgUnitPath)
        out.append(f"(?P<{m.group(2)}>.+)" if m.group(1) else f"(?P<{m.group(2)}>[^/]+)")
        pos = m.end()
    out.append(re.escape(path[pos:]))
    return re.compile("^/" + "".join(out) + "$"), names


@functools.cache
def methods() -> dict[str, list[Method]]:
    """Every method of the document, by HTTP method; the most literal paths first."""
    by_verb: dict[str, list[Method]] = {}

    def walk(resources: dict) -> None:
        for res in resources.values():
            for md in res.get("methods", {}).values():
                regex, names = _compile(md["path"])
                params = md.get("parameters", {})
                by_verb.setdefault(md["httpMethod"], []).append(
                    Method(
                        id=md["id"],
                        http_method=md["httpMethod"],
                        path=md["path"],
                        regex=regex,
                        path_params=names,
                        parameters=params,
                        request_ref=(md.get("request") or {}).get("$ref"),
                        response_ref=(md.get("response") or {}).get("$ref"),
                        scopes=frozenset(md.get("scopes", ())),
                        required_params=[
                            k
                            for k, p in params.items()
                            if p.get("required") and p.get("location") == "query"
                        ],
                        prefix="/" + md["path"].split("{", 1)[0],
                    )
                )
            walk(res.get("resources", {}))

    walk(document()["resources"])
    for ms in by_verb.values():
        # the most literal path wins: .../orgunits/{+orgUnitPath} before .../{+name}
        ms.sort(key=lambda m: (-len(re.sub(r"\{[^}]*\}", "", m.path)), m.path.count("{")))
    return by_verb


def route(http_method: str, path: str) -> tuple[Method, dict[str, str]] | None:
    """The document's method for this request path (percent-decoded path parameters)."""
    for m in methods().get(http_method, ()):
        if not path.startswith(m.prefix):
            continue
        match = m.regex.match(path)
        if match:
            return m, {k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}
    return None


def path_exists(path: str) -> bool:
    return any(m.regex.match(path) for ms in methods().values() for m in ms)


# --- query parameters ------------------------------------------------------------------


def check_query(method: Method, query: dict[str, list[str]]) -> dict[str, str]:
    """The query parameters, checked against the method's and the document's: unknown
    names, enums, integer ranges. Returns a flat dict (last value wins, as Google's does)."""
    glob = document()["parameters"]
    out: dict[str, str] = {}
    for name, values in query.items():
        spec = method.parameters.get(name) or glob.get(name)
        if spec is None or spec.get("location") == "path":
            raise invalid(
                f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query '
                f"parameter. Field '{name}' could not be found in request message."
            )
        value = values[-1]
        if "enum" in spec and value not in spec["enum"]:
            raise invalid(f"Invalid value at '{name}', \"{value}\"")
        if spec.get("type") == "integer":
            try:
                n = int(value)
            except ValueError:
                raise invalid(f"Invalid value at '{name}' (TYPE_INT32), \"{value}\"") from None
            lo, hi = spec.get("minimum"), spec.get("maximum")
            if (lo is not None and n < int(lo)) or (hi is not None and n > int(hi)):
                raise invalid(
                    f"Invalid value '{value}'. Values must be within the range: [{lo}, {hi}]"
                )
        if spec.get("type") == "boolean" and value not in ("true", "false"):
            raise invalid(f"Invalid value at '{name}' (TYPE_BOOL), \"{value}\"")
        out[name] = value
    for name in method.required_params:
        if name not in out:
            raise GoogleError(400, "required", f"Required parameter: {name}")
    return out


# --- request bodies --------------------------------------------------------------------


@functools.cache
def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def schema(ref: str) -> dict:
    return document()["schemas"][ref]


def validate_body(method: Method, body: object) -> None:
    """The request body against the method's request schema: unknown fields and wrong types
    are refused with Google's messages; then the fields the document marks required for
    this method (annotations.required) must be there."""
    if method.request_ref is None:
        return
    if not isinstance(body, dict):
        raise invalid(
            "Invalid JSON payload received. Expected an object as the request body."
            if body is not None
            else "Invalid JSON payload received. Unexpected token."
        )
    _check(body, schema(method.request_ref), "resource", [])
    _check_required(body, schema(method.request_ref), method.id, "")


def _check(value: object, spec: dict, where: str, seen: list) -> None:
    if "$ref" in spec:
        spec = schema(spec["$ref"])
    kind = spec.get("type")
    if value is None or kind == "any":
        return
    if kind == "object":
        if not isinstance(value, dict):
            raise invalid(f"Invalid value at '{where}' (TYPE_MESSAGE), {json.dumps(value)}")
        props = spec.get("properties")
        extra = spec.get("additionalProperties")
        for k, v in value.items():
            if props is not None and k in props:
                _check(v, props[k], f"{where}.{_snake(k)}", seen)
            elif extra is not None:
                _check(v, extra, f"{where}[{json.dumps(k)}]", seen)
            else:
                raise invalid(
                    f"Invalid JSON payload received. Unknown name \"{k}\" at '{where}': "
                    "Cannot find field."
                )
        return
    if kind == "array":
        if not isinstance(value, list):
            raise invalid(f"Invalid value at '{where}' (TYPE_MESSAGE), {json.dumps(value)}")
        for i, item in enumerate(value):
            _check(item, spec.get("items", {}), f"{where}[{i}]", seen)
        return
    ok = True
    if kind == "string":
        ok = isinstance(value, str)
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif kind == "integer":
        # proto3 JSON: a number, or a decimal string (int64 always travels as one)
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and re.fullmatch(r"-?\d+", value) is not None
        )
    elif kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok:
        raise invalid(
            f"Invalid value at '{where}' ({_TYPE_NAMES.get(kind, 'TYPE_MESSAGE')}), "
            f"{json.dumps(value)}"
        )


def _check_required(value: dict, spec: dict, method_id: str, prefix: str) -> None:
    for name, need, sub_ref, many in _required_plan(spec["id"], method_id):
        v = value.get(name)
        if need and (v is None or v == "" or v == []):
            raise GoogleError(400, "required", f"Required field must not be blank: {prefix}{name}")
        if sub_ref is None:
            continue
        for item in v if many and isinstance(v, list) else [v]:
            if isinstance(item, dict):
                _check_required(item, schema(sub_ref), method_id, f"{prefix}{name}.")


@functools.cache
def _required_plan(ref: str, method_id: str) -> tuple:
    """The fields of a schema that a method requires, or whose sub-schemas have required
    fields: (name, required, sub-schema, is-a-list) each. Checked on every call: kept short."""
    plan = []
    for name, prop in (schema(ref).get("properties") or {}).items():
        need = method_id in (prop.get("annotations") or {}).get("required", ())
        many = prop.get("type") == "array"
        sub = prop.get("$ref") or (prop.get("items", {}).get("$ref") if many else None)
        if sub is not None and not _required_plan(sub, method_id):
            sub = None
        if need or sub is not None:
            plan.append((name, need, sub, many))
    return tuple(plan)


# --- partial responses (the `fields` parameter) ----------------------------------------


def parse_fields(text: str) -> dict:
    """`users(primaryEmail,name/givenName),nextPageToken` -> a tree of names (None: all)."""
    pos = 0

    def parse_list(end: str | None) -> dict:
        nonlocal pos
        tree: dict = {}
        while True:
            start = pos
            while pos < len(text) and text[pos] not in ",()":
                pos += 1
            path = text[start:pos].strip()
            if not path:
                raise ValueError(text)
            sub = None
            if pos < len(text) and text[pos] == "(":
                pos += 1
                sub = parse_list(")")
            node = tree
            parts = path.split("/")
            for p in parts[:-1]:
                if not p:
                    raise ValueError(text)
                nxt = node.get(p, {})
                if nxt is None:
                    break
                node[p] = nxt
                node = nxt
            else:
                if not parts[-1]:
                    raise ValueError(text)
                node[parts[-1]] = _merge(node.get(parts[-1], {}), sub) if parts[-1] in node else sub
            if pos >= len(text):
                if end is not None:
                    raise ValueError(text)
                return tree
            c = text[pos]
            pos += 1
            if c == ",":
                continue
            if c == end:
                return tree
            raise ValueError(text)

    return parse_list(None)


def _merge(a, b):
    if a is None or b is None:
        return None
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if k in out else v
    return out


def check_fields(tree: dict, ref: str | None) -> None:
    """Every name in the mask must exist in the response schema."""

    def walk(t: dict, spec: dict, prefix: str) -> None:
        if "$ref" in spec:
            spec = schema(spec["$ref"])
        if spec.get("type") == "array":
            return walk(t, spec.get("items", {}), prefix)
        if spec.get("type") == "any" or "additionalProperties" in spec:
            return
        props = spec.get("properties") or {}
        for name, sub in t.items():
            if name == "*":
                continue
            if name not in props:
                raise GoogleError(
                    400,
                    "invalidParameter",
                    f"Invalid field selection {prefix}{name}",
                    location="fields",
                    locationType="parameter",
                )
            if sub is not None:
                walk(sub, props[name], f"{prefix}{name}/")

    if ref is not None:
        walk(tree, schema(ref), "")


def apply_fields(value, tree: dict | None):
    if tree is None:
        return value
    if isinstance(value, list):
        return [apply_fields(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    if "*" in tree:
        return {k: apply_fields(v, tree.get(k)) for k, v in value.items()}
    return {k: apply_fields(value[k], sub) for k, sub in tree.items() if k in value}
