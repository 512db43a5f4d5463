"""Fast paths through django-oauth-toolkit's OAuth2Validator: the library's own steps, with
fewer SQL statements or less work per token, and the same result. Each replaces a method of
the library (pinned exactly in pyproject.toml for that reason); tests/test_sso_fast_paths.py
runs every grant once through these and once through the library's methods and compares what
each leaves (response, ID token, rows). Akun's rules live in akun.sso.validator, on top."""

import base64
import datetime as dt
import hashlib
import json
import uuid
from functools import cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.contrib.auth import get_user_model
from django.db import connection, connections, router, transaction
from django.utils import timezone
from oauth2_provider.models import (
    AbstractApplication,
    get_access_token_model,
    get_id_token_model,
    get_refresh_token_model,
    refresh_token_expire_timedelta,
)
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings

from akun.accounts import api as accounts_api
from akun.core import rows
from akun.roster import api as roster_api
from akun.roster.api import PesertaDidik
from akun.sso import claims, keys

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
        f"{accounts_api.join_account('rt.user_id', 'u')} "
        f"LEFT JOIN {roster_api.peserta_didik_sql('pd')} ON u.person_type = 'peserta_didik' "
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


class LibraryFastPaths(OAuth2Validator):
    """The library's validator with its fast paths; FAST_PATHS names the methods that
    replace the library's (the comparison tests swap them back one group at a time)."""

    # --- reading a refresh token: one statement -------------------------------------------

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        if self._live_refresh_token(refresh_token, client, request):
            return True
        # Anything but a plainly live token (unknown, revoked: reuse detection, expired,
        # another client's) is decided by the library, exactly as before.
        return super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)

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
        # The library's method with the INSERT on a cursor (akun.core.rows).
        family = self.token_family(request, previous)
        refresh_token = self._new_refresh_token(request, refresh_token_code, access_token, family)
        rows.insert(refresh_token)
        return refresh_token

    def token_family(self, request, previous) -> uuid.UUID:
        """The family of a new refresh token: the library's rule (the previous token's, else
        a new one)."""
        return previous.token_family if previous else uuid.uuid4()

    # --- signing ID tokens --------------------------------------------------------------

    def finalize_id_token(self, id_token, token, token_handler, request):
        if (
            request.grant_type not in _ID_TOKEN_WITH_BEARER
            or request.client.algorithm != AbstractApplication.RS256_ALGORITHM
        ):
            return super().finalize_id_token(id_token, token, token_handler, request)
        ks = keys.keyset()
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


# The library's methods these replace, by group (a group's methods only work together).
FAST_PATHS = {
    "refresh_token_lookup": ("validate_refresh_token",),
    "token_rows": (
        "save_bearer_token",
        "_save_bearer_token",
        "_save_id_token",
        "_create_access_token",
        "_create_refresh_token",
    ),
    "id_token_signing": ("finalize_id_token",),
}
