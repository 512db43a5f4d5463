"""The example relying party (examples/relying_party/app.py) signs a person in with a live
Akun: the browser goes to the example, on to Akun's sign-in and consent pages, and back."""

import importlib.util
import threading
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import requests

from akun.sso import actions, keys
from tests import builders
from tests.sso_support import Browser

pytestmark = pytest.mark.django_db(transaction=True)
PORT = 18765
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "relying_party" / "app.py"


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def example(live_server):
    keys.reset()
    svc, secret = actions.do_add_oidc_service(
        "Contoh Layanan",
        redirect_uris=[f"http://127.0.0.1:{PORT}/callback"],
        post_logout_redirect_uris=[f"http://127.0.0.1:{PORT}/"],
        scopes="openid profile email akun",
        actor="test",
    )
    spec = importlib.util.spec_from_file_location("example_rp", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = module.make_app(
        live_server.url, svc.application.client_id, secret, f"http://127.0.0.1:{PORT}"
    )
    server = make_server("127.0.0.1", PORT, app, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{PORT}"
    server.shutdown()
    server.server_close()


def test_example_signs_in_with_a_demo_style_account(live_server, example):
    student = builders.student(builders.school(), state="active", password="teh manis di sore hari")
    browser = Browser(live_server.url)
    kind, page = browser.go(f"{example}/masuk", stop_at="http://never/")
    assert kind == "page" and "/masuk" in page.url and page.url.startswith(live_server.url)
    kind, page = browser.sign_in(page, student.user_id)
    assert 'id="consent"' in page.text and "Contoh Layanan" in page.text
    kind, page = browser.consent(page)
    # Back at the example: it verified the ID token and shows the person.
    assert kind == "page" and page.url.startswith(example), page.url
    assert f"<p id=user>{student.user_id}</p>" in page.text
    claims = browser.s.get(f"{example}/claims.json", timeout=30).json()
    assert claims["role"] == "peserta_didik" and claims["school_npsn"] == "20104321"
    # Sign-out goes through Akun and back to the example.
    kind, page = browser.go(f"{example}/keluar", stop_at="http://never/")
    assert kind == "page" and page.url.rstrip("/") == example and "Masuk dengan Akun" in page.text
    assert requests.get(f"{live_server.url}/healthz", timeout=30).status_code == 200
