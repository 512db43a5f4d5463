"""Issue 12, point 14: unhandled errors are logged as JSON lines with the request id and no
personal data; /healthz and /readyz answer load balancers."""

import copy
import io
import json
import logging.config

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client, override_settings
from django.urls import path

from tests.conftest import REDIS_URL

pytestmark = pytest.mark.django_db

NISN = "0012345678"
NAMA = "Siti Nurhaliza"


def boom(request):
    nisn = request.GET.get("nisn")
    nama = request.POST.get("nama")
    raise ValueError(f"no account for NISN {nisn} ({nama})")


urlpatterns = [path("boom", boom)]


@pytest.fixture
def production_log():
    """The settings' logging with the production (JSON) format; what it writes to stderr is
    written to the returned buffer instead. The test configuration is put back afterwards."""
    config = copy.deepcopy(settings.LOGGING)
    config["handlers"]["console"]["formatter"] = "json"
    config["handlers"]["console"]["stream"] = buffer = io.StringIO()
    logging.config.dictConfig(config)
    yield buffer
    logging.config.dictConfig(settings.LOGGING)


def _json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_an_unhandled_error_is_one_json_line_with_its_request_id(production_log):
    client = Client(raise_request_exception=False)
    r = client.post(
        f"/boom?nisn={NISN}&nama=Siti",
        {"nama": NAMA, "password": "rahasia sekali"},
        HTTP_X_REQUEST_ID="lb-7f3a9c2e1d",
    )
    assert r.status_code == 500
    assert r["X-Request-ID"] == "lb-7f3a9c2e1d"
    err = production_log.getvalue()
    errors = [e for e in _json_lines(err) if e["logger"] == "django.request"]
    assert len(errors) == 1, err
    line = errors[0]
    assert line["level"] == "ERROR"
    assert line["request_id"] == "lb-7f3a9c2e1d"
    assert line["method"] == "POST" and line["path"] == "/boom" and line["status"] == 500
    assert line["exception"] == "ValueError"
    assert any(frame.endswith(" boom") for frame in line["stack"])
    for personal in (NISN, "Siti", "rahasia", "nisn=", "no account for"):
        assert personal not in err


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_each_request_gets_its_own_id_and_a_forged_one_is_replaced(production_log):
    client = Client(raise_request_exception=False)
    forged = 'x"}\n{"level": "INFO", "message": "all good'
    ids = [client.get("/boom", HTTP_X_REQUEST_ID=forged)["X-Request-ID"] for _ in range(2)]
    assert ids[0] != ids[1] and forged not in ids
    logged = [e["request_id"] for e in _json_lines(production_log.getvalue())]
    assert logged == ids


def test_pages_carry_a_request_id(client):
    r = client.get("/masuk")
    assert len(r["X-Request-ID"]) == 32


@override_settings(ALLOWED_HOSTS=["akun.example"], SECURE_SSL_REDIRECT=True)
def test_healthz_answers_a_balancer_probing_by_address(client):
    r = client.get("/healthz", HTTP_HOST="10.0.0.5")
    assert r.status_code == 200 and r.content == b"ok"
    assert r["Cache-Control"] == "no-store"


@override_settings(ALLOWED_HOSTS=["akun.example"], SECURE_SSL_REDIRECT=True, AKUN_REDIS_URL="")
def test_readyz_checks_the_database(client):
    r = client.get("/readyz", HTTP_HOST="10.0.0.5")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}

    def database_down(execute, sql, params, many, context):
        raise OperationalError("connection refused")

    with connection.execute_wrapper(database_down):
        r = client.get("/readyz", HTTP_HOST="10.0.0.5")
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable", "database": "unreachable"}


def test_readyz_checks_redis_when_it_is_configured(client):
    with override_settings(AKUN_REDIS_URL=REDIS_URL):
        r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["redis"] == "ok"
    with override_settings(AKUN_REDIS_URL="redis://127.0.0.1:1/0"):  # nothing listens there
        r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable", "database": "ok", "redis": "unreachable"}
