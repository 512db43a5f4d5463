"""What the lifecycle rules remember: deadlines, runs, holds, deletion schedules, notices,
misuse cases and the scheduler's last runs. Accounts themselves belong to akun.accounts;
these tables point at them by id."""

from django.db import models
from django.db.models import Q


class ActivationDeadline(models.Model):
    """The activation deadline of an issuance cohort.

    A cohort is a range of issue runs (accounts.IssueRun ids, first_run..last_run inclusive):
    every account that `akun accounts issue` created in those runs. Accounts still `issued`
    at the end of `deadline` (midnight, Asia/Jakarta) are deactivated.
    """

    first_run = models.BigIntegerField()
    last_run = models.BigIntegerField()
    deadline = models.DateField()
    set_by = models.CharField(max_length=200)
    set_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["first_run", "last_run"], name="one_deadline_per_cohort"
            ),
            models.CheckConstraint(
                condition=Q(first_run__lte=models.F("last_run")), name="cohort_range_ordered"
            ),
        ]
        ordering = ["first_run"]

    def __str__(self):
        return f"cohort {self.cohort} until {self.deadline}"

    @property
    def cohort(self) -> str:
        if self.first_run == self.last_run:
            return str(self.first_run)
        return f"{self.first_run}-{self.last_run}"


class Run(models.Model):
    """One run of one rule (a job): what it did, per province, and what it held."""

    rule = models.CharField(max_length=20)
    actor = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)  # "what/province" -> n
    held = models.JSONField(default=list, blank=True)  # provinces held by the safety stop

    def __str__(self):
        return f"{self.rule} run #{self.pk}"


class RunAccount(models.Model):
    """Stamp: this run changed this account. Mass sweeps (the deadline) write one audit row
    per run plus one of these per account -- a narrow row with one index instead of an
    audit row with ten; the account's history joins the two (akun.lifecycle.api.history)."""

    pk = models.CompositePrimaryKey("account_id", "run_id")
    account_id = models.BigIntegerField()
    run_id = models.BigIntegerField()

    def __str__(self):
        return f"run {self.run_id} changed account {self.account_id}"


class Hold(models.Model):
    """The safety stop: a rule would deactivate or delete more than the allowed share of a
    province's accounts. That province is skipped until an admin confirms."""

    class Status(models.TextChoices):
        HELD = "held"
        CONFIRMED = "confirmed"  # the next run of the rule may go ahead (up to `count`)
        USED = "used"  # a run went ahead under this confirmation

    rule = models.CharField(max_length=20)
    kode_provinsi = models.CharField(max_length=2)
    count = models.BigIntegerField()  # accounts the run would have affected
    total = models.BigIntegerField()  # accounts of the province
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.HELD)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    confirmed_by = models.CharField(max_length=200, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "kode_provinsi"],
                condition=Q(status__in=["held", "confirmed"]),
                name="one_open_hold_per_rule_province",
            )
        ]

    def __str__(self):
        return f"hold #{self.pk} {self.rule} {self.kode_provinsi} {self.status}"

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 1.0


class DeletionSchedule(models.Model):
    """An account on its way to deletion: notice, reminders, then deletion, unless cancelled
    (the person came back, signed in again, or an admin cancelled it)."""

    class Reason(models.TextChoices):
        MOVED_LEVEL = (
            "moved_level"  # a new account at another jenjang; this one is kept to move data
        )
        DEPARTED = "departed"  # gone from the roster: graduated, left, retired, died
        SCHOOL_CLOSED = "school_closed"
        NOT_ELIGIBLE = "not_eligible"  # still in the roster, no longer eligible at this jenjang
        INACTIVE = "inactive"  # no sign-in for AKUN_INACTIVITY_MONTHS

    class Status(models.TextChoices):
        PENDING = "pending"
        CANCELLED = "cancelled"
        DONE = "done"

    account_id = models.BigIntegerField(db_index=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField()
    created_run = models.BigIntegerField(null=True, blank=True)
    # The roster pass suspended the account (and what it was before), so that a return undoes it.
    suspended = models.BooleanField(default=False)
    prior_state = models.CharField(max_length=12, blank=True)
    notice_at = models.DateTimeField(null=True, blank=True)
    delete_on = models.DateField(null=True, blank=True)  # notice day + AKUN_DELETION_NOTICE_DAYS
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_run = models.BigIntegerField(null=True, blank=True)
    closed_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account_id"],
                condition=Q(status="pending"),
                name="one_pending_deletion_per_account",
            )
        ]
        indexes = [
            models.Index(fields=["status", "delete_on"]),
            # The incremental roster pass looks again at accounts whose schedule was closed
            # since its last pass.
            models.Index(fields=["closed_at"], name="deletion_closed_at_idx"),
        ]

    def __str__(self):
        return f"deletion of account {self.account_id} ({self.reason}, {self.status})"


class RosterMark(models.Model):
    """How far the roster pass has looked (one row, `name` = "roster").

    Every roster change made by import runs up to `import_run` has been passed over: the
    next pass looks only at people whose roster rows (or whose schools' rows) an import
    after it changed, plus accounts whose deletion schedule was closed since `passed_at`.
    No row, or `import_run` NULL: the next pass is a full one. The row is also the pass's
    lock (SELECT ... FOR UPDATE): two passes never work at once.
    """

    name = models.CharField(max_length=20, primary_key=True)
    import_run = models.BigIntegerField(null=True, blank=True)
    passed_at = models.DateTimeField(null=True, blank=True)  # start of the pass that covered it
    run_id = models.BigIntegerField(null=True, blank=True)  # that pass (lifecycle Run)

    def __str__(self):
        return f"{self.name} passed up to import #{self.import_run}"


class Notice(models.Model):
    """One e-mail of the deletion path to one recipient. The unique constraint is what makes
    'exactly once' hold when a job runs late, twice, or twice at the same time."""

    class Kind(models.TextChoices):
        NOTICE = "notice"
        REMINDER = "reminder"

    class To(models.TextChoices):
        ACCOUNT = "account"  # the account's own mailbox (the user ID)
        RECOVERY = "recovery"  # the recovery e-mail on record
        SMS = "sms"  # the verified recovery phone on record, by SMS

    schedule = models.ForeignKey(DeletionSchedule, on_delete=models.CASCADE)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    days_before = models.IntegerField()  # days before the deletion this one is for
    recipient = models.CharField(max_length=10, choices=To.choices)
    address = models.CharField(max_length=254)  # blanked when the account is deleted
    created_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)  # a sender took it
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "kind", "days_before", "recipient"], name="notice_once"
            )
        ]
        indexes = [models.Index(fields=["sent_at"])]

    def __str__(self):
        return f"{self.kind} {self.days_before}d to {self.recipient} (schedule {self.schedule_id})"


class MisuseCase(models.Model):
    """A suspension for a breach of the terms, the person's appeal, and the admin's decision."""

    class Status(models.TextChoices):
        SUSPENDED = "suspended"
        APPEALED = "appealed"
        REINSTATED = "reinstated"
        DEACTIVATED = "deactivated"

    account_id = models.BigIntegerField(db_index=True)
    category = models.CharField(max_length=30)
    evidence = models.TextField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUSPENDED)
    suspended_by = models.CharField(max_length=200)
    suspended_at = models.DateTimeField()
    appeal_text = models.TextField(blank=True)
    appealed_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=200, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account_id"],
                condition=Q(status__in=["suspended", "appealed"]),
                name="one_open_misuse_case_per_account",
            )
        ]

    def __str__(self):
        return f"misuse case #{self.pk} ({self.category}, {self.status})"


class ScheduleState(models.Model):
    """When each periodic job declared in akun.lifecycle.schedule was last enqueued."""

    name = models.CharField(max_length=60, primary_key=True)
    last_slot = models.DateTimeField(null=True, blank=True)  # the due time last enqueued for
    last_enqueued_at = models.DateTimeField(null=True, blank=True)
    last_task_id = models.CharField(max_length=64, blank=True)

    def __str__(self):
        return f"{self.name} last {self.last_slot}"
