"""Bearer and refresh token values (django-oauth-toolkit's ACCESS_TOKEN_GENERATOR and
REFRESH_TOKEN_GENERATOR)."""

import secrets


def random_token(request) -> str:
    """256 random bits, URL-safe, from one urandom call: oauthlib's default draws each of its
    30 characters with a call of its own, a measurable share of a refresh grant."""
    return secrets.token_urlsafe(32)
