"""django-oauth-toolkit's settings for Akun, imported by akun/settings.py.

Plain data only: this module is read while Django's settings load."""

from akun.core import env

_PRODUCTION = env.text("AKUN_ENV", "development") == "production"  # checked by settings.py


def _seconds(name: str, default: int) -> int:
    return env.whole(name, default, minimum=1)


ACCESS_TOKEN_SECONDS = _seconds("AKUN_SSO_ACCESS_TOKEN_SECONDS", 3600)
ID_TOKEN_SECONDS = _seconds("AKUN_SSO_ID_TOKEN_SECONDS", 3600)
REFRESH_TOKEN_SECONDS = _seconds("AKUN_SSO_REFRESH_TOKEN_SECONDS", 30 * 24 * 3600)
JWKS_MAX_AGE_SECONDS = _seconds("AKUN_SSO_JWKS_MAX_AGE_SECONDS", 600)
# How long a worker keeps a service's registration, and the published signing keys, before
# reading them again (akun.sso.validator, akun.sso.keys).
AKUN_SSO_CLIENT_CACHE_SECONDS = env.number("AKUN_SSO_CLIENT_CACHE_SECONDS", 10)
AKUN_SSO_KEY_RECHECK_SECONDS = env.number("AKUN_SSO_KEY_RECHECK_SECONDS", 30)

# 1EdTech OneRoster 1.2 (akun.oneroster): client-credentials scopes of learning platforms.
ONEROSTER_SCOPES = {
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly": "OneRoster core",
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly": "OneRoster rostering",
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-demographics.readonly": (
        "OneRoster demographics"
    ),
}

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OAUTH2_VALIDATOR_CLASS": "akun.sso.validator.AkunOAuth2Validator",
    # oauthlib's server with only the grants, response types and PKCE method Akun offers.
    "OIDC_SERVER_CLASS": "akun.sso.server.AkunServer",
    "SCOPES": {
        "openid": "OpenID Connect",
        "profile": "Name and user ID",
        "email": "Learning account e-mail address",
        "akun": "Role, level, school, region, grade and class",
        "introspection": "Check access tokens (resource servers)",
        **ONEROSTER_SCOPES,
    },
    "DEFAULT_SCOPES": ["openid"],
    # The issuer: empty derives it from the request (host of the discovery document).
    "OIDC_ISS_ENDPOINT": env.text("AKUN_SSO_ISSUER", ""),
    # Keys come from akun.sso.keys (the SigningKey table), set here at run time.
    "OIDC_RSA_PRIVATE_KEY": "",
    "OIDC_JWKS_MAX_AGE_SECONDS": JWKS_MAX_AGE_SECONDS,
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    # Public clients redeem their codes with PKCE and no secret ("none").
    "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ],
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": ACCESS_TOKEN_SECONDS,
    "ID_TOKEN_EXPIRE_SECONDS": ID_TOKEN_SECONDS,
    "REFRESH_TOKEN_EXPIRE_SECONDS": REFRESH_TOKEN_SECONDS,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ROTATE_REFRESH_TOKEN": True,
    # A refresh token presented after it was rotated away revokes its whole family.
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "ACCESS_TOKEN_GENERATOR": "akun.sso.tokens.random_token",
    "REFRESH_TOKEN_GENERATOR": "akun.sso.tokens.random_token",
    # PKCE is decided per client in the validator (always for public clients).
    "PKCE_REQUIRED": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if _PRODUCTION else ["https", "http"],
    # Client secrets are 128 random characters: a salted SHA-256 is enough, and argon2id
    # (the password hasher) would cap the token endpoint at a few dozen grants a second.
    "CLIENT_SECRET_HASHER": "akun_sso_sha256",
    # Consent is Akun's own (remembered in sso.Consent); see akun.sso.views.AuthorizeView.
    "REQUEST_APPROVAL_PROMPT": "force",
}

# Named so that migrations referring to the (swappable) Application model resolve it.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
