"""Hostile input never makes a 500 (issue 12, point 13).

Every URL pattern of the project gets every parameter the code reads -- each field of each
form class, each name read from request.GET/POST, and the OpenID Connect / SAML protocol
parameters -- with a NUL, a 10 KB string and invalid UTF-8, in the query string and in a
form body, as an anonymous visitor, a signed-in account holder and a signed-in national
admin. The answer may be anything but a server error.
"""

import html
import re
from pathlib import Path

import pytest
from django import forms
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from akun.sso import actions as sso_actions
from tests import builders
from tests import portal_support as ps

pytestmark = pytest.mark.django_db

HOSTILE = {
    "nul": "%00",
    "10kb": "x" * 10_240,
    "invalid-utf8": "%FF%FE",
}

# Read by django-oauth-toolkit/oauthlib, pysaml2 and Django's set_language, not by our code.
PROTOCOL_PARAMETERS = {
    "client_id", "client_secret", "redirect_uri", "response_type", "response_mode", "scope",
    "state", "nonce", "prompt", "max_age", "login_hint", "id_token_hint", "ui_locales",
    "claims", "request", "request_uri", "code_challenge", "code_challenge_method",
    "code_verifier", "grant_type", "code", "refresh_token", "token", "token_type_hint",
    "post_logout_redirect_uri", "logout_hint", "allow", "SAMLRequest", "SAMLResponse",
    "RelayState", "SigAlg", "Signature", "language", "next", "csrfmiddlewaretoken",
}  # fmt: skip

SIGNS_OUT = {
    "identity:signout",
    "identity:sign_out_everywhere",
    "oauth2_provider:rp-initiated-logout",
}

_READ = re.compile(
    r"""(?:GET|POST|form)\.get(?:list)?\(\s*["']([A-Za-z_][\w-]*)["']"""
    r"""|["']([A-Za-z_][\w-]*)["']\s+in\s+request\.(?:GET|POST)"""
    r"""|self\.fields\[["']([A-Za-z_][\w-]*)["']\]"""
)


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def parameters() -> set[str]:
    """Every parameter name the project (and the OpenID Connect pages it serves) reads."""
    import akun.urls  # noqa: F401 - imports every view, so every form class is defined

    names = set(PROTOCOL_PARAMETERS)
    for form in _all_subclasses(forms.BaseForm):
        if form.__module__.startswith(("akun.", "oauth2_provider.")):  # ours and the OIDC pages
            names.update(form.base_fields)
    for source in Path(akun.__file__).parent.rglob("*.py"):
        for groups in _READ.findall(source.read_text(encoding="utf-8")):
            names.update(g for g in groups if g)
    return names


def _patterns(resolver, namespace=""):
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _patterns(p, ns)
        else:
            assert isinstance(p, URLPattern)
            assert p.name, f"unnamed URL pattern {p.pattern}: name it so that it is fuzzed"
            yield f"{namespace}{p.name}", p


def urls(samples: dict) -> list[tuple[str, str]]:
    """(URL name, path) for every URL pattern, its arguments filled from `samples`."""
    out = []
    for name, pattern in _patterns(get_resolver()):
        kwargs_names = set(pattern.pattern.regex.groupindex)
        out.append((name, reverse(name, kwargs={k: samples[k] for k in kwargs_names})))
    out.sort(key=lambda np: np[0] in SIGNS_OUT)  # sign-outs last
    return out


@pytest.fixture
def platform():
    sekolah = builders.school("20100001")
    pupil = builders.student(sekolah, "Budi Santoso", "budisantoso")
    svc, _secret = sso_actions.do_add_oidc_service(
        "Kelas Maya", redirect_uris=["https://kelas.example.id/cb"], actor="test"
    )
    samples = {
        "npsn": sekolah.npsn,
        "pk": pupil.pk,
        "kind": "email",
        "kode": "nasional",
        "slug": svc.slug,
        "number": "22222222",  # a helpdesk report number (none such)
        "chart": "kategori",
        "sid": f"npsn-{sekolah.npsn}",  # OneRoster sourcedIds
        "cid": "rombel-none",
        "rest": "nothing-here",
    }
    return sekolah, samples


def _account_holder(sekolah):
    holder = builders.staff(sekolah, local_part="gurufuzz", email="", no_hp="")

    def sign_in(client):
        r = client.post("/masuk", {"user_id": holder.user_id, "password": builders.PASSWORD})
        assert r.status_code == 302, r.content[:300]

    return sign_in


def _admin(_sekolah):
    admin = ps.dinas("nasional", nama="Admin Fuzz")
    return lambda client: ps.sign_in(client, admin)


SIGN_IN = {"anonymous": None, "account-holder": _account_holder, "admin": _admin}


@pytest.mark.parametrize("who", list(SIGN_IN))
def test_no_parameter_value_makes_a_server_error(who, platform):
    sekolah, samples = platform
    client = Client()
    sign_in = SIGN_IN[who] and SIGN_IN[who](sekolah)

    def fresh_session():
        client.cookies.clear()
        if sign_in:
            sign_in(client)

    fresh_session()
    names = sorted(parameters())
    assert {"action", "q", "next", "user_id", "SAMLRequest", "saml_metadata"} <= set(names)
    failures = []
    for url_name, path in urls(samples):
        for kind, bad in HOSTILE.items():
            for name in names:
                encoded = f"{name}={bad}"
                for method in ("get", "post"):
                    try:
                        if method == "get":
                            r = client.get(f"{path}?{encoded}")
                        else:
                            r = client.post(
                                path, encoded, content_type="application/x-www-form-urlencoded"
                            )
                    except Exception as e:  # noqa: BLE001 - every one is a finding
                        failures.append(f"{method.upper()} {path} {name}={kind}: {e!r:.200}")
                        continue
                    if r.status_code >= 500:
                        failures.append(f"{method.upper()} {path} {name}={kind}: {r.status_code}")
        if sign_in and url_name in SIGNS_OUT:
            fresh_session()
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures[:60])


def test_operator_log_with_a_nul_action_is_a_clear_400(client):
    """The issue's own finding: /operator/log?action=%00 answered 500 (PostgreSQL)."""
    ps.sign_in(client, ps.dinas("nasional"))
    r = client.get("/operator/log?action=%00")
    assert r.status_code == 400
    assert "action" in r.content.decode() and "NUL" in r.content.decode()
    assert client.get("/operator/log?action=identity.sign_in").status_code == 200


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("q=%00", ["q", "NUL"]),
        ("%00=1", ["NUL"]),
        ("q=%FF%FE", ["q", "UTF-8"]),
        ("q=" + "x" * 10_240, ["q", "4096"]),
    ],
)
def test_bad_query_values_are_refused_naming_the_parameter(client, query, words):
    for r in (
        client.get(f"/cek-akun/npsn?{query}", HTTP_ACCEPT_LANGUAGE="en"),
        client.post("/cek-akun", query, content_type="application/x-www-form-urlencoded"),
    ):
        assert r.status_code == 400
        assert r["Content-Type"].startswith("text/plain")
        for word in words:
            assert word in r.content.decode()


def test_a_nul_in_a_multipart_form_is_refused_too(client):
    r = client.post("/cek-akun", {"nama": "Siti\x00", "role": "peserta_didik"})  # multipart
    assert r.status_code == 400 and "nama" in r.content.decode()


def test_a_long_saml_request_is_not_cut_off_by_the_length_limit(client):
    r = client.get("/saml/sso?SAMLRequest=" + "x" * 10_240)
    # Refused by the SAML endpoint as no AuthnRequest, not by the parameter filter's limit.
    body = r.content.decode()
    assert "lebih panjang" not in body and "longer than" not in body
    from django.utils import translation

    from akun.sso.saml_views import REFUSAL_TEXT

    with translation.override("id"):
        unreadable = str(REFUSAL_TEXT["unreadable"])
    assert r.status_code == 400 and html.escape(unreadable) in body
    assert "x" * 100 not in body  # the request is not echoed (not even by the language switch)


def test_logout_with_an_unknown_client_id_is_a_400(client):
    assert client.get("/o/logout/?client_id=no-such-client").status_code == 400
    r = client.post("/o/logout/", {"client_id": "no-such-client", "allow": "on"})
    assert r.status_code == 400


def test_the_refusal_is_in_indonesian_first_and_english_on_request(client):
    r = client.get("/cek-akun/npsn?q=%00")
    assert r.content.decode() == "Parameter “q” berisi karakter NUL."
    r = client.get("/cek-akun/npsn?q=%00", HTTP_ACCEPT_LANGUAGE="en")
    assert r.content.decode() == "The parameter “q” contains a NUL character."
