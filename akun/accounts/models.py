"""Learning accounts: one per person per jenjang, with a user ID that never changes."""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat


def local_part_of(user_id: str) -> str:
    """The local part of a user ID (`budi12@sd.akun.id` -> `budi12`)."""
    return user_id.partition("@")[0]


class AccountQuerySet(models.QuerySet):
    """Lookups by `user_id=` go through the unique index on local_part.

    user_id has no index of its own: it is `<local_part>@<subdomain>.<AKUN_DOMAIN>`, and
    local_part is unique on its own, so a unique index on user_id would only cost bulk
    issuance a fifth index to maintain. An exact `user_id=X` filter (or `get`) adds
    `local_part=<X before the @>`, and `user_id__in=[...]` adds `local_part__in=[...]`:
    the candidate rows are found by index and the same rows come back (the user_id
    condition stays).
    """

    def _filter_or_exclude(self, negate, args, kwargs):
        if not negate and "local_part" not in kwargs and "local_part__in" not in kwargs:
            for key in ("user_id", "user_id__exact"):
                value = kwargs.get(key)
                if isinstance(value, str):
                    kwargs = {**kwargs, "local_part": local_part_of(value)}
                    break
            values = kwargs.get("user_id__in")
            if isinstance(values, list | tuple | set | frozenset) and all(
                isinstance(v, str) for v in values
            ):
                kwargs = {**kwargs, "local_part__in": sorted({local_part_of(v) for v in values})}
        return super()._filter_or_exclude(negate, args, kwargs)


class AccountManager(BaseUserManager.from_queryset(AccountQuerySet)):
    def get_by_natural_key(self, username):
        user_id = username.strip().lower()
        # By the unique local part, then the full user ID must match (subdomain and domain).
        return self.get(local_part=local_part_of(user_id), user_id=user_id)


class Account(AbstractBaseUser):
    class State(models.TextChoices):
        ISSUED = "issued"  # initial password valid, never signed in
        ACTIVE = "active"
        SUSPENDED = "suspended"
        DEACTIVATED = "deactivated"
        DELETED = "deleted"  # personal data removed, user ID kept reserved

    class PersonType(models.TextChoices):
        PESERTA_DIDIK = "peserta_didik"
        PTK = "ptk"
        STAFF = "staff"  # ministry / regional (dinas) admins, not in the roster

    class Role(models.TextChoices):
        PESERTA_DIDIK = "peserta_didik"
        PENDIDIK = "pendidik"
        TENAGA_KEPENDIDIKAN = "tenaga_kependidikan"  # head of school or operator: admin.*
        DINAS = "dinas"  # regional or national admin

    id = models.BigAutoField(primary_key=True)
    # Letters then digits; unique across every subdomain so it can never be confused.
    # Unique through Meta.constraints, not unique=True: on PostgreSQL that would add a second
    # (varchar_pattern_ops) index to each, and every index costs bulk issuance time.
    local_part = models.CharField(max_length=64)
    subdomain = models.CharField(max_length=40)
    user_id = models.CharField(max_length=200)

    person_type = models.CharField(max_length=20, choices=PersonType.choices)
    person_id = models.UUIDField(null=True, blank=True)  # peserta_didik_id or ptk_id
    jenjang = models.CharField(max_length=12, blank=True)
    role = models.CharField(max_length=24, choices=Role.choices)
    sekolah = models.ForeignKey(
        "roster.Sekolah",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="accounts",
        db_index=False,  # the (sekolah, role) index serves lookups by school
    )
    nama = models.CharField(max_length=200, blank=True)

    state = models.CharField(max_length=12, choices=State.choices, default=State.ISSUED)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    issued_at = models.DateTimeField()
    issue_run = models.BigIntegerField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    # AES-GCM ciphertext of the initial password until activation (akun.accounts.crypto).
    initial_password_enc = models.BinaryField(null=True, blank=True)

    terms_version = models.CharField(max_length=20, blank=True)
    terms_accepted_at = models.DateTimeField(null=True, blank=True)

    recovery_email = models.CharField(max_length=254, blank=True)
    recovery_email_verified_at = models.DateTimeField(null=True, blank=True)
    recovery_phone = models.CharField(max_length=20, blank=True)
    recovery_phone_verified_at = models.DateTimeField(null=True, blank=True)

    objects = AccountManager()

    USERNAME_FIELD = "user_id"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["local_part"], name="account_local_part_unique"),
            # No unique index on user_id: it is unique because local_part is (above) and
            # every user ID begins with its local part and an @ (below; local parts are
            # letters and digits only, so two local parts never give one user ID).
            models.CheckConstraint(
                condition=Q(user_id__startswith=Concat(F("local_part"), Value("@"))),
                name="account_user_id_begins_with_local_part",
            ),
            models.UniqueConstraint(
                fields=["person_type", "person_id", "jenjang"],
                # Deletion clears person_id, so a deleted account frees the pair without the
                # index naming `state`: state changes stay HOT updates (no index writes).
                condition=Q(person_id__isnull=False),
                name="one_account_per_person_per_jenjang",
            ),
        ]
        # No index contains `state`: the sweeps that change millions of states (deadline,
        # deletion) and every activation then update rows in place (HOT), without touching
        # any index. Counts by state per school read the school's rows through this index.
        indexes = [models.Index(fields=["sekolah", "role"])]

    def __str__(self):
        return self.user_id

    @property
    def is_active(self) -> bool:  # Django auth: may this account hold a session?
        return self.state == self.State.ACTIVE


class LocalPartCounter(models.Model):
    """Next number to hand out for a base local part (`budisantoso` -> 12 gives budisantoso12).

    Advanced in SQL for a whole batch at once; numbers are never reused, so a gap (a batch
    rolled back after advancing) is harmless.
    """

    base = models.CharField(max_length=40, primary_key=True)
    next_number = models.BigIntegerField(default=1)

    def __str__(self):
        return f"{self.base} -> {self.next_number}"


class IssueRun(models.Model):
    """One run of `akun accounts issue`; its accounts carry its id in Account.issue_run."""

    class Status(models.TextChoices):
        RUNNING = "running"
        FINISHED = "finished"
        INTERRUPTED = "interrupted"  # killed; found by a later run, its batches are kept

    started_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField()  # last committed batch
    finished_at = models.DateTimeField(null=True, blank=True)
    actor = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    counts = models.JSONField(default=dict, blank=True)  # "role/level" -> accounts issued

    def __str__(self):
        return f"issue run #{self.pk} {self.status}"


class AccountEvent(models.Model):
    """The change stream: one row per change that a downstream system cares about -- one
    account's, or one bulk statement's set of accounts -- written in the transaction of the
    change (akun.accounts.stream). Consumers read it in (xid, id) order, one event per
    account; pruned once every consumer has passed it."""

    class Kind(models.TextChoices):
        ISSUED = "issued"
        ACTIVATED = "activated"
        PASSWORD_CHANGED = "password_changed"  # by the holder (Akun Saya)
        PASSWORD_RESET = "password_reset"  # with a code, or a new initial password (operator)
        SUSPENDED = "suspended"
        UNSUSPENDED = "unsuspended"
        DEACTIVATED = "deactivated"
        REACTIVATED = "reactivated"
        DELETED = "deleted"
        MOVED = "moved"  # school, class, role or level
        PROFILE_CHANGED = "profile_changed"  # name or recovery contact
        TERMS_ACCEPTED = "terms_accepted"
        SIGNED_OUT = "signed_out"  # sign-out everywhere

    id = models.BigAutoField(primary_key=True)
    # PostgreSQL: the writing transaction's pg_current_xact_id(), so that a reader can tell
    # which events may still appear below what it has read (stream.horizon). SQLite: 0.
    xid = models.BigIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # One account (a single change), or the accounts of one bulk statement, their ids
    # comma-separated: a row per account cost a national sweep a fifth more than its UPDATE
    # and stamps; text is built (string_agg) and stored at under half the cost of jsonb.
    account_id = models.BigIntegerField(null=True, blank=True)
    account_ids = models.TextField(null=True, blank=True)
    count = models.IntegerField(default=1)  # accounts in the event
    at = models.DateTimeField()
    data = models.JSONField(null=True, blank=True)

    class Meta:
        # The readers' order; both keys only grow within a transaction, so inserts append.
        indexes = [models.Index(fields=["xid", "id"], name="accountevent_stream")]

    def __str__(self):
        who = self.account_id if self.account_id is not None else f"{self.count} accounts"
        return f"#{self.pk} {self.kind} {who}"


class EventConsumer(models.Model):
    """A durable consumer's cursor and health: it has handled every event up to (xid, id)."""

    name = models.CharField(max_length=60, primary_key=True)
    cursor_xid = models.BigIntegerField(default=0)
    cursor_id = models.BigIntegerField(default=0)
    handled = models.BigIntegerField(default=0)  # events acknowledged, in all
    acked_at = models.DateTimeField(null=True, blank=True)
    failures = models.IntegerField(default=0)  # in a row; 0 after a success
    retry_at = models.DateTimeField(null=True, blank=True)  # backoff: not before this
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error_event = models.BigIntegerField(null=True, blank=True)

    def __str__(self):
        return f"{self.name} at ({self.cursor_xid}, {self.cursor_id})"
