"""The web layer: security headers, language, page weight, and `akun serve` (gunicorn)."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from django.test import Client
from django.urls import reverse

from akun.audit.models import AuditEvent
from akun.core import keys
from tests import builders
from tests.conftest import database_url_for_subprocess

pytestmark = pytest.mark.django_db


def test_security_headers_and_csrf(client):
    r = client.get(reverse("identity:signin"))
    csp = r["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert r["X-Frame-Options"] == "DENY"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert b"csrfmiddlewaretoken" in r.content

    strict = Client(enforce_csrf_checks=True)
    r = strict.post(reverse("identity:signin"), {"user_id": "a", "password": "b"})
    assert r.status_code == 403


def test_production_cookies_are_secure():
    code = (
        "import django,os;os.environ['DJANGO_SETTINGS_MODULE']='akun.settings';django.setup();"
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY)"
    )
    env = dict(os.environ, AKUN_ENV="production", AKUN_SECRET_KEY=keys.generate_secret_key(),
               AKUN_ENCRYPTION_KEYS=keys.generate_encryption_key(),
               AKUN_ALLOWED_HOSTS="akun.example")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["True", "True", "True"], out.stderr


def test_indonesian_first_english_switchable(client):
    r = client.get(reverse("identity:signin"))
    assert b'lang="id"' in r.content and b"Masuk" in r.content
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/masuk"})
    assert r.status_code == 302
    r = client.get(reverse("identity:signin"))
    assert b'lang="en"' in r.content and b"Sign in to your learning account" in r.content


@pytest.mark.parametrize("name", ["signin", "cek_akun", "reset", "terms_page", "npsn_search"])
def test_pages_are_small(client, name):
    r = client.get(reverse(f"identity:{name}"))
    css = client.get("/static/akun/akun.css")
    size = len(r.content) + sum(len(c) for c in css.streaming_content)
    assert r.status_code == 200 and size < 100_000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_akun_serve_runs_gunicorn_with_static_files():
    builders.student(builders.school())
    port = free_port()
    env = dict(os.environ, DATABASE_URL=database_url_for_subprocess())
    proc = subprocess.Popen(
        [sys.executable, "-m", "akun", "serve", "--port", str(port), "--workers", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        # Start-up (collectstatic, imports) can take a while on loaded CI cores.
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("akun serve did not come up") from None
                time.sleep(0.2)
        page = urllib.request.urlopen(base + "/masuk", timeout=5)
        assert page.status == 200 and "Content-Security-Policy" in page.headers
        css = urllib.request.urlopen(base + "/static/akun/akun.css", timeout=5)
        assert css.status == 200 and b"--brand" in css.read()
    finally:
        proc.terminate()
        out = proc.communicate(timeout=20)[0]
    assert "gunicorn" in out.lower() or "Booting worker" in out


def test_sign_in_gives_a_new_session_key(client):
    """No session fixation: a session that existed before the sign-in is not the one after."""
    s = builders.student(builders.school(), state="active", password="teh manis di sore hari")
    client.post(
        reverse("identity:cek_akun"),
        {"role": "peserta_didik", "npsn": "20104321", "nama": "x", "tanggal_lahir": "2012-03-09"},
    )
    before = client.cookies["sessionid"].value
    assert before
    r = client.post(
        reverse("identity:signin"), {"user_id": s.user_id, "password": "teh manis di sore hari"}
    )
    assert r.status_code == 302
    assert client.cookies["sessionid"].value != before
    assert client.get(reverse("identity:akun_saya")).status_code == 200


def test_sign_in_audit_row_carries_school_and_region(client):

    s = builders.student(builders.school(), state="active", password="teh manis di sore hari")
    r = client.post(
        reverse("identity:signin"), {"user_id": s.user_id, "password": "teh manis di sore hari"}
    )
    assert r.status_code == 302
    event = AuditEvent.objects.get(action="identity.sign_in", object_id=s.user_id)
    assert (event.npsn, event.kode_wilayah) == ("20104321", "320412")


def test_sign_in_loads_the_account_as_the_orm_does():
    """The sign-in reads the account with one hand-written statement: every field must come
    back as the ORM gives it (aware datetimes, UUIDs, bytes), with school codes and session
    generation beside it."""
    from django.contrib.auth import get_user_model

    from akun.identity import signin

    s = builders.student(builders.school(), state="active", password="teh manis di sore hari")
    loaded = signin._load_account(s.user_id)
    orm = get_user_model().objects.get(pk=s.pk)
    for f in orm._meta.concrete_fields:
        got, want = getattr(loaded, f.attname), getattr(orm, f.attname)
        if isinstance(want, memoryview | bytes):
            got, want = bytes(got), bytes(want)
        assert got == want and type(got) is type(want), f.attname
    assert loaded.school_codes == ("20104321", "320412")
    assert loaded.session_generation_now is None
    assert signin._load_account("nobody1@sd.belajar.test") is None
    assert signin._load_account(s.user_id.replace("@sd.", "@smp.")) is None


@pytest.mark.django_db(transaction=True)  # as served: no test transaction around the request
def test_a_password_sign_in_costs_few_statements(client):
    """Sign-in is the busiest page: one read (account and throttle state), last_login, the
    audit row and the session INSERT, and nothing else (no BEGIN/COMMIT around the single
    INSERT)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    s = builders.student(builders.school(), state="active", password="teh manis di sore hari")
    client.get(reverse("identity:signin"))
    with CaptureQueriesContext(connection) as ctx:
        r = client.post(
            reverse("identity:signin"), {"user_id": s.user_id, "password": "teh manis di sore hari"}
        )
    assert r.status_code == 302 and r["Location"].endswith(reverse("identity:akun_saya"))
    sql = [q["sql"].split()[0].upper() for q in ctx.captured_queries]
    assert sql == ["SELECT", "UPDATE", "INSERT", "INSERT"], ctx.captured_queries
    event = AuditEvent.objects.get(action="identity.sign_in", object_id=s.user_id)
    assert (event.npsn, event.kode_wilayah, event.before) == ("20104321", "320412", None)
    assert client.get(reverse("identity:akun_saya")).status_code == 200
