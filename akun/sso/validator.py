"""django-oauth-toolkit's OAuth2Validator with Akun's rules: the service's registration
(active, scopes, PKCE, personal claims), the account's state on every grant, Akun's claims,
and keys from akun.sso.keys; on top of the library's fast paths (akun.sso.fast_paths)."""

import hashlib
import json
import time
import uuid

from django.conf import settings
from django.db import transaction
from jwcrypto import jws
from oauth2_provider.models import AbstractApplication
from oauthlib.oauth2.rfc6749 import errors

from akun.sso import claims, keys
from akun.sso.fast_paths import LibraryFastPaths
from akun.sso.models import Service

CLIENT_CACHE_SECONDS = settings.AKUN_SSO_CLIENT_CACHE_SECONDS
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


AUTH_TIME_KEY = "akun_auth_time"  # in a grant's claims: when its browser signed in


def code_family(code: str) -> uuid.UUID:
    """The token family of the tokens issued from an authorization code: derived from the
    code (one-way), so that a replayed code finds them without a table of used codes."""
    digest = hashlib.sha256(b"akun.sso.code-family:" + code.encode("utf-8")).digest()
    return uuid.UUID(bytes=digest[:16], version=4)


def _revoke_code_family(code, client_id) -> None:
    if not code:
        return
    from akun.sso import actions

    actions.do_revoke_code_tokens(code_family(code), actor=f"client:{client_id}")


def account_usable(user) -> bool:
    return user is not None and getattr(user, "state", None) == "active"


class AkunOAuth2Validator(LibraryFastPaths):
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
        if not ok:
            # Used already (or expired): whatever was issued from it is revoked (RFC 6749
            # 4.1.2), since someone else may hold the code too.
            _revoke_code_family(code, client_id)
        return ok and account_usable(request.user)

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        try:
            super().invalidate_authorization_code(client_id, code, request, *args, **kwargs)
        except errors.InvalidGrantError:
            # Two redemptions of one code at once: this one lost; both pairs are revoked.
            _revoke_code_family(code, client_id)
            raise

    def get_code_challenge(self, code, request):
        challenge = super().get_code_challenge(code, request)
        if challenge is None and request.code_verifier is not None:
            # A verifier for a code issued without a challenge: the client and the
            # authorization request disagree (RFC 9700 2.1.1), so the code may be injected.
            raise errors.InvalidGrantError(
                description="code_verifier sent for a code issued without code_challenge.",
                request=request,
            )
        return challenge

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, *args, **kwargs):
        if not super().confirm_redirect_uri(client_id, code, redirect_uri, client, *args, **kwargs):
            # oauthlib says invalid_request; a code bound to another URI is invalid_grant
            # (RFC 6749 5.2).
            request = args[0] if args else kwargs.get("request")
            raise errors.InvalidGrantError(
                description="redirect_uri differs from the authorization request's.",
                request=request,
            )
        return True

    # --- prompt=none: AuthorizeView decides, it sees the session and the consents ----------

    def validate_silent_login(self, request):
        return True

    def validate_silent_authorization(self, request):
        return True

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        ok = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        # A suspended, deactivated or deleted account's refresh tokens stop at once, even if
        # the state changed without the signal that revokes them (a bulk update).
        return ok and account_usable(request.user)

    def token_family(self, request, previous) -> uuid.UUID:
        # A code's first refresh token starts the family named after the code, so a replay
        # finds it.
        if not previous and request.grant_type == "authorization_code" and request.code:
            return code_family(request.code)
        return super().token_family(request, previous)

    def validate_bearer_token(self, token, scopes, request):
        ok = super().validate_bearer_token(token, scopes, request)
        if ok and request.user is not None and not account_usable(request.user):
            return False
        return ok

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        if not account_usable(request.user):
            raise errors.AccessDeniedError(request=request)
        # This browser's sign-in time (AuthorizeView puts it on the account), kept in the
        # grant's claims for the ID token's auth_time; never a value the client sent.
        requested = request.claims
        if isinstance(requested, str):
            try:
                requested = json.loads(requested)
            except ValueError:
                requested = None
        requested = dict(requested) if isinstance(requested, dict) else {}
        requested.pop(AUTH_TIME_KEY, None)
        signed_in = getattr(request.user, "akun_authenticated_at", None)
        if signed_in is not None:
            requested[AUTH_TIME_KEY] = int(signed_in)
        request.claims = requested or None
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

    def get_userinfo_claims(self, request):
        if request.user is None:  # a client-credentials token: nobody to describe
            raise errors.InvalidTokenError(
                description="This access token belongs to a service, not to a person.",
                request=request,
            )
        return super().get_userinfo_claims(request)

    def get_discovery_claims(self, request):
        return list(claims.CLAIM_SCOPE)

    def get_id_token_dictionary(self, token, token_handler, request):
        claims_, expiration_time = super().get_id_token_dictionary(token, token_handler, request)
        # The library says the account's latest sign-in (on any device); a code knows when
        # the browser it was issued to signed in.
        grant_claims = request.claims if isinstance(request.claims, dict) else {}
        if grant_claims.get(AUTH_TIME_KEY):
            claims_["auth_time"] = grant_claims[AUTH_TIME_KEY]
        return claims_, expiration_time

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
