"""The token endpoint's grants in-process (Django's test client): refresh rotation, reuse
detection and suspension, client credentials, and the SQL statements each grant runs (a
ceiling, so a change that adds statements to the hot path is noticed)."""

import base64
import datetime as dt
import string
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import AccessToken, IDToken, RefreshToken

from akun.accounts.api import do_suspend_account
from akun.sso import actions, keys, validator
from tests.sso_support import CALLBACK

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def web():
    return actions.do_add_oidc_service(
        "Kelas Maya", redirect_uris=[CALLBACK], scopes="openid profile email akun", actor="t"
    )


def basic(cid, secret):
    return "Basic " + base64.b64encode(f"{cid}:{secret}".encode()).decode()


def issue(app, user, scope="openid profile email akun") -> str:
    """An access + refresh token pair as the code grant leaves it."""
    at = AccessToken.objects.create(
        user=user,
        application=app,
        token="at-" + user.user_id,
        scope=scope,
        expires=timezone.now() + dt.timedelta(hours=1),
    )
    RefreshToken.objects.create(
        user=user, application=app, token="rt-first", access_token=at, token_family=uuid.uuid4()
    )
    return "rt-first"


def refresh(client, svc, secret, token, **extra):
    return client.post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": token, **extra},
        HTTP_AUTHORIZATION=basic(svc.application.client_id, secret),
    )


def test_refresh_rotates_and_reuse_revokes_the_family(client, student, web):
    svc, secret = web
    first = issue(svc.application, student)
    r = refresh(client, svc, secret, first)
    assert r.status_code == 200, r.content
    second = r.json()
    assert second["refresh_token"] != first and second["access_token"]
    assert set(second["scope"].split()) == {"openid", "profile", "email", "akun"}
    r = refresh(client, svc, secret, second["refresh_token"])
    assert r.status_code == 200
    third = r.json()
    # The first token again: refused, and the whole family (third included) revoked.
    assert refresh(client, svc, secret, first).status_code == 400
    assert refresh(client, svc, secret, third["refresh_token"]).status_code == 400
    assert not AccessToken.objects.filter(token=third["access_token"]).exists()


def test_refresh_needs_the_right_client_secret(client, student, web):
    svc, secret = web
    first = issue(svc.application, student)
    wrong = secret[:-1] + ("y" if secret.endswith("x") else "x")  # never the real secret
    assert refresh(client, svc, wrong, first).status_code == 401
    assert refresh(client, svc, secret, first).status_code == 200


def test_refresh_refused_once_the_account_is_suspended(client, student, web):
    svc, secret = web
    first = issue(svc.application, student)
    do_suspend_account(student, actor="t", reason="uji")
    assert refresh(client, svc, secret, first).status_code == 400


def test_refresh_statements(client, student, web):
    svc, secret = web
    token = issue(svc.application, student)
    token = refresh(client, svc, secret, token).json()["refresh_token"]  # warm caches
    with CaptureQueriesContext(connection) as q:
        r = refresh(client, svc, secret, token)
    assert r.status_code == 200
    assert "id_token" in r.json()
    assert IDToken.objects.count() >= 1
    print(f"\nrefresh grant: {len(q)} statements")
    for s in q.captured_queries:
        print("  ", s["sql"][:160])
    # Token with account and roster row; then on PostgreSQL one statement for the rotation,
    # elsewhere BEGIN; revoke; delete; ID, access, refresh token; COMMIT.
    assert len(q) <= (2 if connection.vendor == "postgresql" else 8)


def test_client_credentials_statements(client):
    machine, secret = actions.do_add_oidc_service(
        "Pusat Data", kind="machine", scopes="introspection", actor="t"
    )
    body = {"grant_type": "client_credentials", "scope": "introspection"}
    auth = basic(machine.application.client_id, secret)
    assert client.post("/o/token/", body, HTTP_AUTHORIZATION=auth).status_code == 200
    with CaptureQueriesContext(connection) as q:
        r = client.post("/o/token/", body, HTTP_AUTHORIZATION=auth)
    assert r.status_code == 200 and r.json()["token_type"] == "Bearer"
    print(f"\nclient credentials grant: {len(q)} statements")
    for s in q.captured_queries:
        print("  ", s["sql"][:160])
    assert len(q) <= 1
    # A secret with its last character changed (never the same: a secret may end in "x").
    bad = basic(machine.application.client_id, secret[:-1] + ("y" if secret.endswith("x") else "x"))
    assert client.post("/o/token/", body, HTTP_AUTHORIZATION=bad).status_code == 401


def test_a_concurrent_rotation_is_left_to_the_library(client, student, web):
    """Two refreshes of one token at once: the one that loses the row gets the pair the
    winner made (django-oauth-toolkit's path), not a second live pair."""
    from oauthlib.common import Request

    svc, secret = web
    first = issue(svc.application, student)
    loser = Request("http://testserver/o/token/", http_method="POST")
    loser.grant_type, loser.client, loser.scopes = "refresh_token", svc.application, []
    v = validator.AkunOAuth2Validator()
    assert v.validate_refresh_token(first, svc.application, loser)
    winner = refresh(client, svc, secret, first).json()  # rotates while the loser waits
    token = {"access_token": "at-loser", "refresh_token": "rt-loser", "scope": "openid"}
    v.save_bearer_token(token, loser)
    assert token["access_token"] == winner["access_token"]
    assert token["refresh_token"] == winner["refresh_token"]
    assert RefreshToken.objects.filter(revoked__isnull=True, user=student).count() == 1
    assert not AccessToken.objects.filter(token="at-loser").exists()


def test_refresh_writes_the_rows_the_library_would(client, student, web):
    """The rotation's rows are written on a cursor: the same values as the models' save()
    (checksums, the family, links between ID, access and refresh token), and the ID token
    carries the student's grade and class from the roster row read with the token."""
    import hashlib

    from jwcrypto import jwt as jwcrypto_jwt

    svc, secret = web
    first = issue(svc.application, student)
    family = RefreshToken.objects.get(token="rt-first").token_family
    body = refresh(client, svc, secret, first).json()
    # akun.sso.tokens: 256 random bits each, URL-safe.
    for value in (body["access_token"], body["refresh_token"]):
        assert len(value) == 43 and set(value) <= set(string.ascii_letters + string.digits + "-_")
    new_rt = RefreshToken.objects.get(token_checksum=hashlib.sha256(
        body["refresh_token"].encode()).hexdigest())  # fmt: skip
    assert new_rt.token_family == family and new_rt.revoked is None
    assert new_rt.user_id == student.pk and new_rt.application_id == svc.application.pk
    at = new_rt.access_token
    assert at.token_checksum == hashlib.sha256(body["access_token"].encode()).hexdigest()
    assert at.source_refresh_token.token == "rt-first" and at.source_refresh_token.revoked
    assert at.scope == body["scope"] and at.created is not None and at.expires > timezone.now()
    ks = keys.keyset()
    parsed = jwcrypto_jwt.JWT(jwt=body["id_token"], key=ks.by_kid[ks.current.kid])
    import json

    id_claims = json.loads(parsed.claims)
    assert at.id_token.jti == uuid.UUID(id_claims["jti"])
    assert (id_claims["grade"], id_claims["class"]) == (5, "5A")
    assert id_claims["sub"] == student.user_id and id_claims["school_npsn"] == "20104321"
    assert not AccessToken.objects.filter(token="at-" + student.user_id).exists()
