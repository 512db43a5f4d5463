"""State changes of single sign-on: services, consents, keys, tokens. Atomic and audited."""

import datetime as dt
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
from akun.sso.conf import ID_TOKEN_SECONDS
from akun.sso.models import PERSONAL_CLAIMS, Consent, Service, SigningKey

OIDC_SCOPES = {"openid", "profile", "email", "akun", "introspection"}
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
    slug: str = "",
    actor: str,
) -> tuple[Service, str]:
    """Register an OpenID Connect client. Returns the service and its client secret (shown
    once; only its hash is kept), or "" for a public client."""
    if kind not in KINDS:
        raise ServiceError(f"kind must be one of {', '.join(KINDS)}")
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


@transaction.atomic
def do_add_saml_service(
    name: str,
    *,
    metadata_xml: str,
    attributes: dict | None = None,
    first_party: bool = True,
    personal_claims: list[str] = (),
    slug: str = "",
    actor: str,
) -> Service:
    """Register a SAML service provider from its metadata. `attributes` maps SAML attribute
    names to Akun claims (default: email, name, role, school)."""
    from akun.sso import saml

    entity_id = saml.entity_id_of(metadata_xml)
    if Service.objects.filter(saml_entity_id=entity_id).exists():
        raise ServiceError(f"a service with SAML entity ID {entity_id} exists already")
    attributes = attributes or dict(saml.DEFAULT_ATTRIBUTES)
    _check_policy(set(), list(personal_claims))
    saml.check_attributes(attributes)
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
    active: bool | None = None,
) -> Service:
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


def revoke_account_tokens(account, application=None) -> int:
    """Every token of an account (at one service, or all): refresh tokens stop at once."""
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
    from akun.identity.models import ServiceSignIn

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


def note_sign_in(account, svc: Service) -> None:
    """Akun Saya's list of services signed in to, and the audit log."""
    from akun.identity.actions import do_record_service_sign_in

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
