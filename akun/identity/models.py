"""Sign-in state beside the Account: throttling, one-time codes, session generations,
account requests from Cek Akun, and the services an account has signed in to (for SSO)."""

from django.conf import settings
from django.db import models


class Throttle(models.Model):
    """Failed attempts under one key (an account's user ID as typed, or a client address).

    The database store of akun.identity.throttle; Redis holds the same when configured.
    """

    key = models.CharField(max_length=200, unique=True)
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField()

    def __str__(self):
        return f"{self.key}: {self.failures}"


class SessionGeneration(models.Model):
    """Bumping `generation` signs the account out of every session ("sign out everywhere")."""

    account = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_generation"
    )
    generation = models.PositiveIntegerField(default=0)
    changed_at = models.DateTimeField()

    def __str__(self):
        return f"{self.account_id}: generation {self.generation}"


class OneTimeCode(models.Model):
    """A 6-digit code sent to a contact. Only a keyed hash of the code is stored."""

    class Purpose(models.TextChoices):
        RESET = "reset"
        VERIFY_EMAIL = "verify_email"
        VERIFY_PHONE = "verify_phone"

    class Channel(models.TextChoices):
        EMAIL = "email"
        SMS = "sms"

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="one_time_codes"
    )
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    destination = models.CharField(max_length=254)
    code_hash = models.CharField(max_length=100)  # salt$hmac-sha256
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "purpose", "created_at"])]

    def __str__(self):
        return f"{self.purpose} code for {self.account_id} via {self.channel}"


class AccountRequest(models.Model):
    """Someone found no account in Cek Akun and asked for one: a helpdesk case later."""

    class Status(models.TextChoices):
        OPEN = "open"
        HANDLED = "handled"

    role = models.CharField(max_length=20)  # peserta_didik or ptk
    npsn = models.CharField(max_length=8, db_index=True)
    nama = models.CharField(max_length=150)
    tanggal_lahir = models.DateField()
    contact = models.CharField(max_length=254)
    message = models.TextField(blank=True)
    explanation = models.TextField(blank=True)  # why Cek Akun found nothing, at the time
    created_at = models.DateTimeField()
    client_address = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)

    def __str__(self):
        return f"{self.npsn} {self.nama} ({self.status})"


class ServiceSignIn(models.Model):
    """A learning service the account has signed in to through Akun (filled by the SSO work)."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="service_sign_ins"
    )
    service_id = models.CharField(max_length=100)  # the SSO client id / SAML entity id
    service_name = models.CharField(max_length=200)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "service_id"], name="one_row_per_service")
        ]
        ordering = ["-last_at"]

    def __str__(self):
        return f"{self.account_id} -> {self.service_name}"
