"""What other apps use of single sign-on (OEP-49)."""

from akun.sso.actions import (
    do_revoke_service_access,
    revoke_account_grants,
    revoke_account_tokens,
    revoke_grants_of_accounts,
)
from akun.sso.keys import do_reencrypt_signing_keys
from akun.sso.models import Consent, Service


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
    "do_reencrypt_signing_keys",
    "revoke_account_grants",
    "revoke_account_tokens",
    "revoke_grants_of_accounts",
    "revoke_service",
    "services_for",
]
