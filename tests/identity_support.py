"""identity's page helpers for its tests (no builders here: schools, people and accounts come
from tests.builders)."""

import re

from django.urls import reverse


def sign_in(client, user_id, password):
    """A POST of the sign-in form."""
    return client.post(reverse("identity:signin"), {"user_id": user_id, "password": password})


def csrf_free(html: bytes) -> bytes:
    """A page without its CSRF token, to compare two responses byte for byte."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", html)
