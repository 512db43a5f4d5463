"""Learning services that sign in with Akun, the consents people gave them, and the keys
that sign ID tokens and SAML assertions."""

from django.conf import settings
from django.db import models

from akun.core import clock

# Claims that identify a person outside Akun: released only to services allowed them.
PERSONAL_CLAIMS = ("nisn", "nuptk", "birthdate")


class Service(models.Model):
    """One learning service: an OpenID Connect client (a django-oauth-toolkit Application
    beside it) or a SAML service provider."""

    class Protocol(models.TextChoices):
        OIDC = "oidc"
        SAML = "saml"

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    protocol = models.CharField(max_length=8, choices=Protocol.choices)
    application = models.OneToOneField(
        "oauth2_provider.Application",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="akun_service",
    )
    # First-party services (run by the ministry) skip the consent screen.
    first_party = models.BooleanField(default=False)
    # Room for the OneRoster scopes (URIs of ~65 characters each).
    allowed_scopes = models.CharField(max_length=500, default="openid profile email")
    # Personal identifiers this service may receive (a subset of PERSONAL_CLAIMS).
    personal_claims = models.JSONField(default=list, blank=True)
    # PKCE is always required of public clients; confidential ones may be held to it too.
    require_pkce = models.BooleanField(default=False)
    # A resource server that may ask the introspection endpoint about any token.
    may_introspect = models.BooleanField(default=False)

    # SAML: the service provider's entity ID, its metadata, and which claims go out as
    # which SAML attributes ({"attribute name": "claim"}).
    saml_entity_id = models.CharField(max_length=500, blank=True, db_index=True)
    saml_metadata = models.TextField(blank=True)
    saml_attributes = models.JSONField(default=dict, blank=True)
    # The NameFormat of attributes the service's metadata does not request with one of its
    # own: "" = basic for plain names, uri for URNs and URLs.
    saml_attribute_format = models.CharField(max_length=12, blank=True, default="")
    # Its AuthnRequests must be signed (default: what its metadata's AuthnRequestsSigned says).
    saml_requests_signed = models.BooleanField(default=False)
    # Legacy: its requests may be signed with SHA-1 (refused for every other service).
    saml_legacy_sha1 = models.BooleanField(default=False)
    # The metadata's validUntil: past it, the service cannot sign people in.
    saml_metadata_valid_until = models.DateTimeField(null=True, blank=True)

    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    created_by = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["saml_entity_id"],
                condition=~models.Q(saml_entity_id=""),
                name="one_service_per_saml_entity",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.protocol})"

    def saml_metadata_expired(self, now=None) -> bool:
        until = self.saml_metadata_valid_until
        return until is not None and until <= (now or clock.now())

    @property
    def scopes(self) -> set[str]:
        return set(self.allowed_scopes.split())

    @property
    def service_id(self) -> str:
        """What identity's ServiceSignIn and Akun Saya know the service by."""
        if self.protocol == self.Protocol.SAML:
            return self.saml_entity_id
        return self.application.client_id if self.application_id else self.slug


class Consent(models.Model):
    """A person let a third-party service have these scopes; remembered until revoked."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_consents"
    )
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="consents")
    scopes = models.CharField(max_length=200)
    granted_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "service"], name="one_consent_per_service")
        ]

    def __str__(self):
        return f"{self.account_id} -> {self.service_id}: {self.scopes}"

    def covers(self, scopes) -> bool:
        return self.revoked_at is None and set(scopes) <= set(self.scopes.split())


class SigningKey(models.Model):
    """An RSA key that signs ID tokens (RS256) and SAML assertions.

    The newest unretired key signs. A retired key stays in the JWKS and the SAML metadata
    until `publish_until`, when every token it signed has expired.

    The private key is stored AES-GCM-encrypted (akun.core.crypto, bound to the kid); only
    akun.sso.keys.private_pem() decrypts it."""

    kid = models.CharField(max_length=64, unique=True)  # the JWK thumbprint
    private_key_enc = models.BinaryField()  # the PKCS#8 PEM, encrypted
    certificate_pem = models.TextField()  # self-signed, for SAML metadata
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)
    publish_until = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.kid
