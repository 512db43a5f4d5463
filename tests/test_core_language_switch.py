"""The language switcher in every page's header (core's base.html) returns to the same page
without re-sending a code or token that was in its query string."""

import html
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _switch_next(response) -> str:
    form = re.search(rb'<form class="lang".*?</form>', response.content, re.S)
    assert form, "no language switcher on the page"
    value = re.search(rb'name="next" value="([^"]*)"', form.group(0))
    return html.unescape(value.group(1).decode())


def test_switcher_drops_codes_and_tokens_from_the_query(client):
    url = reverse("identity:signin")
    r = client.get(url + "?code=4711&token=s3cret&access_token=t&next=/akun-saya")
    nxt = _switch_next(r)
    assert urlsplit(nxt).path == url
    assert dict(parse_qsl(urlsplit(nxt).query)) == {"next": "/akun-saya"}
    assert "4711" not in nxt and "s3cret" not in nxt
    # Switching goes back there: the code is not sent again.
    r = client.post("/i18n/setlang/", {"language": "en", "next": nxt})
    assert r.status_code == 302 and r["Location"] == nxt


def test_switcher_keeps_a_search_and_the_path(client):
    url = reverse("identity:npsn_search")
    r = client.get(url, {"q": "SD Negeri 1", "wilayah": "Bandung", "code": "99"})
    nxt = _switch_next(r)
    assert urlsplit(nxt).path == url
    assert dict(parse_qsl(urlsplit(nxt).query)) == {"q": "SD Negeri 1", "wilayah": "Bandung"}


def test_switcher_on_a_page_without_query_is_the_path(client):
    url = reverse("identity:reset")
    assert _switch_next(client.get(url)) == url
    # A path that smuggles markup stays an attribute value.
    r = client.get(url + '?q="><script>x</script>')
    assert b"<script>x</script>" not in r.content
