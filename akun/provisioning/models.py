"""What the provisioning engine remembers: the targets (outside directories that Akun
keeps in step with its accounts) and, per account and target, the remote id and the sync
state. Accounts belong to akun.accounts; rows here point at them by id."""

from django.db import models
from django.db.models import Q


class Target(models.Model):
    """One configured outside directory: a Google Workspace domain, a SCIM service."""

    class Kind(models.TextChoices):
        GOOGLE = "google"
        SCIM = "scim"

    name = models.SlugField(max_length=40, primary_key=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    enabled = models.BooleanField(default=True)
    # Kind-specific settings (no secrets: those come from the environment or a key file
    # named here). Google: domain, customer, admin subject, key file, org unit root, ...
    config = models.JSONField(default=dict, blank=True)
    # The safety stop: set when a run would suspend or delete more than the allowed share;
    # nothing is sent until an admin clears it.
    held_reason = models.TextField(blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    # After `akun provision release`: how many suspensions/deletions the admin let through
    # (the count when it was held); back to 0 once they are sent.
    allowed_removals = models.BigIntegerField(default=0)
    created_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} ({self.kind})"


class Provisioned(models.Model):
    """One account at one target: its remote id, what state the target has it in, and
    what is still to be sent. One row per (target, account)."""

    class State(models.TextChoices):
        PENDING = "pending"  # a change waits to be sent
        SYNCED = "synced"  # the target has the account as Akun has it
        FAILED = "failed"  # the last attempt failed: `reason` says why
        SUSPENDED = "suspended"  # synced, and suspended at the target
        DELETED = "deleted"  # removed at the target

    # Work goes out lowest priority number first: a person waiting (activation, reset,
    # suspension) before the bulk fill.
    class Priority(models.IntegerChoices):
        URGENT = 0  # activation, password, suspension, deactivation
        CHANGE = 1  # moves, profile changes
        FILL = 2  # the bulk fill of issued accounts, reconcile fixes

    id = models.BigAutoField(primary_key=True)
    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="accounts")
    account_id = models.BigIntegerField()
    remote_id = models.CharField(max_length=200, blank=True)
    # What the target holds now, as far as Akun knows from its own successful calls:
    # '' nothing (never created), active, suspended, deleted. `state` says what is to be done.
    remote_state = models.CharField(max_length=12, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    priority = models.SmallIntegerField(choices=Priority.choices, default=Priority.FILL)
    # A short code (see reasons.REASONS) and the target's own words, for failures and waits.
    reason = models.CharField(max_length=40, blank=True)
    detail = models.TextField(blank=True)
    attempts = models.IntegerField(default=0)
    not_before = models.DateTimeField(null=True, blank=True)  # backoff after a failure
    changed_at = models.DateTimeField()  # when Akun last asked for a change
    last_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["target", "account_id"], name="one_row_per_account_and_target"
            ),
        ]
        indexes = [
            models.Index(
                fields=["target", "priority", "id"],
                condition=Q(state__in=["pending", "failed"]),
                name="provisioned_work",
            ),
            models.Index(fields=["account_id"], name="provisioned_account"),
        ]

    def __str__(self):
        return f"account {self.account_id} at {self.target_id}: {self.state}"


class QuotaBucket(models.Model):
    """The rate budget shared by every worker on every node (when Redis is not configured):
    a token bucket per quota name, refilled at the configured rate; each API call takes one
    token (akun.provisioning.quota)."""

    name = models.CharField(max_length=60, primary_key=True)
    tokens = models.FloatField(default=0)
    updated = models.FloatField(default=0)  # epoch seconds of the last refill

    def __str__(self):
        return f"{self.name}: {self.tokens:.0f}"


class OrgUnit(models.Model):
    """An org unit Akun has made sure exists at a target (created, or found there): the
    client creates each path once, not once per worker or per run."""

    id = models.BigAutoField(primary_key=True)
    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="org_units")
    path = models.CharField(max_length=500)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["target", "path"], name="one_org_unit_per_path")
        ]

    def __str__(self):
        return f"{self.target_id}:{self.path}"
