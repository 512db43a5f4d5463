"""/healthz and /readyz for load balancers, answered before any other middleware.

/healthz: the process is up (no database, no session). /readyz: the database answers and,
when AKUN_REDIS_URL is set, Redis does; 503 otherwise. Both skip the host check, the HTTPS
redirect and sign-in (a balancer probes by address, over plain HTTP) and say nothing but
which dependency is down.
"""

import json
import logging

from django.conf import settings
from django.db import connections
from django.http import HttpResponse

log = logging.getLogger("akun.health")
PROBE_TIMEOUT_SECONDS = 2


def _database_ok() -> bool:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone()[0] == 1
    except Exception:  # noqa: BLE001 - any failure means not ready
        log.warning("readyz: the database does not answer", exc_info=True)
        return False


def _redis_ok(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
            socket_timeout=PROBE_TIMEOUT_SECONDS,
        )
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # noqa: BLE001
        log.warning("readyz: Redis does not answer", exc_info=True)
        return False


def readiness() -> dict[str, str]:
    checks = {"database": "ok" if _database_ok() else "unreachable"}
    if settings.AKUN_REDIS_URL:
        checks["redis"] = "ok" if _redis_ok(settings.AKUN_REDIS_URL) else "unreachable"
    return checks


def _answer(status: int, body: dict) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            response = HttpResponse("ok", content_type="text/plain")
            response["Cache-Control"] = "no-store"
            return response
        if request.path == "/readyz":
            checks = readiness()
            ready = all(v == "ok" for v in checks.values())
            return _answer(
                200 if ready else 503, {"status": "ok" if ready else "unavailable", **checks}
            )
        return self.get_response(request)
