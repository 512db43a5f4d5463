"""OpenID Connect and OAuth strictness, over real HTTP against a running Akun (live_server):
prompt and max_age, PKCE (S256 only), replayed codes, request objects (not supported), the
token endpoint's errors (always JSON, unsupported grants refused before any credential is
looked at), introspection only for permitted services, and a discovery document that says
what the endpoints do. Authlib plays the relying party wherever a client library can."""

import base64
import datetime as dt
import json

import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from django.utils import timezone

from akun.audit.api import AuditEvent
from akun.core import clock
from akun.sso import actions
from akun.sso.models import Service
from tests.sso_support import CALLBACK, PASSWORD, Browser, RelyingParty, query

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def web():
    """A third-party web service (confidential, consent screen, PKCE not required)."""
    return actions.do_add_oidc_service(
        "Kelas Maya", redirect_uris=[CALLBACK], scopes="openid profile email akun", actor="t"
    )


@pytest.fixture
def spa():
    """A first-party public client (no secret, PKCE, no consent screen)."""
    svc, _ = actions.do_add_oidc_service(
        "Rapor", kind="public", redirect_uris=[CALLBACK], first_party=True, actor="t"
    )
    return svc


def rp_for(base, svc, secret=None, **kw):
    kw.setdefault("scope", "openid profile email akun" if secret else "openid profile")
    return RelyingParty(base, svc.application.client_id, secret, **kw)


def signed_in_flow(base, rp, user_id, browser=None, **auth_kw):
    """Sign in (and consent if asked) through the real pages; the callback URL."""
    browser = browser or Browser(base)
    kind, page = browser.go(rp.authorization_url(**auth_kw))
    if kind == "page" and "/masuk" in page.url:
        kind, page = browser.sign_in(page, user_id)
    if kind == "page" and 'id="consent"' in page.text:
        kind, page = browser.consent(page)
    assert kind == "callback", getattr(page, "text", "")[:300]
    return browser, page


def authorize_url(rp, **params) -> str:
    """The relying party's authorization URL with extra parameters (prompt, max_age...)."""
    url, rp.state = rp.client.create_authorization_url(
        rp.meta["authorization_endpoint"], nonce=rp.nonce, code_verifier=rp.verifier, **params
    )
    return url


def basic(cid, secret):
    return "Basic " + base64.b64encode(f"{cid}:{secret}".encode()).decode()


def is_json_error(r, status, error):
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    assert r.json()["error"] == error, r.text


# --- issue 12.7: PKCE -------------------------------------------------------------------------


def test_plain_and_missing_code_challenge_method_are_refused(live_server, student, spa):
    base = live_server.url
    browser, _ = signed_in_flow(base, rp_for(base, spa), student.user_id)
    for extra in ({"code_challenge_method": "plain"}, {}):
        rp = rp_for(base, spa)
        params = {"code_challenge": rp.verifier, **extra}
        url = (
            rp.meta["authorization_endpoint"]
            + "?"
            + "&".join(
                f"{k}={v}"
                for k, v in {
                    "response_type": "code",
                    "client_id": spa.application.client_id,
                    "redirect_uri": CALLBACK,
                    "scope": "openid",
                    "state": "s1",
                    **params,
                }.items()
            )
        )
        kind, dest = browser.go(url)
        assert kind == "callback"
        q = query(dest)
        assert "code" not in q and q["error"] == "invalid_request" and q["state"] == "s1"


def test_code_verifier_for_a_code_without_challenge_is_refused(live_server, student, web):
    svc, secret = web
    rp = rp_for(live_server.url, svc, secret)
    _, callback = signed_in_flow(live_server.url, rp, student.user_id, pkce=False)
    with pytest.raises(OAuthError) as e:
        rp.client.fetch_token(
            rp.meta["token_endpoint"], authorization_response=callback, code_verifier="x" * 50
        )
    assert e.value.error == "invalid_grant"


# --- issue 12.7: a replayed code revokes what it gave ----------------------------------------


def test_replayed_code_revokes_the_tokens_it_gave(live_server, student, web):
    svc, secret = web
    rp = rp_for(live_server.url, svc, secret)
    _, callback = signed_in_flow(live_server.url, rp, student.user_id)
    first = rp.finish(callback)
    rotated = rp.refresh(first["refresh_token"])  # the family lives on after a rotation
    assert rp.userinfo(rotated).status_code == 200
    with pytest.raises(OAuthError) as e:
        rp.finish(callback)  # the code again
    assert e.value.error == "invalid_grant"
    assert rp.userinfo(rotated).status_code == 401
    with pytest.raises(OAuthError) as e:
        rp.refresh(rotated["refresh_token"])
    assert e.value.error == "invalid_grant"
    event = AuditEvent.objects.get(action="sso.revoke_replayed_code")
    assert event.object_id == student.user_id and event.after["service"] == svc.slug


def test_an_unknown_code_revokes_nothing(live_server, student, web):
    svc, secret = web
    rp = rp_for(live_server.url, svc, secret)
    _, callback = signed_in_flow(live_server.url, rp, student.user_id)
    token = rp.finish(callback)
    with pytest.raises(OAuthError):
        rp.finish(callback.replace("code=", "code=x"))
    assert rp.userinfo(token).status_code == 200


# --- issue 12.7 and 19.10: introspection -----------------------------------------------------


def test_only_permitted_services_introspect(live_server, student, web):
    svc, secret = web
    base = live_server.url
    rp = rp_for(base, svc, secret)
    _, callback = signed_in_flow(base, rp, student.user_id)
    token = rp.finish(callback)
    endpoint = rp.meta["introspection_endpoint"]
    data = {"token": token["access_token"]}

    # Another confidential client, right secret, no permission: not a word about the token.
    other, other_secret = actions.do_add_oidc_service(
        "Perpustakaan", redirect_uris=[CALLBACK], actor="t"
    )
    r = requests.post(endpoint, data=data, auth=(other.application.client_id, other_secret))
    is_json_error(r, 403, "unauthorized_client")
    assert "username" not in r.text
    # ...nor the token's own client, nor a machine with the introspection scope only.
    r = requests.post(endpoint, data=data, auth=(svc.application.client_id, secret))
    is_json_error(r, 403, "unauthorized_client")
    plain, plain_secret = actions.do_add_oidc_service(
        "Tanpa Izin", kind="machine", scopes="introspection", actor="t"
    )
    m = OAuth2Session(plain.application.client_id, plain_secret, scope="introspection")
    cc = m.fetch_token(rp.meta["token_endpoint"], grant_type="client_credentials")
    r = requests.post(
        endpoint, data=data, headers={"Authorization": f"Bearer {cc['access_token']}"}
    )
    is_json_error(r, 403, "unauthorized_client")

    # A service given the permission: by its secret, and by its client-credentials token.
    rs, rs_secret = actions.do_add_oidc_service(
        "Pusat Data", kind="machine", scopes="introspection", may_introspect=True, actor="t"
    )
    r = requests.post(endpoint, data=data, auth=(rs.application.client_id, rs_secret))
    assert r.status_code == 200 and r.json()["username"] == student.user_id
    m = OAuth2Session(rs.application.client_id, rs_secret, scope="introspection")
    cc = m.fetch_token(rp.meta["token_endpoint"], grant_type="client_credentials")
    r = requests.post(
        endpoint, data=data, headers={"Authorization": f"Bearer {cc['access_token']}"}
    )
    assert r.status_code == 200 and r.json()["active"] is True


def test_introspection_with_bad_client_credentials_is_an_oauth_error(live_server, student):
    rs, rs_secret = actions.do_add_oidc_service(
        "Pusat Data", kind="machine", scopes="introspection", may_introspect=True, actor="t"
    )
    base = live_server.url
    endpoint = requests.get(f"{base}/.well-known/openid-configuration").json()[
        "introspection_endpoint"
    ]
    cid = rs.application.client_id
    wrong = rs_secret[:-1] + ("y" if rs_secret.endswith("x") else "x")
    for kwargs in (
        {"auth": (cid, wrong)},
        {"auth": ("no-such-client", wrong)},
        {},
        {"data": {"token": "t", "client_id": cid, "client_secret": wrong}},
    ):
        kwargs.setdefault("data", {"token": "t"})
        r = requests.post(endpoint, **kwargs)
        is_json_error(r, 401, "invalid_client")
        if "auth" in kwargs:
            assert r.headers["WWW-Authenticate"].startswith("Basic ")
    r = requests.post(endpoint, data={"token": "t"}, headers={"Authorization": "Bearer nope"})
    is_json_error(r, 401, "invalid_token")
    assert r.headers["WWW-Authenticate"].startswith("Bearer ")


def test_services_add_introspect_sets_the_permission(run_akun):
    r = run_akun(
        "services", "add", "Pusat Data", "--kind", "machine", "--scopes", "introspection",
        "--introspect", "--json",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    slug = json.loads(r.stdout)["slug"]
    assert Service.objects.get(slug=slug).may_introspect is True
    r = run_akun("services", "update", slug, "--introspect", "no")
    assert r.returncode == 0, r.stderr
    assert Service.objects.get(slug=slug).may_introspect is False
    r = run_akun("services", "add", "Kelas", "--redirect-uri", CALLBACK, "--json")
    assert Service.objects.get(slug=json.loads(r.stdout)["slug"]).may_introspect is False


# --- issue 12.7: userinfo with a token of no person -------------------------------------------


def test_userinfo_refuses_a_client_credentials_token(live_server):
    machine, secret = actions.do_add_oidc_service(
        "Pusat Data", kind="machine", scopes="openid introspection", actor="t"
    )
    meta = requests.get(f"{live_server.url}/.well-known/openid-configuration").json()
    m = OAuth2Session(machine.application.client_id, secret, scope="openid")
    cc = m.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    r = requests.get(
        meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {cc['access_token']}"}
    )
    assert r.status_code in (401, 403), r.status_code
    assert r.headers["WWW-Authenticate"].startswith("Bearer ")
    is_json_error(r, r.status_code, "invalid_token")


# --- issue 19.1: prompt=none ----------------------------------------------------------------


def test_prompt_none_not_signed_in_is_login_required(live_server, student, web):
    svc, secret = web
    rp = rp_for(live_server.url, svc, secret)
    kind, dest = Browser(live_server.url).go(authorize_url(rp, prompt="none"))
    assert kind == "callback"
    q = query(dest)
    assert q["error"] == "login_required" and q["state"] == rp.state and "code" not in q


def test_prompt_none_signed_in_without_consent_is_consent_required(live_server, student, web):
    svc, secret = web
    browser = Browser(live_server.url)
    kind, page = browser.go(f"{live_server.url}/masuk")
    kind, page = browser.sign_in(page, student.user_id)
    assert kind == "page" and "/masuk" not in page.url  # signed in to Akun itself
    rp = rp_for(live_server.url, svc, secret)
    kind, dest = browser.go(authorize_url(rp, prompt="none"))
    assert kind == "callback"
    q = query(dest)
    assert q["error"] == "consent_required" and q["state"] == rp.state and "code" not in q


def test_prompt_none_signed_in_and_consented_gives_a_code(live_server, student, web, spa):
    svc, secret = web
    base = live_server.url
    browser, _ = signed_in_flow(base, rp_for(base, svc, secret), student.user_id)
    for rp in (rp_for(base, svc, secret), rp_for(base, spa)):  # consented; first-party
        kind, dest = browser.go(authorize_url(rp, prompt="none"))
        assert kind == "callback", dest.text[:300] if kind == "page" else dest
        token = rp.finish(dest)
        assert rp.verify_id_token(token)["sub"] == student.user_id
    # prompt=none with another value is a request error, still sent to the client (OAuth
    # requests without openid too).
    for scope in ("openid profile", "profile"):
        rp = rp_for(base, svc, secret, scope=scope)
        kind, dest = browser.go(authorize_url(rp, prompt="none login"))
        assert kind == "callback" and query(dest)["error"] == "invalid_request"


# --- issue 19.2: prompt=login and max_age re-authenticate -------------------------------------


def test_prompt_login_and_max_age_ask_for_the_password_again(live_server, student, web):
    svc, secret = web
    base = live_server.url
    t1 = timezone.now().replace(microsecond=0) - dt.timedelta(hours=2)
    clock.freeze(t1)
    rp = rp_for(base, svc, secret)
    browser, callback = signed_in_flow(base, rp, student.user_id)
    assert rp.verify_id_token(rp.finish(callback))["auth_time"] == int(t1.timestamp())

    t2 = t1 + dt.timedelta(minutes=10)
    clock.freeze(t2)
    rp = rp_for(base, svc, secret)
    kind, page = browser.go(authorize_url(rp, prompt="login"))
    assert kind == "page" and "/masuk" in page.url and 'name="password"' in page.text
    kind, callback = browser.sign_in(page, student.user_id)
    assert kind == "callback"
    assert rp.verify_id_token(rp.finish(callback))["auth_time"] == int(t2.timestamp())

    t3 = t2 + dt.timedelta(minutes=10)
    clock.freeze(t3)
    rp = rp_for(base, svc, secret)
    kind, dest = browser.go(authorize_url(rp, max_age="3600"))  # recent enough: no page
    assert kind == "callback"
    assert rp.verify_id_token(rp.finish(dest))["auth_time"] == int(t2.timestamp())
    rp = rp_for(base, svc, secret)
    kind, dest = browser.go(authorize_url(rp, max_age="300", prompt="none"))
    assert kind == "callback" and query(dest)["error"] == "login_required"
    rp = rp_for(base, svc, secret)
    kind, page = browser.go(authorize_url(rp, max_age="300"))
    assert kind == "page" and "/masuk" in page.url and 'name="password"' in page.text
    kind, callback = browser.sign_in(page, student.user_id)
    assert kind == "callback"
    assert rp.verify_id_token(rp.finish(callback))["auth_time"] == int(t3.timestamp())


def test_max_age_when_not_signed_in_asks_for_the_password_once(live_server, student, web):
    svc, secret = web
    rp = rp_for(live_server.url, svc, secret)
    browser = Browser(live_server.url)
    kind, page = browser.go(authorize_url(rp, max_age="0"))
    assert kind == "page" and 'name="password"' in page.text
    kind, page = browser.sign_in(page, student.user_id)
    assert kind == "page" and 'id="consent"' in page.text, page.url  # not the password again
    kind, callback = browser.consent(page)
    assert kind == "callback" and rp.verify_id_token(rp.finish(callback))["auth_time"]


def test_a_session_signed_in_elsewhere_is_not_fresh(live_server, student, web):
    """max_age is about this browser's sign-in, not the account's latest one elsewhere."""
    svc, secret = web
    base = live_server.url
    t1 = timezone.now().replace(microsecond=0) - dt.timedelta(hours=2)
    clock.freeze(t1)
    lab_pc, _ = signed_in_flow(base, rp_for(base, svc, secret), student.user_id)
    clock.freeze(t1 + dt.timedelta(minutes=50))
    signed_in_flow(base, rp_for(base, svc, secret), student.user_id)  # a phone
    clock.freeze(t1 + dt.timedelta(minutes=55))
    rp = rp_for(base, svc, secret)
    kind, page = lab_pc.go(authorize_url(rp, max_age="600"))
    assert kind == "page" and 'name="password"' in page.text
    # Without max_age: a code at once, and auth_time is this browser's sign-in.
    rp = rp_for(base, svc, secret)
    kind, dest = lab_pc.go(authorize_url(rp))
    assert kind == "callback"
    assert rp.verify_id_token(rp.finish(dest))["auth_time"] == int(t1.timestamp())
    # A client cannot set it through the claims parameter.
    rp = rp_for(base, svc, secret)
    forged = json.dumps({"akun_auth_time": 1, "auth_time": 1})
    kind, dest = lab_pc.go(authorize_url(rp, claims=forged))
    assert kind == "callback"
    assert rp.verify_id_token(rp.finish(dest))["auth_time"] == int(t1.timestamp())


# --- issue 19.3 and 19.9: the token endpoint's grants -----------------------------------------


def test_unadvertised_grants_are_unsupported_before_any_credential(live_server, student, spa, web):
    base = live_server.url
    meta = requests.get(f"{base}/.well-known/openid-configuration").json()
    token_url = meta["token_endpoint"]
    svc, secret = web
    # The password grant, with a public client_id and no secret: the same answer for the
    # right and the wrong password (no oracle), and for a confidential client.
    answers = []
    for password in (PASSWORD, PASSWORD + "x"):
        client = OAuth2Session(spa.application.client_id, token_endpoint_auth_method="none")
        with pytest.raises(OAuthError) as e:
            client.fetch_token(token_url, username=student.user_id, password=password)
        answers.append((e.value.error, e.value.description))
        r = requests.post(
            token_url,
            data={"grant_type": "password", "username": student.user_id, "password": password},
            auth=(svc.application.client_id, secret),
        )
        is_json_error(r, 400, "unsupported_grant_type")
    assert answers[0] == answers[1] and answers[0][0] == "unsupported_grant_type"
    for grant in (
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "implicit",
        "openid",
        "nonsense",
    ):
        r = requests.post(token_url, data={"grant_type": grant, "client_id": "x"})
        is_json_error(r, 400, "unsupported_grant_type")
    r = requests.post(
        token_url,
        data={"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": "x"},
        auth=(svc.application.client_id, secret),
    )
    is_json_error(r, 400, "unsupported_grant_type")


def test_advertised_grants_without_their_parameters_are_json_errors(live_server, web, spa):
    svc, secret = web
    meta = requests.get(f"{live_server.url}/.well-known/openid-configuration").json()
    token_url = meta["token_endpoint"]
    auth = (svc.application.client_id, secret)
    is_json_error(requests.post(token_url, data={}, auth=auth), 400, "invalid_request")
    for grant in ("authorization_code", "refresh_token"):
        r = requests.post(token_url, data={"grant_type": grant}, auth=auth)
        is_json_error(r, 400, "invalid_request")
    r = requests.post(token_url, data={"grant_type": "client_credentials"}, auth=auth)
    is_json_error(r, 400, "unauthorized_client")  # a sign-in service, not a machine
    r = requests.post(
        token_url, data={"grant_type": "client_credentials", "client_id": spa.application.client_id}
    )
    is_json_error(r, 400, "unauthorized_client")  # a public client: never this grant
    r = requests.post(token_url, data={"grant_type": "client_credentials", "client_id": "nobody"})
    is_json_error(r, 401, "invalid_client")
    r = requests.get(token_url)
    assert r.status_code in (400, 405) and "html" not in r.headers.get("Content-Type", "")


# --- issue 19.4: request objects -------------------------------------------------------------


def test_request_and_request_uri_are_refused(live_server, student, web):
    svc, secret = web
    base = live_server.url
    browser, _ = signed_in_flow(base, rp_for(base, svc, secret), student.user_id)
    for param, error in (
        ({"request_uri": "https://127.0.0.1:1/nowhere"}, "request_uri_not_supported"),
        ({"request": "eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9."}, "request_not_supported"),
    ):
        rp = rp_for(base, svc, secret)
        kind, dest = browser.go(authorize_url(rp, **param))
        assert kind == "callback"
        q = query(dest)
        assert q["error"] == error and q["state"] == rp.state and "code" not in q


# --- issue 19.5: error codes and challenges --------------------------------------------------


def test_code_redeemed_with_another_redirect_uri_is_invalid_grant(live_server, student, web):
    svc, secret = web
    rp = rp_for(live_server.url, svc, secret)
    _, callback = signed_in_flow(live_server.url, rp, student.user_id)
    rp.client.redirect_uri = "http://127.0.0.1:18799/elsewhere"
    with pytest.raises(OAuthError) as e:
        rp.finish(callback)
    assert e.value.error == "invalid_grant"


def test_invalid_client_with_basic_gets_a_basic_challenge(live_server, web):
    svc, secret = web
    meta = requests.get(f"{live_server.url}/.well-known/openid-configuration").json()
    wrong = secret[:-1] + ("y" if secret.endswith("x") else "x")
    for endpoint in ("token_endpoint", "revocation_endpoint"):
        for cid in (svc.application.client_id, "no-such-client"):
            r = requests.post(
                meta[endpoint],
                data={"grant_type": "refresh_token", "refresh_token": "x", "token": "x"},
                auth=(cid, wrong),
            )
            is_json_error(r, 401, "invalid_client")
            assert r.headers["WWW-Authenticate"].startswith("Basic "), r.headers


# --- issue 19.6: discovery says what is true -------------------------------------------------


def test_discovery_matches_what_the_endpoints_do(live_server, student, web, spa):
    base = live_server.url
    meta = requests.get(f"{base}/.well-known/openid-configuration").json()
    svc, secret = web
    assert meta["response_types_supported"] == ["code"]
    assert meta["response_modes_supported"] == ["query"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["request_parameter_supported"] is False
    assert meta["request_uri_parameter_supported"] is False
    assert set(meta["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        "client_credentials",
    }
    assert set(meta["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "none",
    }
    assert set(meta["prompt_values_supported"]) == {"none", "login", "consent"}
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
    assert meta["subject_types_supported"] == ["public"]

    # authorization_code + S256 + response_mode=query, with each token endpoint auth method.
    browser = Browser(base)
    for method in ("client_secret_basic", "client_secret_post"):
        rp = rp_for(base, svc, secret)
        rp.client.token_endpoint_auth_method = method
        browser, callback = signed_in_flow(base, rp, student.user_id, browser=browser)
        token = rp.finish(callback)
        claims = rp.verify_id_token(token)
        assert set(claims) - {"aud", "iat", "exp", "iss", "nonce", "at_hash", "jti"} <= set(
            meta["claims_supported"]
        ) | {"auth_time"}
        # refresh_token
        assert rp.refresh(token["refresh_token"])["access_token"]
    rp = rp_for(base, spa)  # "none": a public client
    _, callback = signed_in_flow(base, rp, student.user_id, browser=browser)
    assert rp.finish(callback)["access_token"]
    for mode in ("fragment", "form_post"):
        rp = rp_for(base, svc, secret)
        kind, dest = browser.go(authorize_url(rp, response_mode=mode))
        assert kind == "callback" and "#" not in dest
        assert query(dest)["error"] == "invalid_request"
    for response_type in ("token", "id_token", "code id_token"):
        rp = rp_for(base, svc, secret)
        url = authorize_url(rp).replace("response_type=code", f"response_type={response_type}")
        kind, dest = browser.go(url)
        assert kind == "callback" and "code=" not in dest and "access_token" not in dest
    # prompt=consent: the consent screen again although remembered.
    rp = rp_for(base, svc, secret)
    kind, page = browser.go(authorize_url(rp, prompt="consent"))
    assert kind == "page" and 'id="consent"' in page.text
    # client_credentials
    machine, msecret = actions.do_add_oidc_service(
        "Pusat Data", kind="machine", scopes="introspection", may_introspect=True, actor="t"
    )
    m = OAuth2Session(machine.application.client_id, msecret, scope="introspection")
    cc = m.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    # Introspection with client_secret_post (client_secret_basic: test above).
    assert set(meta["introspection_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    r = requests.post(
        meta["introspection_endpoint"],
        data={
            "token": cc["access_token"],
            "client_id": machine.application.client_id,
            "client_secret": msecret,
        },
    )
    assert r.status_code == 200 and r.json()["active"] is True
    # Revocation by a public client ("none").
    assert "none" in meta["revocation_endpoint_auth_methods_supported"]
    rp = rp_for(base, spa)
    _, callback = signed_in_flow(base, rp, student.user_id, browser=browser)
    public_token = rp.finish(callback)
    r = rp.client.revoke_token(meta["revocation_endpoint"], public_token["access_token"])
    assert r.status_code == 200 and rp.userinfo(public_token).status_code == 401
    assert meta["claims_parameter_supported"] is False
    # Every advertised scope can be given to a service; nothing else can.
    actions.do_add_oidc_service(
        "Semua", redirect_uris=[CALLBACK], scopes=" ".join(meta["scopes_supported"]), actor="t"
    )
    with pytest.raises(actions.ServiceError):
        actions.do_add_oidc_service("Lain", redirect_uris=[CALLBACK], scopes="phone", actor="t")


def test_migration_keeps_resource_servers_introspecting():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("akun.sso.migrations.0004_service_may_introspect")
    machine, _ = actions.do_add_oidc_service(
        "Pusat Data", kind="machine", scopes="introspection", actor="t"
    )
    web, _ = actions.do_add_oidc_service("Kelas", redirect_uris=[CALLBACK], actor="t")
    public, _ = actions.do_add_oidc_service(
        "Rapor", kind="public", redirect_uris=[CALLBACK], scopes="openid introspection", actor="t"
    )
    migration.keep_resource_servers(apps, None)
    got = {s.slug: s.may_introspect for s in Service.objects.all()}
    assert got == {machine.slug: True, web.slug: False, public.slug: False}
