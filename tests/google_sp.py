"""Google as a SAML service provider, for the tests: the AuthnRequest Google sends (unsigned,
HTTP-Redirect, its issuer, its ACS, NameIDPolicy unspecified -- as Google's third-party SSO
profile sends it) and a pysaml2 SP configured as Google is, that checks Akun's answer."""

import base64
import datetime as dt
import uuid
import zlib
from urllib.parse import urlencode

from saml2 import BINDING_HTTP_POST
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.saml import NAMEID_FORMAT_UNSPECIFIED

DOMAIN = "belajar.test"


def authn_request(entity_id: str, acs: str) -> tuple[str, str]:
    """(request id, XML) shaped as Google's."""
    rid = "_" + uuid.uuid4().hex
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        f'ID="{rid}" Version="2.0" IssueInstant="{now}" '
        'ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        f'ProviderName="google.com" IsPassive="false" AssertionConsumerServiceURL="{acs}">'
        '<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">'
        f"{entity_id}</saml:Issuer>"
        f'<samlp:NameIDPolicy AllowCreate="true" Format="{NAMEID_FORMAT_UNSPECIFIED}"/>'
        "</samlp:AuthnRequest>"
    )
    return rid, xml


def redirect_url(sso_url: str, xml: str, relay_state: str) -> str:
    deflated = zlib.compress(xml.encode())[2:-4]  # raw DEFLATE, as the binding says
    query = {"SAMLRequest": base64.b64encode(deflated).decode(), "RelayState": relay_state}
    return f"{sso_url}?{urlencode(query)}"


def sp_client(entity_id: str, acs: str, idp_metadata: str) -> Saml2Client:
    conf = SPConfig()
    conf.load(
        {
            "entityid": entity_id,
            "service": {
                "sp": {
                    "endpoints": {"assertion_consumer_service": [(acs, BINDING_HTTP_POST)]},
                    "want_response_signed": True,
                    "want_assertions_signed": True,
                    "allow_unsolicited": False,
                    "authn_requests_signed": False,
                    "name_id_format": NAMEID_FORMAT_UNSPECIFIED,
                }
            },
            "metadata": {"inline": [idp_metadata]},
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "allow_unknown_attributes": True,
        }
    )
    return Saml2Client(config=conf)


# --- a stand-in of Google's sign-in, served on a local port (the browser tests) ------------

import html  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from urllib.parse import parse_qs, urlparse  # noqa: E402

from tests.ports import share  # noqa: E402

PORTS = share(range(8400, 8500))  # this helper's range, a slice per test worker


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS}")


class GoogleStandIn:
    """Google's side of the SSO profile: /a/<domain>/ServiceLogin sends the browser to
    Akun's sign-in page URL with Google's AuthnRequest; /a/<domain>/acs checks Akun's signed
    response (pysaml2, against Akun's metadata) and shows who is signed in, or refuses."""

    def __init__(self, akun_base: str, domain: str = DOMAIN):
        self.akun = akun_base
        self.domain = domain
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.entity_id = f"google.com/a/{domain}"
        self.acs = f"{self.url}/a/{domain}/acs"
        self.outstanding: dict[str, str] = {}
        self.signed_in: list[str] = []
        self._client = None
        self._server = None

    def client(self):
        if self._client is None:
            import requests

            md = requests.get(f"{self.akun}/saml/metadata", timeout=30).text
            self._client = sp_client(self.entity_id, self.acs, md)
        return self._client

    def start(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _page(self, status, title, body):
                text = (
                    '<!doctype html><html lang="en"><meta name="viewport" '
                    'content="width=device-width"><title>{0}</title><h1>{0}</h1>{1}'
                ).format(html.escape(title), body)
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urlparse(self.path)
                if url.path != f"/a/{owner.domain}/ServiceLogin":
                    return self._page(404, "Not Found", "")
                cont = parse_qs(url.query).get("continue", ["https://mail.google.com/"])[0]
                rid, xml = authn_request(owner.entity_id, owner.acs)
                owner.outstanding[rid] = cont
                self.send_response(302)
                self.send_header("Location", redirect_url(f"{owner.akun}/saml/sso", xml, cont))
                self.end_headers()

            def do_POST(self):
                if urlparse(self.path).path != f"/a/{owner.domain}/acs":
                    return self._page(404, "Not Found", "")
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(min(length, 200_000)).decode())
                try:
                    response = owner.client().parse_authn_request_response(
                        form["SAMLResponse"][0], BINDING_HTTP_POST, outstanding=owner.outstanding
                    )
                    user = response.name_id.text
                except Exception as e:  # pysaml2 raises many kinds for a bad response
                    return self._page(403, "Google: sign-in refused", html.escape(str(e)))
                owner.signed_in.append(user)
                self._page(
                    200,
                    "Google",
                    f'<p id="google-user">Signed in to Google as {html.escape(user)}</p>',
                )

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
