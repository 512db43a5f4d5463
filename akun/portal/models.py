"""Who may administer what (region scopes), and the second factor of admin accounts."""

from django.conf import settings
from django.db import models


class AdminScope(models.Model):
    """A region an admin account may see and act on: the nation, a province (2 digits of
    kode_wilayah), a regency/city (4 digits) or one school (npsn).

    School operators and heads need no row: their schools come from the roster. Rows are for
    dinas and national admins (`akun admins create --region 3204`), and for extra schools.
    """

    class Level(models.TextChoices):
        NATIONAL = "national"
        PROVINCE = "province"
        REGENCY = "regency"
        SCHOOL = "school"

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="admin_scopes"
    )
    level = models.CharField(max_length=10, choices=Level.choices)
    kode_wilayah = models.CharField(max_length=4, blank=True)  # "" (national), 2 or 4 digits
    npsn = models.CharField(max_length=8, blank=True)
    granted_at = models.DateTimeField()
    granted_by = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "level", "kode_wilayah", "npsn"], name="one_scope_row_each"
            )
        ]

    def __str__(self):
        return f"{self.account_id}: {self.level} {self.kode_wilayah or self.npsn}".strip()


class TotpDevice(models.Model):
    """The authenticator app of one admin account. The secret is kept encrypted."""

    account = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device"
    )
    secret_enc = models.BinaryField()
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)  # first right code
    # The last 30-second step accepted: a code is never accepted twice (no replay).
    last_step = models.BigIntegerField(default=0)

    def __str__(self):
        return f"TOTP of {self.account_id}"


class RecoveryCode(models.Model):
    """One-time codes for a lost phone; only a keyed hash is stored."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "code_hash"])]

    def __str__(self):
        return f"recovery code of {self.account_id}"
