"""State changes of single sign-on: services, consents, keys, tokens. Atomic and audited."""

import datetime as dt
import logging
import secrets

from django.db import transaction
from django.utils.text import slugify
from oauth2_provider.models import (
    AccessToken,
    Application,
    Grant,
    IDToken,
    RefreshToken,
)

from akun.audit.api import Action, record
from akun.core import clock
from akun.sso import keys
from akun.sso.conf import ID_TOKEN_SECONDS, ONEROSTER_SCOPES
from akun.sso.models import PERSONAL_CLAIMS, Consent, Service, SigningKey

log = logging.getLogger(__name__)

OIDC_SCOPES = {"openid", "profile", "email", "akun", "introspection", *ONEROSTER_SCOPES}
KINDS = {
    # kind -> (client type, grant type)
    "web": (Application.CLIENT_CONFIDENTIAL, Application.GRANT_AUTHORIZATION_CODE),
    "public": (Application.CLIENT_PUBLIC, Application.GRANT_AUTHORIZATION_CODE),
    "machine": (Application.CLIENT_CONFIDENTIAL, Application.GRANT_CLIENT_CREDENTIALS),
}


class ServiceError(ValueError):
    pass


def _check_policy(scopes: set[str], personal: list[str]) -> None:
    unknown = scopes - OIDC_SCOPES
    if unknown:
        raise ServiceError(f"unknown scopes: {', '.join(sorted(unknown))}")
    bad = set(personal) - set(PERSONAL_CLAIMS)
    if bad:
        raise ServiceError(
            f"not personal claims Akun can release: {', '.join(sorted(bad))} "
            f"(NIK is never stored; allowed: {', '.join(PERSONAL_CLAIMS)})"
        )


def _snapshot(svc: Service) -> dict:
    return {
        "name": svc.name,
        "protocol": svc.protocol,
        "first_party": svc.first_party,
        "allowed_scopes": svc.allowed_scopes,
        "personal_claims": list(svc.personal_claims),
        "redirect_uris": svc.application.redirect_uris if svc.application_id else "",
        "saml_entity_id": svc.saml_entity_id,
        "saml_attributes": svc.saml_attributes,
        "saml_attribute_format": svc.saml_attribute_format,
        "saml_requests_signed": svc.saml_requests_signed,
        "saml_legacy_sha1": svc.saml_legacy_sha1,
        "saml_metadata_valid_until": (
            svc.saml_metadata_valid_until.isoformat() if svc.saml_metadata_valid_until else None
        ),
        "may_introspect": svc.may_introspect,
        "active": svc.active,
    }


@transaction.atomic
def do_add_oidc_service(
    name: str,
    *,
    kind: str = "web",
    redirect_uris: list[str] = (),
    post_logout_redirect_uris: list[str] = (),
    scopes: str = "openid profile email",
    first_party: bool = False,
    personal_claims: list[str] = (),
    require_pkce: bool = False,
    may_introspect: bool = False,
    slug: str = "",
    actor: str,
) -> tuple[Service, str]:
    """Register an OpenID Connect client. Returns the service and its client secret (shown
    once; only its hash is kept), or "" for a public client. `may_introspect`: the service
    may ask the introspection endpoint about any token (resource servers)."""
    if kind not in KINDS:
        raise ServiceError(f"kind must be one of {', '.join(KINDS)}")
    if may_introspect and KINDS[kind][0] != Application.CLIENT_CONFIDENTIAL:
        raise ServiceError("only a service with a client secret may introspect tokens")
    scope_set = set(scopes.split())
    _check_policy(scope_set, list(personal_claims))
    client_type, grant = KINDS[kind]
    if grant == Application.GRANT_AUTHORIZATION_CODE and not redirect_uris:
        raise ServiceError("a sign-in service needs at least one redirect URI")
    keys.keyset()  # Application.clean() wants OIDC_RSA_PRIVATE_KEY set for RS256
    secret = secrets.token_urlsafe(48) if client_type == Application.CLIENT_CONFIDENTIAL else ""
    app = Application(
        name=name,
        client_type=client_type,
        authorization_grant_type=grant,
        redirect_uris=" ".join(redirect_uris),
        post_logout_redirect_uris=" ".join(post_logout_redirect_uris),
        client_secret=secret,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=first_party,
    )
    try:
        app.full_clean(exclude=["client_secret", "user"])
    except Exception as e:  # ValidationError: say which field
        raise ServiceError(str(e)) from e
    app.save()
    svc = _create_service(
        slug or name,
        name=name,
        protocol=Service.Protocol.OIDC,
        application=app,
        first_party=first_party,
        allowed_scopes=" ".join(sorted(scope_set)),
        personal_claims=personal_claims,
        require_pkce=require_pkce,
        may_introspect=may_introspect,
        actor=actor,
        audit_extra={"client_id": app.client_id, "kind": kind},
    )
    return svc, secret


def _create_service(slug: str, *, personal_claims, actor: str, audit_extra=None, **fields):
    """The Service row of a new registration (OIDC or SAML) and its audit row."""
    now = clock.now()
    svc = Service.objects.create(
        slug=_unique_slug(slug),
        personal_claims=sorted(set(personal_claims)),
        created_at=now,
        updated_at=now,
        created_by=actor,
        **fields,
    )
    record(
        Action.SSO_ADD_SERVICE,
        actor=actor,
        object_type="sso_service",
        object_id=svc.slug,
        after={**_snapshot(svc), **(audit_extra or {})},
    )
    return svc


def _unique_slug(text: str) -> str:
    base = slugify(text)[:50] or "layanan"
    slug, n = base, 1
    while Service.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _read_saml_metadata(metadata_xml: str):
    """The service provider's metadata, refused when it has expired already."""
    from akun.sso import saml

    md = saml.read_sp_metadata(metadata_xml)
    if md.valid_until is not None and md.valid_until <= clock.now():
        raise ServiceError(
            f"the SAML metadata expired at {md.valid_until.isoformat()} (its validUntil): "
            "ask the service for current metadata"
        )
    return md


@transaction.atomic
def do_add_saml_service(
    name: str,
    *,
    metadata_xml: str,
    attributes: dict | None = None,
    first_party: bool = True,
    personal_claims: list[str] = (),
    slug: str = "",
    requests_signed: bool | None = None,
    legacy_sha1: bool = False,
    attribute_format: str = "",
    actor: str,
) -> Service:
    """Register a SAML service provider from its metadata. `attributes` maps SAML attribute
    names to Akun claims (default: email, name, role, school). Its requests must be signed if
    `requests_signed`, by default if its metadata says it signs them (AuthnRequestsSigned).
    Expired metadata is refused; metadata that will expire is kept with its validUntil (the
    caller warns: past it, the service cannot sign anyone in)."""
    from akun.sso import saml

    md = _read_saml_metadata(metadata_xml)
    entity_id = md.entity_id
    if Service.objects.filter(saml_entity_id=entity_id).exists():
        raise ServiceError(f"a service with SAML entity ID {entity_id} exists already")
    attributes = attributes or dict(saml.DEFAULT_ATTRIBUTES)
    _check_policy(set(), list(personal_claims))
    saml.check_attributes(attributes)
    saml.check_attribute_format(attribute_format)
    svc = _create_service(
        slug or name,
        name=name,
        protocol=Service.Protocol.SAML,
        first_party=first_party,
        allowed_scopes="openid profile email akun",
        personal_claims=personal_claims,
        saml_entity_id=entity_id,
        saml_metadata=metadata_xml,
        saml_attributes=attributes,
        saml_attribute_format=attribute_format,
        saml_requests_signed=md.authn_requests_signed
        if requests_signed is None
        else requests_signed,
        saml_legacy_sha1=legacy_sha1,
        saml_metadata_valid_until=md.valid_until,
        actor=actor,
    )
    return svc


@transaction.atomic
def do_update_service(
    svc: Service,
    *,
    actor: str,
    name: str | None = None,
    redirect_uris: list[str] | None = None,
    scopes: str | None = None,
    first_party: bool | None = None,
    personal_claims: list[str] | None = None,
    saml_attributes: dict | None = None,
    saml_metadata: str | None = None,
    saml_requests_signed: bool | None = None,
    saml_legacy_sha1: bool | None = None,
    saml_attribute_format: str | None = None,
    may_introspect: bool | None = None,
    active: bool | None = None,
) -> Service:
    """Change a service. New SAML metadata must name the same entity; a service whose new
    metadata says it signs its requests is held to it."""
    svc = (
        Service.objects.select_for_update(of=("self",)).select_related("application").get(pk=svc.pk)
    )
    before = _snapshot(svc)
    if name is not None:
        svc.name = name
    if scopes is not None:
        _check_policy(set(scopes.split()), list(svc.personal_claims))
        svc.allowed_scopes = " ".join(sorted(set(scopes.split())))
    if personal_claims is not None:
        _check_policy(set(), list(personal_claims))
        svc.personal_claims = sorted(set(personal_claims))
    if first_party is not None:
        svc.first_party = first_party
    if saml_attributes is not None:
        from akun.sso import saml

        saml.check_attributes(saml_attributes)
        svc.saml_attributes = saml_attributes
    if saml_metadata is not None:
        md = _read_saml_metadata(saml_metadata)
        if md.entity_id != svc.saml_entity_id:
            raise ServiceError(
                f"the metadata is for {md.entity_id}, not this service ({svc.saml_entity_id})"
            )
        svc.saml_metadata = saml_metadata
        svc.saml_metadata_valid_until = md.valid_until
        svc.saml_requests_signed = svc.saml_requests_signed or md.authn_requests_signed
    if saml_requests_signed is not None:
        svc.saml_requests_signed = saml_requests_signed
    if saml_legacy_sha1 is not None:
        svc.saml_legacy_sha1 = saml_legacy_sha1
    if saml_attribute_format is not None:
        from akun.sso import saml

        saml.check_attribute_format(saml_attribute_format)
        svc.saml_attribute_format = saml_attribute_format
    if may_introspect is not None:
        if may_introspect and (
            svc.application is None
            or svc.application.client_type != Application.CLIENT_CONFIDENTIAL
        ):
            raise ServiceError("only a service with a client secret may introspect tokens")
        svc.may_introspect = may_introspect
    if active is not None:
        svc.active = active
    svc.updated_at = clock.now()
    svc.save()
    app = svc.application
    if app is not None:
        if name is not None:
            app.name = name
        if redirect_uris is not None:
            app.redirect_uris = " ".join(redirect_uris)
        if first_party is not None:
            app.skip_authorization = first_party
        app.save()
        if active is False:
            _revoke_tokens(AccessToken.objects.filter(application=app))
    from akun.sso.validator import forget_clients

    transaction.on_commit(forget_clients)  # this worker at once; others within seconds
    record(
        Action.SSO_UPDATE_SERVICE,
        actor=actor,
        object_type="sso_service",
        object_id=svc.slug,
        before=before,
        after=_snapshot(svc),
    )
    return svc


def _revoke_tokens(access_tokens, refresh_filter=None) -> int:
    """Revoke refresh tokens (kept, marked revoked) and delete access and ID tokens."""
    now = clock.now()
    at_ids = list(access_tokens.values_list("pk", flat=True))
    rt = RefreshToken.objects.filter(revoked__isnull=True)
    rt = (
        rt.filter(refresh_filter)
        if refresh_filter is not None
        else rt.filter(access_token_id__in=at_ids)
    )
    n = rt.update(revoked=now, updated=now)
    id_ids = list(
        AccessToken.objects.filter(pk__in=at_ids, id_token__isnull=False).values_list(
            "id_token_id", flat=True
        )
    )
    AccessToken.objects.filter(pk__in=at_ids).delete()
    IDToken.objects.filter(pk__in=id_ids).delete()
    return n + len(at_ids)


@transaction.atomic
def do_revoke_code_tokens(family, *, actor: str) -> int:
    """An authorization code came back after it was used: the tokens issued from it (its
    token family, rotations included) are revoked (RFC 6749 4.1.2). Audited only when there
    was something to revoke, so unknown codes write nothing."""
    from django.db.models import Q

    rts = RefreshToken.objects.filter(token_family=family)
    first = rts.select_related("application", "user").order_by("pk").first()
    if first is None:
        return 0
    at_ids = rts.filter(access_token__isnull=False).values_list("access_token_id", flat=True)
    n = _revoke_tokens(
        AccessToken.objects.filter(pk__in=list(at_ids)), refresh_filter=Q(token_family=family)
    )
    if n:
        svc = Service.objects.filter(application=first.application_id).first()
        record(
            Action.SSO_REVOKE_REPLAYED_CODE,
            actor=actor,
            object_type="account",
            object_id=first.user.user_id if first.user_id else "",
            after={"service": svc.slug if svc else "", "tokens_revoked": n},
        )
    return n


def revoke_account_tokens(account, application=None) -> int:
    """Every token of an account (at one service, or all): refresh tokens stop at once.
    `account` is an Account or its primary key."""
    from django.db.models import Q

    at = AccessToken.objects.filter(user=account)
    rq = Q(user=account)
    if application is not None:
        at = at.filter(application=application)
        rq &= Q(application=application)
    with transaction.atomic():
        Grant.objects.filter(
            user=account, **({"application": application} if application else {})
        ).delete()
        return _revoke_tokens(at, refresh_filter=rq)


def revoke_account_grants(account_id: int, *, reason: str) -> int:
    """Everything a service holds of the account at Akun ends: authorization codes not yet
    exchanged, access and ID tokens (deleted), refresh tokens (revoked: presented later, one
    is refused as a replay). Consents stay: they are the person's choice, not a session.

    Called by revoke_grants_of_change, inside the transaction of the event (sign out
    everywhere, a new password, a reset, a state change), so the tokens are dead by the
    time its response goes out. The event's own audit row records it."""
    with transaction.atomic():
        n = revoke_account_tokens(account_id)
        # A refresh that was rotating one of these tokens held its row: the statement above
        # waited for it, and the pair it made shows only to a statement begun after. Later
        # rotations find every live token revoked by this transaction.
        n += revoke_account_tokens(account_id)
        n += IDToken.objects.filter(user_id=account_id).delete()[0]  # none left behind
    if n:
        log.info("SSO grants of account %s revoked (%d): %s", account_id, n, reason)
    return n


def revoke_grants_of_accounts(ids_sql: str, params: dict, *, reason: str) -> int:
    """revoke_account_grants for a set of accounts (`ids_sql` selects their ids), in a few
    statements whatever its size: a bulk change (a deadline sweep, a roster pass) ends the
    grants of all its accounts in its own transaction. As the library's revoke does, a
    refresh token is marked revoked and loses its access token; codes, access and ID
    tokens are deleted. Twice, for the pair of a rotation that held a row meanwhile."""
    from django.db import connection

    now = connection.ops.adapt_datetimefield_value(clock.now())
    p = {**params, "rv_now": now}
    ids = "SELECT x.id FROM x"
    cte = f"WITH x(id) AS ({ids_sql}) "
    n = 0
    with transaction.atomic(), connection.cursor() as cur:
        for _ in range(2):
            for sql in (
                f"DELETE FROM {Grant._meta.db_table} WHERE user_id IN ({ids})",
                f"UPDATE {RefreshToken._meta.db_table} SET revoked = %(rv_now)s, "
                f"updated = %(rv_now)s, access_token_id = NULL "
                f"WHERE revoked IS NULL AND user_id IN ({ids})",
                f"DELETE FROM {AccessToken._meta.db_table} WHERE user_id IN ({ids})",
                f"DELETE FROM {IDToken._meta.db_table} WHERE user_id IN ({ids})",
            ):
                cur.execute(cte + sql, p)
                n += max(cur.rowcount, 0)
    if n:
        log.info("SSO grants of a set of accounts revoked (%d): %s", n, reason)
    return n


def revoke_grants_of_change(change) -> None:
    """Subscriber (accounts.api.subscribe, in the change's transaction) for the events that
    end every sign-in of an account (accounts.api.ENDS_SESSIONS): one account through
    revoke_account_grants, a bulk set in a few set-based statements."""
    reason = change.reason or f"accounts.{change.kind}"
    if change.count == 1:
        for account_id in change.account_ids():
            revoke_account_grants(account_id, reason=reason)
        return
    revoke_grants_of_accounts(change.ids_sql, change.params, reason=reason)


@transaction.atomic
def do_grant_consent(account, svc: Service, scopes, *, actor: str) -> Consent:
    now = clock.now()
    consent, created = Consent.objects.select_for_update().get_or_create(
        account=account,
        service=svc,
        defaults={"scopes": " ".join(sorted(set(scopes))), "granted_at": now},
    )
    if not created:
        merged = set(scopes) if consent.revoked_at else set(scopes) | set(consent.scopes.split())
        consent.scopes = " ".join(sorted(merged))
        consent.granted_at = now
        consent.revoked_at = None
        consent.save()
    record(
        Action.SSO_GRANT_CONSENT,
        actor=actor,
        object_type="account",
        object_id=account.user_id,
        after={"service": svc.slug, "scopes": consent.scopes},
    )
    return consent


def do_deny_consent(account, svc: Service, scopes, *, actor: str) -> None:
    """The person said no on the consent screen: nothing is remembered (the screen shows
    again next time), but the refusal is in the audit log, for the helpdesk."""
    record(
        Action.SSO_DENY_CONSENT,
        actor=actor,
        object_type="account",
        object_id=account.user_id,
        after={"service": svc.slug, "scopes": " ".join(sorted(set(scopes)))},
    )


@transaction.atomic
def do_revoke_service_access(account, svc: Service, *, actor: str) -> int:
    """The person withdraws a service's access: consent forgotten, its tokens revoked, the
    service off their list in Akun Saya."""
    from akun.identity.api import ServiceSignIn

    now = clock.now()
    Consent.objects.filter(account=account, service=svc, revoked_at__isnull=True).update(
        revoked_at=now
    )
    n = revoke_account_tokens(account, svc.application) if svc.application_id else 0
    ServiceSignIn.objects.filter(account=account, service_id=svc.service_id).delete()
    record(
        Action.SSO_REVOKE_SERVICE,
        actor=actor,
        object_type="account",
        object_id=account.user_id,
        after={"service": svc.slug, "tokens_revoked": n},
    )
    return n


def note_expired_metadata(svc: Service) -> None:
    """Someone tried to sign in to a service whose SAML metadata has expired: in the audit log,
    for the helpdesk and the operator, once per service and worker every ten minutes (the
    attempts come from anyone, signed in or not)."""
    from django.core.cache import cache

    if not cache.add(f"akun:sso:saml-expired:{svc.pk}:{svc.updated_at.timestamp()}", 1, 600):
        return
    record(
        Action.SSO_SAML_METADATA_EXPIRED,
        actor="anonymous",
        object_type="sso_service",
        object_id=svc.slug,
        after={
            "entity_id": svc.saml_entity_id,
            "valid_until": svc.saml_metadata_valid_until.isoformat(),
        },
    )


def note_sign_in(account, svc: Service) -> None:
    """Akun Saya's list of services signed in to, and the audit log."""
    from akun.identity.api import do_record_service_sign_in

    do_record_service_sign_in(account, svc.service_id, svc.name)
    record(
        Action.SSO_SIGN_IN,
        actor=account.user_id,
        object_type="sso_service",
        object_id=svc.slug,
    )


@transaction.atomic
def do_rotate_key(*, actor: str, publish_seconds: int | None = None) -> tuple[SigningKey, list]:
    """A new signing key; the old ones stop signing and stay published until the tokens
    they signed have expired (the ID-token lifetime, plus a minute of clock skew)."""
    now = clock.now()
    keep = dt.timedelta(
        seconds=(publish_seconds if publish_seconds is not None else ID_TOKEN_SECONDS) + 60
    )
    retired = list(SigningKey.objects.select_for_update().filter(retired_at__isnull=True))
    for k in retired:
        k.retired_at = now
        k.publish_until = now + keep
        k.save(update_fields=["retired_at", "publish_until"])
    new = keys.generate_key(now)
    new.save()
    record(
        Action.SSO_ROTATE_KEY,
        actor=actor,
        object_type="sso_key",
        object_id=new.kid,
        before={"kids": [k.kid for k in retired]},
        after={"kid": new.kid, "old_published_until": (now + keep).isoformat()},
    )
    transaction.on_commit(keys.reset)
    return new, retired
