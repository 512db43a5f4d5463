"""What other apps use of single sign-on (OEP-49)."""

from akun.sso.actions import (
    ServiceError,
    do_revoke_service_access,
    do_update_service,
    revoke_account_grants,
    revoke_account_tokens,
    revoke_grants_of_accounts,
)
from akun.sso.conf import ONEROSTER_SCOPES
from akun.sso.extensions import register_service_option
from akun.sso.keys import do_reencrypt_signing_keys
from akun.sso.models import Consent, Service


def service_of_client(client_id: str) -> Service | None:
    """The service registered with this OAuth client ID (None: unknown)."""
    return Service.objects.filter(application__client_id=client_id).first()


def verify_bearer(request):
    """(access token, or None) for the request's `Authorization: Bearer` token: a live token
    of an active service, checked by django-oauth-toolkit with Akun's validator."""
    from oauth2_provider.oauth2_backends import get_oauthlib_core

    valid, r = get_oauthlib_core().verify_request(request, scopes=[])
    return r.access_token if valid else None


def services_for(account) -> list[Service]:
    """Services that hold a live consent of this account."""
    ids = Consent.objects.filter(account=account, revoked_at__isnull=True).values("service_id")
    return list(Service.objects.filter(pk__in=ids).order_by("name"))


def revoke_service(account, service_id: str, *, actor: str) -> bool:
    """For Akun Saya: take back a service's access, by the service_id that identity's
    ServiceSignIn stores (an OIDC client ID or a SAML entity ID). False if unknown."""
    svc = (
        Service.objects.filter(application__client_id=service_id).first()
        or Service.objects.filter(saml_entity_id=service_id).first()
    )
    if svc is None:
        return False
    do_revoke_service_access(account, svc, actor=actor)
    return True


__all__ = [
    "ONEROSTER_SCOPES",
    "Service",
    "ServiceError",
    "do_update_service",
    "register_service_option",
    "service_of_client",
    "verify_bearer",
    "do_reencrypt_signing_keys",
    "revoke_account_grants",
    "revoke_account_tokens",
    "revoke_grants_of_accounts",
    "revoke_service",
    "services_for",
]
