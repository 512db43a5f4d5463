from django.db import models


class AuditEvent(models.Model):
    """Who did what, when, why, with the state before and after. Never updated or deleted."""

    at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=200)
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=100, blank=True, db_index=True)
    # Scope for regional audit views: school and region of the object, where it has one.
    npsn = models.CharField(max_length=8, blank=True, db_index=True)
    kode_wilayah = models.CharField(max_length=6, blank=True, db_index=True)
    reason = models.TextField(blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_id}"
