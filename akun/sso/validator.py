"""django-oauth-toolkit's OAuth2Validator with Akun's rules: the service's registration
(active, scopes, PKCE, personal claims), the account's state on every grant, Akun's claims,
and keys from akun.sso.keys."""

import base64
import datetime as dt
import hashlib
import json
import time
import uuid
from functools import cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, connections, router, transaction
from django.utils import timezone
from jwcrypto import jws
from oauth2_provider.models import (
    AbstractApplication,
    get_access_token_model,
    get_id_token_model,
    get_refresh_token_model,
    refresh_token_expire_timedelta,
)
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors

from akun.core import rows
from akun.roster.api import PesertaDidik
from akun.sso import claims, keys
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


AccessToken = get_access_token_model()
IDToken = get_id_token_model()
RefreshToken = get_refresh_token_model()

Account = get_user_model()
_AT_FIELDS = ("id", "expires", "scope")  # what the refresh grant reads of it


@cache
def _live_refresh_sql() -> str:
    qn = connection.ops.quote_name
    return (
        f"SELECT {rows.columns(RefreshToken, 'rt')}, "
        f"{rows.columns(AccessToken, 'at', _AT_FIELDS)}, {rows.columns(Account, 'u')}, "
        f"{rows.columns(PesertaDidik, 'pd', claims.STUDENT_FIELDS)} "
        f"FROM {qn(RefreshToken._meta.db_table)} rt "
        f"JOIN {qn(AccessToken._meta.db_table)} at ON at.id = rt.access_token_id "
        f"JOIN {qn(Account._meta.db_table)} u ON u.id = rt.user_id "
        f"LEFT JOIN {qn(PesertaDidik._meta.db_table)} pd ON u.person_type = 'peserta_didik' "
        "AND pd.peserta_didik_id = u.person_id "
        "WHERE rt.token_checksum = %s AND rt.revoked IS NULL ORDER BY rt.id LIMIT 1"
    )


# Grants whose ID token is signed before save_bearer_token runs in the same request: the
# IDToken row is written inside that method's transaction, beside the access token.
_ID_TOKEN_WITH_BEARER = {"authorization_code", "refresh_token"}


def _revoke_sql(qn) -> str:
    """Revoke a refresh token only if still live with the same access token: the same row
    lock as the library's SELECT FOR UPDATE, and whether this request won the rotation.
    Parameters: revoked, updated, id, access_token_id."""
    return (
        f"UPDATE {qn(RefreshToken._meta.db_table)} SET revoked = %s, updated = %s, "
        "access_token_id = NULL WHERE id = %s AND revoked IS NULL AND access_token_id = %s"
    )


_signers: dict = {}  # kid -> cryptography RSA private key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _sign_rs256(ks, header: dict, claims_: dict) -> str:
    kid = header["kid"]
    signer = _signers.get(kid)
    if signer is None:
        _signers.clear()  # only the current key signs
        signer = _signers[kid] = ks.by_kid[kid].get_op_key("sign")
    signing_input = (
        _b64(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64(json.dumps(claims_, separators=(",", ":"), default=str).encode())
    )
    signature = signer.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + _b64(signature)


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
        ok = self._live_refresh_token(refresh_token, client, request)
        if not ok:
            # Anything but a plainly live token (unknown, revoked: reuse detection, expired,
            # another client's) is decided by the library, exactly as before.
            ok = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        # A suspended, deactivated or deleted account's refresh tokens stop at once, even if
        # the state changed without the signal that revokes them (a bulk update).
        return ok and account_usable(request.user)

    def _live_refresh_token(self, refresh_token, client, request) -> bool:
        """The library's acceptance test for a live refresh token, in one statement: the
        token with its access token's expiry, its account, and a student's roster row for
        the `akun` claims (the library loads the account and the application one statement
        each; claims another). Only says yes; every no goes to the library."""
        if client is None:
            return False
        checksum = hashlib.sha256(refresh_token.encode("utf-8")).hexdigest()
        with connection.cursor() as cur:
            cur.execute(_live_refresh_sql(), [checksum])
            row = cur.fetchone()
        if row is None:
            return False
        n_rt, n_at, n_user = (
            rows.width(RefreshToken),
            rows.width(AccessToken, _AT_FIELDS),
            rows.width(Account),
        )
        rt = rows.instance(RefreshToken, row[:n_rt], "rt")
        if rt.access_token_id is None or rt.application_id != client.pk:
            return False
        at = rows.instance(AccessToken, row[n_rt : n_rt + n_at], "at", _AT_FIELDS)
        expire_delta = refresh_token_expire_timedelta()
        if expire_delta and at.expires + expire_delta <= timezone.now():
            return False
        user = rows.instance(Account, row[n_rt + n_at : n_rt + n_at + n_user], "u")
        roster = row[n_rt + n_at + n_user :]
        if user.person_type == "peserta_didik":
            record = rows.instance(PesertaDidik, roster, "pd", claims.STUDENT_FIELDS)
            claims.attach_roster(user, record if record.peserta_didik_id else None)
        rt.access_token = at
        rt.application = client
        rt.user = user
        request.user = user
        request.refresh_token = refresh_token
        request.refresh_token_instance = rt
        return True

    # --- saving tokens: the library's rows, in fewer statements -----------------------------

    def save_bearer_token(self, token, request, *args, **kwargs):
        if request.grant_type == "client_credentials" and not token.get("refresh_token"):
            # One INSERT (the access token): atomic by itself, no transaction around it.
            return self._save_bearer_token(token, request, *args, **kwargs)
        if self._rotation(token, request) and self._rotate_in_one_statement(token, request):
            return None
        with transaction.atomic(using=router.db_for_write(AccessToken)):
            result = self._save_bearer_token(token, request, *args, **kwargs)
            pending = getattr(request, "akun_pending_id_token", None)
            if pending is not None:  # no access token made (the library's grace path)
                request.akun_pending_id_token = None
                pending.save()
            return result

    def _rotation(self, token, request) -> bool:
        """A refresh grant that rotates a live token this validator loaded."""
        rt = getattr(request, "refresh_token_instance", None)
        return bool(
            request.grant_type == "refresh_token"
            and "scope" in token
            and token.get("refresh_token")
            and self.rotate_refresh_token(request)
            and isinstance(rt, RefreshToken)
            and rt.access_token_id
        )

    def _rotate_in_one_statement(self, token, request) -> bool:
        """PostgreSQL: the whole rotation as one statement (atomic by itself, so no
        BEGIN/COMMIT): revoke the old refresh token if still live, delete its access token,
        insert the ID token, access token and refresh token -- each step only if the revoke
        matched. False (nothing written) if another request rotated it first, or where this
        does not apply; the caller then takes the transaction path, and with it the
        library's handling of the race."""
        db = router.db_for_write(AccessToken)
        conn = connections[db]
        models = (RefreshToken, AccessToken, IDToken)
        if conn.vendor != "postgresql" or conn.in_atomic_block:
            return False
        if not all(rows.plain_save(m) for m in models):
            return False
        id_token = (
            getattr(request, "akun_pending_id_token", None) if token.get("id_token") else None
        )
        if token.get("id_token") and id_token is None:
            return False
        rt = request.refresh_token_instance
        now = timezone.now()
        self._check_and_set_request_resource(request)
        seconds = token.get("expires_in", oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS)
        expires = now + dt.timedelta(seconds=seconds)
        access = self._new_access_token(request, token, expires, source=rt)
        refresh = self._new_refresh_token(request, token["refresh_token"], None, rt.token_family)
        q = conn.ops.quote_name
        params: list = []

        def insert(model, obj, source: str, links: dict[str, str]) -> str:
            cols, exprs = [], []
            for col, value in rows.insert_values(obj):
                cols.append(col)
                if col in links:
                    exprs.append(links[col])
                else:
                    exprs.append("%s")
                    params.append(value)
            return (
                f"INSERT INTO {q(model._meta.db_table)} ({', '.join(cols)}) "
                f"SELECT {', '.join(exprs)} FROM {source} RETURNING id"
            )

        stamp = conn.ops.adapt_datetimefield_value(now)
        params += [stamp, stamp, rt.pk, rt.access_token_id, rt.access_token_id]
        sql = (
            f"WITH won AS ({_revoke_sql(q)} RETURNING id), "
            f"gone AS (DELETE FROM {q(AccessToken._meta.db_table)} WHERE id = %s "
            "AND EXISTS (SELECT 1 FROM won) RETURNING id), "
        )
        if id_token is not None:
            sql += f"idt AS ({insert(IDToken, id_token, 'won', {})}), "
            id_link = "(SELECT id FROM idt)"
        else:
            id_link = "NULL"
        sql += f"nat AS ({insert(AccessToken, access, 'won', {q('id_token_id'): id_link})}) "
        sql += insert(RefreshToken, refresh, "nat", {q("access_token_id"): "nat.id"})
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            won = cursor.fetchone() is not None
        if won:
            request.akun_pending_id_token = None
            request.refresh_token_instance = None
        return won

    def _save_bearer_token(self, token, request, *args, **kwargs):
        rt = getattr(request, "refresh_token_instance", None)
        if not self._rotation(token, request):
            return super()._save_bearer_token(token, request, *args, **kwargs)
        # Rotation (inside save_bearer_token's transaction). The library locks the refresh
        # token, locks its access token, then revokes in a savepoint (re-reading both); a
        # conditional UPDATE takes the same row lock and tells whether this request won.
        now = timezone.now()
        db = router.db_for_write(AccessToken)
        conn = connections[db]
        q = conn.ops.quote_name
        stamp = conn.ops.adapt_datetimefield_value(now)
        with conn.cursor() as cursor:
            cursor.execute(_revoke_sql(q), [stamp, stamp, rt.pk, rt.access_token_id])
            won = cursor.rowcount == 1
        if not won:
            # Revoked or rotated meanwhile (a concurrent refresh): the library's own path,
            # which hands back the pair the other request made.
            return super()._save_bearer_token(token, request, *args, **kwargs)
        # AccessToken.revoke() deletes the row; through the ORM that is a SELECT, the
        # SET_NULL of the refresh token's pointer (cleared just above: it is the only row that
        # points at an access token) and the DELETE. No signal receivers to skip.
        with conn.cursor() as cursor:
            table, pk = q(AccessToken._meta.db_table), q(AccessToken._meta.pk.column)
            cursor.execute(f"DELETE FROM {table} WHERE {pk} = %s", [rt.access_token_id])
        self._check_and_set_request_resource(request)
        seconds = token.get("expires_in", oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS)
        expires = now + dt.timedelta(seconds=seconds)
        rt.revoked, rt.access_token = now, None
        access_token = self._create_access_token(expires, request, token, source_refresh_token=rt)
        self._create_refresh_token(request, token["refresh_token"], access_token, rt)
        request.refresh_token_instance = None

    def _save_id_token(self, jti, request, expires, *args, **kwargs):
        if request.grant_type not in _ID_TOKEN_WITH_BEARER:
            return super()._save_id_token(jti, request, expires, *args, **kwargs)
        # Saved by _create_access_token, in save_bearer_token's transaction (which oauthlib
        # runs right after signing): no transaction of its own, no re-read by jti.
        id_token = IDToken(
            user=request.user,
            scope=request.scope or " ".join(request.scopes),
            expires=expires,
            jti=jti,
            application=request.client,
        )
        request.akun_pending_id_token = id_token
        return id_token

    def _new_access_token(self, request, token, expires, id_token=None, source=None):
        """The library's AccessToken for this grant, unsaved."""
        access_token = AccessToken(
            user=request.user,
            scope=token["scope"],
            expires=expires,
            id_token=id_token,
            application=request.client,
            source_refresh_token=source,
            resource=getattr(request, "resource", []),  # RFC 8707
        )
        self._set_token_value(access_token, token["access_token"])
        return access_token

    def _new_refresh_token(self, request, code, access_token, family):
        """The library's RefreshToken for this grant, unsaved."""
        refresh_token = RefreshToken(
            user=request.user,
            application=request.client,
            access_token=access_token,
            token_family=family,
            resource=getattr(request, "resource", []),  # RFC 8707
        )
        self._set_token_value(refresh_token, code)
        return refresh_token

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        id_token = None
        if token.get("id_token"):
            id_token = getattr(request, "akun_pending_id_token", None)
            if id_token is None:  # not signed in this request: the library loads it by jti
                return super()._create_access_token(
                    expires, request, token, source_refresh_token=source_refresh_token
                )
            request.akun_pending_id_token = None
            rows.insert(id_token)
        access_token = self._new_access_token(
            request, token, expires, id_token, source_refresh_token
        )
        rows.insert(access_token)  # the same row as access_token.save(), uncompiled
        return access_token

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous):
        # The library's method with the INSERT on a cursor (akun.core.rows). A code's first
        # refresh token starts the family named after the code, so a replay finds it.
        if previous:
            family = previous.token_family
        elif request.grant_type == "authorization_code" and request.code:
            family = code_family(request.code)
        else:
            family = uuid.uuid4()
        refresh_token = self._new_refresh_token(request, refresh_token_code, access_token, family)
        rows.insert(refresh_token)
        return refresh_token

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
        ks = keys.keyset()  # the current key into OIDC_RSA_PRIVATE_KEY, from memory
        if (
            request.grant_type not in _ID_TOKEN_WITH_BEARER
            or request.client.algorithm != AbstractApplication.RS256_ALGORITHM
        ):
            return super().finalize_id_token(id_token, token, token_handler, request)
        # The library's method, except: the kid is the stored thumbprint (the library
        # hashes the key again per token); the RS256 signature (RFC 7515 compact form) is
        # made with the key's `cryptography` object directly (jwcrypto deep-copies its
        # algorithm tables for every token); and no transaction around _save_id_token, which
        # here only prepares the row that save_bearer_token writes in its transaction.
        claims_, expiration_time = self.get_id_token_dictionary(token, token_handler, request)
        id_token.update(**claims_)
        if "nonce" not in id_token and request.nonce:  # oauthlib bug #746, as the library
            id_token["nonce"] = request.nonce
        header = {"typ": "JWT", "alg": "RS256", "kid": ks.current.kid}
        signed = _sign_rs256(ks, header, id_token)
        saved = self._save_id_token(id_token["jti"], request, expiration_time)
        request.access_token = saved
        request.id_token = saved
        return signed

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
