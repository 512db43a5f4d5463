"""A tiny learning service that signs people in with Akun (OpenID Connect, code + PKCE).

Plain WSGI (the standard library's wsgiref) and Authlib: the relying party's whole job in
one file. See README.md for how to run it against `make demo`.

    AKUN_URL=http://127.0.0.1:8000 CLIENT_ID=... CLIENT_SECRET=... python app.py
"""

import html
import json
import os
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qs
from wsgiref.simple_server import make_server

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

SCOPE = "openid profile email akun"


def make_app(akun_url: str, client_id: str, client_secret: str, base_url: str):
    meta = requests.get(f"{akun_url}/.well-known/openid-configuration", timeout=30).json()
    redirect_uri = f"{base_url}/callback"
    sessions: dict[str, dict] = {}  # cookie -> what we know (in memory: a demo)

    def client():
        return OAuth2Session(
            client_id, client_secret, scope=SCOPE, redirect_uri=redirect_uri,
            code_challenge_method="S256",
        )  # fmt: skip

    def page(start, body, status="200 OK", headers=()):
        doc = f"<!doctype html><meta charset=utf-8><title>Contoh Layanan</title>{body}"
        start(status, [("Content-Type", "text/html; charset=utf-8"), *headers])
        return [doc.encode()]

    def redirect(start, url, headers=()):
        start("302 Found", [("Location", url), *headers])
        return [b""]

    def app(environ, start):
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        sid = cookie["rp"].value if "rp" in cookie else None
        sess = sessions.get(sid) if sid else None
        path = environ.get("PATH_INFO", "/")
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}

        if path == "/":
            if sess and "claims" in sess:
                c = sess["claims"]
                rows = "".join(
                    f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                    for k, v in sorted(c.items())
                )
                return page(start, (
                    f"<h1>Halo, {html.escape(c.get('name') or c['sub'])}</h1>"
                    f"<p id=user>{html.escape(c['sub'])}</p><table>{rows}</table>"
                    f"<p><a href=/keluar>Keluar</a></p>"
                ))  # fmt: skip
            return page(start, "<h1>Contoh Layanan</h1><p><a href=/masuk>Masuk dengan Akun</a>")

        if path == "/masuk":
            sid = secrets.token_urlsafe(24)
            verifier, nonce = generate_token(48), generate_token(20)
            url, state = client().create_authorization_url(
                meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
            )
            sessions[sid] = {"verifier": verifier, "nonce": nonce, "state": state}
            return redirect(start, url, [("Set-Cookie", f"rp={sid}; HttpOnly; Path=/")])

        if path == "/callback":
            if not sess or query.get("state") != sess.get("state"):
                return page(start, "<p>Sesi tidak cocok.</p>", "400 Bad Request")
            if "error" in query:
                return page(
                    start, f"<p>Ditolak: {html.escape(query['error'])}</p>", "403 Forbidden"
                )
            url = base_url + path + "?" + environ.get("QUERY_STRING", "")
            token = client().fetch_token(
                meta["token_endpoint"], authorization_response=url, code_verifier=sess["verifier"]
            )
            # The ID token must be signed by one of Akun's published keys, for us, with our nonce.
            keys = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=30).json())
            claims = jwt.decode(
                token["id_token"], keys, claims_cls=CodeIDToken,
                claims_options={"iss": {"essential": True, "value": meta["issuer"]}},
                claims_params={"nonce": sess["nonce"], "client_id": client_id,
                               "access_token": token["access_token"]},
            )  # fmt: skip
            claims.validate(leeway=60)
            info = requests.get(
                meta["userinfo_endpoint"],
                headers={"Authorization": f"Bearer {token['access_token']}"},
                timeout=30,
            ).json()
            sess.update(token=token, claims={**dict(claims), **info})
            return redirect(start, "/")

        if path == "/keluar" and sess and "token" in sess:
            sessions.pop(sid, None)
            url = (f"{meta['end_session_endpoint']}?id_token_hint={sess['token']['id_token']}"
                   f"&client_id={client_id}&post_logout_redirect_uri={base_url}/")  # fmt: skip
            return redirect(start, url)

        if path == "/claims.json" and sess and "claims" in sess:
            start("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(sess["claims"]).encode()]
        return page(start, "<p>Tidak ditemukan.</p>", "404 Not Found")

    return app


def main():
    port = int(os.environ.get("PORT", "8765"))
    app = make_app(
        os.environ.get("AKUN_URL", "http://127.0.0.1:8000").rstrip("/"),
        os.environ["CLIENT_ID"],
        os.environ["CLIENT_SECRET"],
        f"http://127.0.0.1:{port}",
    )
    print(f"Contoh Layanan on http://127.0.0.1:{port}/")
    make_server("127.0.0.1", port, app).serve_forever()


if __name__ == "__main__":
    main()
