"""Butuh Bantuan: reports (with their numbers and threads), the agents' region grants, the
roster corrections filed for schools, the answers given before filing, and rate buckets."""

from django.conf import settings
from django.db import models


class Who(models.TextChoices):
    STUDENT = "student"
    TEACHER = "teacher"
    OPERATOR = "operator"
    OTHER = "other"


class Category(models.TextChoices):
    ACCOUNT = "account"  # issue / activate / sign in to my account
    GOOGLE = "google"  # my account won't sync with Google
    LMS = "lms"  # I can't link my account to the LMS
    OTHER_SERVICE = "other_service"  # belongs to another service (a scholarship)
    OTHER = "other"


class Report(models.Model):
    class State(models.TextChoices):
        NEW = "new"
        WAITING_PERSON = "waiting_person"
        WAITING_SCHOOL = "waiting_school"
        RESOLVED = "resolved"
        CLOSED = "closed"

    class Level(models.TextChoices):
        """Whose queue: the regency's dinas first, escalated to the province, the nation."""

        REGENCY = "regency"
        PROVINCE = "province"
        NATIONAL = "national"

    number = models.CharField(max_length=8, unique=True)  # shown as #XXXX-XXXX
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    first_answer_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    who = models.CharField(max_length=10, choices=Who.choices)
    category = models.CharField(max_length=16, choices=Category.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.NEW)
    nama = models.CharField(max_length=200, blank=True)
    contact_email = models.CharField(max_length=254, blank=True)
    contact_phone = models.CharField(max_length=20, blank=True)
    description = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)  # what the person typed to identify
    # The account the report is about, when the person proved who they are (signed in, a
    # roster match, or the school's operator filing for them).
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    verified = models.CharField(max_length=20, blank=True)  # how: signed_in, roster, school, agent
    npsn = models.CharField(max_length=8, blank=True)
    kode_wilayah = models.CharField(max_length=6, blank=True)
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.REGENCY)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    filed_by = models.CharField(max_length=200, blank=True)  # user ID of a filing operator

    class Meta:
        indexes = [
            models.Index(fields=["kode_wilayah", "state"], name="helpdesk_report_queue"),
            models.Index(fields=["npsn", "state"], name="helpdesk_report_school"),
            models.Index(fields=["created_at"], name="helpdesk_report_created"),
            models.Index(fields=["account"], name="helpdesk_report_account"),
        ]

    def __str__(self):
        return f"#{self.number[:4]}-{self.number[4:]}"

    @property
    def display_number(self) -> str:
        return f"#{self.number[:4]}-{self.number[4:]}"

    @property
    def queue_kode(self) -> str:
        """The region whose agents answer it now."""
        if self.level == self.Level.NATIONAL or not self.kode_wilayah:
            return ""
        if self.level == self.Level.PROVINCE:
            return self.kode_wilayah[:2]
        return self.kode_wilayah[:4]


class Message(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person"  # from the person (the form, the tracking page, an e-mail reply)
        REPLY = "reply"  # an agent's answer, sent to the person
        NOTE = "note"  # internal: agents (and not the school, nor the person)
        SCHOOL = "school"  # from the school's operator
        SYSTEM = "system"  # what Akun did (an answer from the account's state, an action)

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="messages")
    at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    author = models.CharField(max_length=254, blank=True)
    body = models.TextField()
    # Mail threading: the Message-ID we sent (REPLY, SYSTEM) or received (PERSON by e-mail).
    # Unique, so that a reply delivered twice (or replayed) is added once.
    message_id = models.CharField(max_length=250, null=True, blank=True, unique=True)

    class Meta:
        indexes = [models.Index(fields=["report", "at"], name="helpdesk_message_thread")]

    def __str__(self):
        return f"{self.report} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class Agent(models.Model):
    """The helpdesk role of an admin account in a region (as the portal's AdminScope): the
    nation, a province (2 digits) or a regency/city (4 digits)."""

    class Level(models.TextChoices):
        NATIONAL = "national"
        PROVINCE = "province"
        REGENCY = "regency"

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="helpdesk_roles"
    )
    level = models.CharField(max_length=10, choices=Level.choices)
    kode_wilayah = models.CharField(max_length=4, blank=True)
    granted_at = models.DateTimeField()
    granted_by = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "level", "kode_wilayah"], name="helpdesk_one_role_each"
            )
        ]

    def __str__(self):
        return f"{self.account_id}: {self.level} {self.kode_wilayah}".strip()


class RosterCorrection(models.Model):
    """A correction of the school's Dapodik data that an agent asks of the school's operator
    (the roster comes from Dapodik: only the school can correct it there)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="corrections")
    npsn = models.CharField(max_length=8)
    field = models.CharField(max_length=60)
    proposed = models.CharField(max_length=200)
    note = models.TextField(blank=True)
    filed_at = models.DateTimeField()
    filed_by = models.CharField(max_length=200)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["npsn", "done_at"], name="helpdesk_correction_school")]

    def __str__(self):
        return f"{self.report} {self.npsn} {self.field}"


class SelfAnswer(models.Model):
    """One answer given from the account's state before filing; `report` set if the person
    still filed one. The share of these without a report is "answered before filing"."""

    at = models.DateTimeField()
    who = models.CharField(max_length=10, choices=Who.choices)
    category = models.CharField(max_length=16, choices=Category.choices)
    kode_wilayah = models.CharField(max_length=6, blank=True)
    outcome = models.CharField(max_length=30, blank=True)  # what was answered (a code)
    report = models.OneToOneField(
        Report, on_delete=models.SET_NULL, null=True, blank=True, related_name="self_answer"
    )

    class Meta:
        indexes = [models.Index(fields=["at"], name="helpdesk_selfanswer_at")]

    def __str__(self):
        return f"{self.category} {self.at:%Y-%m-%d}"


class Bucket(models.Model):
    """A fixed-window rate counter (per client address, per contact, per report number)."""

    key = models.CharField(max_length=200, primary_key=True)
    window_start = models.DateTimeField()
    count = models.IntegerField(default=0)

    def __str__(self):
        return f"{self.key}: {self.count}"
