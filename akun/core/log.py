"""Structured logs: every line carries the id of the request it belongs to.

In production (AKUN_LOG_FORMAT=json) each record is one JSON object per line. Unhandled
errors say where (method, path without the query string, status) and what (the exception's
type and its stack frames) -- never the exception's message, the query string or form
values, which can hold names, NISNs or passwords.
"""

import contextvars
import datetime as dt
import json
import logging
import re
import traceback
import uuid

_request_id = contextvars.ContextVar("akun_request_id", default="")

# A proxy's id is kept when it looks like one; anything else could forge or break log lines.
_GOOD_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
REQUEST_ID_HEADER = "X-Request-ID"


def request_id_from(header_value: str) -> str:
    if header_value and _GOOD_ID.fullmatch(header_value):
        return header_value
    return uuid.uuid4().hex


def current_request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    """Gives each request an id (the proxy's X-Request-ID when sane), logs it with every
    record made while the request runs, and returns it in the X-Request-ID header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER, ""))
        token = _request_id.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response[REQUEST_ID_HEADER] = request.request_id
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        # Django logs 4xx responses after the middleware returned: the request still knows.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", "") or _request_id.get() or "-"
        return True


def _type_name(cls) -> str:
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )


class JsonFormatter(logging.Formatter):
    """One JSON object per line, from a fixed list of fields (nothing a record carries
    besides them -- the request, its parameters -- is written)."""

    def format(self, record):
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
        }
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "path"):  # django.request records
            line["method"] = request.method
            line["path"] = request.path
            line["status"] = getattr(record, "status_code", None)
        line["message"] = record.getMessage()  # Django's: "<reason>: <path>"
        if record.exc_info and record.exc_info[0] is not None:
            cls, _exc, tb = record.exc_info
            line["exception"] = _type_name(cls)
            line["stack"] = [
                f"{f.filename}:{f.lineno} {f.name}" for f in traceback.extract_tb(tb, limit=30)
            ]
        return json.dumps(line, ensure_ascii=False)
