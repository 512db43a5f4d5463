"""Helpers for the SSO tests: a browser stand-in that walks Akun's real pages (requests,
following redirects, posting the sign-in and consent forms) and an Authlib relying party.
Their fixtures (fresh key and client caches, `school`, `student`) are in tests/conftest.py."""

import re
from urllib.parse import parse_qs, urljoin, urlparse

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

from tests import builders

PASSWORD = builders.PASSWORD
CALLBACK = "http://127.0.0.1:18799/callback"  # never contacted: the browser stops there
SCOPES = "openid profile email akun"


def form_fields(html: str, form_id: str | None = None) -> dict:
    """The hidden inputs of a form on the page (the CSRF token, the consent's fields)."""
    if form_id:
        m = re.search(rf'<form[^>]*id="{form_id}".*?</form>', html, re.S)
        html = m.group(0) if m else ""
    out = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if name and 'type="hidden"' in tag:
            value = re.search(r'value="([^"]*)"', tag)
            out[name.group(1)] = _unescape(value.group(1)) if value else ""
    return out


def _unescape(s: str) -> str:
    return (
        s.replace("&amp;", "&")
        .replace("&quot;", '"')
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
    )


class Browser:
    """An HTTP session that follows Akun's pages the way a person's browser would."""

    def __init__(self, base: str):
        self.base = base
        self.s = requests.Session()
        self.last = None

    def go(self, url: str, stop_at: str = CALLBACK, method="GET", data=None):
        """Follow redirects until a page is shown or the callback is reached.
        Returns ("callback", url) or ("page", response)."""
        for _ in range(20):
            if url.startswith(stop_at):
                return "callback", url
            if method == "GET":
                r = self.s.get(url, allow_redirects=False, timeout=30)
            else:
                r = self.s.post(url, data=data, allow_redirects=False, timeout=30)
                method, data = "GET", None
            self.last = r
            if r.status_code in (301, 302, 303, 307):
                url = urljoin(url, r.headers["Location"])
                continue
            return "page", r
        raise AssertionError("too many redirects")

    def sign_in(self, page, user_id: str, password: str = PASSWORD):
        fields = form_fields(page.text)
        fields.update({"user_id": user_id, "password": password})
        return self.go(page.url, method="POST", data=fields)

    def consent(self, page, allow=True):
        fields = form_fields(page.text, "consent")
        if allow:
            fields["allow"] = "1"
        return self.go(page.url, method="POST", data=fields)


def signed_in(live_server, account, password: str = PASSWORD) -> Browser:
    """A browser signed in as `account` through the sign-in page."""
    browser = Browser(live_server.url)
    kind, page = browser.go(f"{live_server.url}/masuk")
    kind, page = browser.sign_in(page, account.user_id, password)
    assert kind == "page" and page.status_code == 200
    return browser


class RelyingParty:
    """A learning service built on Authlib: code flow with PKCE and nonce, ID token checked
    against the provider's JWKS."""

    def __init__(self, base, client_id, client_secret=None, scope=SCOPES, redirect_uri=CALLBACK):
        self.base = base
        self.meta = requests.get(f"{base}/.well-known/openid-configuration", timeout=30).json()
        self.client_id = client_id
        self.client = OAuth2Session(
            client_id,
            client_secret,
            scope=scope,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic" if client_secret else "none",
        )
        self.verifier = generate_token(48)
        self.nonce = generate_token(20)

    def authorization_url(self, pkce=True) -> str:
        kwargs = {"nonce": self.nonce}
        if pkce:
            kwargs["code_verifier"] = self.verifier
        url, self.state = self.client.create_authorization_url(
            self.meta["authorization_endpoint"], **kwargs
        )
        return url

    def finish(self, callback_url: str, pkce=True) -> dict:
        kwargs = {"code_verifier": self.verifier} if pkce else {}
        return self.client.fetch_token(
            self.meta["token_endpoint"], authorization_response=callback_url, **kwargs
        )

    def jwks(self):
        return JsonWebKey.import_key_set(requests.get(self.meta["jwks_uri"], timeout=30).json())

    def verify_id_token(self, token: dict, leeway=60, now=None):
        claims = jwt.decode(
            token["id_token"],
            self.jwks(),
            claims_cls=CodeIDToken,
            claims_options={"iss": {"essential": True, "value": self.meta["issuer"]}},
            claims_params={
                "nonce": self.nonce,
                "client_id": self.client_id,
                "access_token": token["access_token"],
            },
        )
        claims.validate(now=now, leeway=leeway)
        return claims

    def userinfo(self, token: dict):
        return requests.get(
            self.meta["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {token['access_token']}"},
            timeout=30,
        )

    def refresh(self, refresh_token: str) -> dict:
        return self.client.refresh_token(self.meta["token_endpoint"], refresh_token=refresh_token)


def query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
