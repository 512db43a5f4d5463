"""django-oauth-toolkit's OAuth2Validator with Akun's rules: the service's registration
(active, scopes, PKCE, personal claims), the account's state on every grant, Akun's claims,
and keys from akun.sso.keys."""

import json
import os
import time

from django.db import transaction
from jwcrypto import jws
from oauth2_provider.models import AbstractApplication
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from akun.sso import claims, keys
from akun.sso.models import Service

CLIENT_CACHE_SECONDS = float(os.environ.get("AKUN_SSO_CLIENT_CACHE_SECONDS", "10"))
_clients: dict = {}  # client_id -> (monotonic time, Application with its Service)


def forget_clients() -> None:
    _clients.clear()


def service_of(application) -> Service | None:
    """The Service beside an Application, cached on the instance for this request."""
    if application is None:
        return None
    if not hasattr(application, "_akun_service"):
        application._akun_service = Service.objects.filter(application=application).first()
    return application._akun_service


def account_usable(user) -> bool:
    return user is not None and getattr(user, "state", None) == "active"


class AkunOAuth2Validator(OAuth2Validator):
    oidc_claim_scope = claims.CLAIM_SCOPE

    # --- the service's registration -------------------------------------------------------

    def _load_application(self, client_id, request):
        # Registrations change rarely: a worker keeps them CLIENT_CACHE_SECONDS (disabling a
        # service revokes its tokens at once all the same, in actions.do_update_service).
        if request.client is None and client_id:
            hit = _clients.get(client_id)
            if hit is not None and time.monotonic() - hit[0] < CLIENT_CACHE_SECONDS:
                request.client = hit[1]
        app = super()._load_application(client_id, request)
        if app is None:
            return None
        svc = service_of(app)
        if svc is None or not svc.active:
            _clients.pop(client_id, None)
            request.client = None
            return None
        _clients[client_id] = (time.monotonic(), app)
        return app

    def is_pkce_required(self, client_id, request):
        client = request.client or self._load_application(client_id, request)
        if client is None or client.client_type == AbstractApplication.CLIENT_PUBLIC:
            return True
        svc = service_of(client)
        return svc is None or svc.require_pkce

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        if not super().validate_scopes(client_id, scopes, client, request, *args, **kwargs):
            return False
        svc = service_of(client)
        return svc is not None and set(scopes) <= svc.scopes

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        svc = service_of(request.client)
        allowed = svc.scopes if svc else set()
        return [s for s in ("openid",) if s in allowed] or sorted(allowed)[:1]

    # --- the account's state, on every grant ----------------------------------------------

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        ok = super().validate_code(client_id, code, client, request, *args, **kwargs)
        return ok and account_usable(request.user)

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        ok = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        # A suspended, deactivated or deleted account's refresh tokens stop at once, even if
        # the state changed without the signal that revokes them (a bulk update).
        return ok and account_usable(request.user)

    def validate_bearer_token(self, token, scopes, request):
        ok = super().validate_bearer_token(token, scopes, request)
        if ok and request.user is not None and not account_usable(request.user):
            return False
        return ok

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        if not account_usable(request.user):
            raise errors.AccessDeniedError(request=request)
        super().save_authorization_code(client_id, code, request, *args, **kwargs)
        svc = service_of(request.client)
        user = request.user
        if svc is not None:
            from akun.sso import actions

            transaction.on_commit(lambda: actions.note_sign_in(user, svc))

    # --- claims ---------------------------------------------------------------------------

    def get_oidc_claims(self, token, token_handler, request):
        svc = service_of(request.client)
        personal = svc.personal_claims if svc else ()
        return claims.claims_for(request.user, request.scopes, personal=personal)

    def get_discovery_claims(self, request):
        return list(claims.CLAIM_SCOPE)

    # --- keys -----------------------------------------------------------------------------

    def finalize_id_token(self, id_token, token, token_handler, request):
        keys.keyset()  # the current key into OIDC_RSA_PRIVATE_KEY, from memory
        return super().finalize_id_token(id_token, token, token_handler, request)

    def _get_key_for_token(self, token):
        """By the token's kid, so a token signed before a rotation still verifies."""
        unverified = jws.JWS()
        unverified.deserialize(token)
        header = unverified.jose_header
        if isinstance(header, str):
            header = json.loads(header)
        kid = (header or {}).get("kid")
        if kid:
            return keys.key_for_kid(kid)
        return super()._get_key_for_token(token)
