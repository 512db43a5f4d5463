"""oauthlib's OpenID Connect server, cut down to what Akun offers and its discovery document
says (akun.sso.views.DiscoveryView reads these constants): the code flow with PKCE S256 and
query responses; the authorization code, refresh token and client credentials grants; no
request objects. Anything else is refused with its OAuth error before any credential or
password is looked at."""

from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import code_challenge_method_s256
from oauthlib.openid import Server
from oauthlib.openid.connect.core import exceptions as oidc_errors

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
RESPONSE_TYPES = ("code",)
RESPONSE_MODES = ("query",)
CODE_CHALLENGE_METHODS = {"S256": code_challenge_method_s256}


class AkunServer(Server):
    def __init__(self, request_validator, *args, **kwargs):
        super().__init__(request_validator, *args, **kwargs)
        for grant in (self.auth_grant, self.openid_connect_auth.proxy_target):
            # "plain" (and a challenge without a method, which defaults to it) is refused.
            grant._code_challenge_methods = CODE_CHALLENGE_METHODS
        self._grant_types = {k: v for k, v in self._grant_types.items() if k in GRANT_TYPES}
        self._response_types = {k: self._response_types[k] for k in RESPONSE_TYPES}

    def validate_token_request(self, request):
        super().validate_token_request(request)
        # Before the grant's handler runs: no client, code or password is checked for a
        # grant Akun does not offer (the password grant must not be a password oracle).
        if not request.grant_type:
            raise errors.InvalidRequestError(
                description="Missing grant_type parameter.", request=request
            )
        if request.grant_type not in self._grant_types:
            raise errors.UnsupportedGrantTypeError(request=request)

    def validate_authorization_request(self, uri, http_method="GET", body=None, headers=None):
        scopes, info = super().validate_authorization_request(uri, http_method, body, headers)
        # Client and redirect URI are valid by now: these errors go back to the client.
        request = info["request"]
        if getattr(request, "request_uri", None) is not None:
            raise oidc_errors.RequestURINotSupported(request=request)
        if getattr(request, "request", None) is not None:
            raise oidc_errors.RequestNotSupported(request=request)
        mode = getattr(request, "response_mode", None)
        if mode is not None and mode not in RESPONSE_MODES:
            raise errors.InvalidRequestError(
                description=f"response_mode {mode} is not supported.", request=request
            )
        return scopes, info
