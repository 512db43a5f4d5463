"""The OneRoster projection of the roster and the accounts, and the clients allowed to read it.

One row per OneRoster object, with the sourcedId it keeps for ever (derived from roster ids:
NPSN, kode_wilayah, the account's user ID, never a row id), its status and the time it last
changed (dateLastModified). akun.oneroster.project keeps these rows up to date, set-based,
from the change stream of accounts and from the roster; the REST API and the CSV package
read them only. Every row carries the school's NPSN and kode_wilayah so that a client's
org grant is one indexed condition.
"""

from django.db import models

ACTIVE = "active"
TOBEDELETED = "tobedeleted"
STATUSES = [(ACTIVE, ACTIVE), (TOBEDELETED, TOBEDELETED)]


class OrObject(models.Model):
    sourced_id = models.CharField(max_length=100, primary_key=True)
    status = models.CharField(max_length=12, choices=STATUSES, default=ACTIVE)
    date_last_modified = models.DateTimeField()
    npsn = models.CharField(max_length=8, blank=True)  # "" for regions and the ministry
    kode_wilayah = models.CharField(max_length=6, blank=True)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.sourced_id} ({self.status})"


def _indexes(prefix: str) -> list[models.Index]:
    # Deltas (dateLastModified > x) and one school's objects, each in sourcedId order.
    return [
        models.Index(fields=["date_last_modified", "sourced_id"], name=f"{prefix}_dlm"),
        models.Index(fields=["npsn", "sourced_id"], name=f"{prefix}_npsn"),
        models.Index(
            fields=["kode_wilayah"], name=f"{prefix}_kode", opclasses=["varchar_pattern_ops"]
        ),
    ]


class OrOrg(OrObject):
    """The ministry (national), provinces (state), regencies/cities (district), schools."""

    type = models.CharField(max_length=10)
    name = models.CharField(max_length=200)
    identifier = models.CharField(max_length=20)  # NPSN or kode wilayah
    parent_sourced_id = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = _indexes("or_org")


class OrCourse(OrObject):
    """A grade at a school (`kelas 5` at NPSN 20104321)."""

    school_sourced_id = models.CharField(max_length=100)
    grade = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=250)
    course_code = models.CharField(max_length=40)

    class Meta:
        indexes = _indexes("or_course")


class OrClass(OrObject):
    """A rombel (class group) at a school and grade: a homeroom class."""

    school_sourced_id = models.CharField(max_length=100)
    course_sourced_id = models.CharField(max_length=100)
    grade = models.PositiveSmallIntegerField()
    rombel = models.CharField(max_length=50)
    title = models.CharField(max_length=250)

    class Meta:
        indexes = _indexes("or_class")
        constraints = [
            models.UniqueConstraint(fields=["npsn", "grade", "rombel"], name="or_class_natural")
        ]


class OrUser(OrObject):
    """An account: a student, a teacher or a school's administrator (head or operator)."""

    account_id = models.BigIntegerField(unique=True)
    role = models.CharField(max_length=20)  # student | teacher | principal | siteAdministrator
    username = models.CharField(max_length=200)
    given_name = models.CharField(max_length=200)
    family_name = models.CharField(max_length=200)
    enabled = models.BooleanField()
    school_sourced_id = models.CharField(max_length=100)
    grade = models.PositiveSmallIntegerField(null=True)
    class_sourced_id = models.CharField(max_length=100, blank=True)  # students: their rombel
    # Personal data: released only to a client explicitly allowed it (docs/oneroster.md).
    nisn = models.CharField(max_length=10, blank=True)
    birth_date = models.DateField(null=True)
    sex = models.CharField(max_length=1, blank=True)

    class Meta:
        indexes = _indexes("or_user")


class OrEnrollment(OrObject):
    """A student in their rombel. Its sourcedId names the class and the user, so a move to
    another class is a new enrollment and the old one goes `tobedeleted`."""

    user_sourced_id = models.CharField(max_length=100)
    class_sourced_id = models.CharField(max_length=100)
    school_sourced_id = models.CharField(max_length=100)
    role = models.CharField(max_length=20)

    class Meta:
        indexes = _indexes("or_enr") + [
            models.Index(fields=["user_sourced_id"], name="or_enr_user"),
            models.Index(fields=["class_sourced_id", "sourced_id"], name="or_enr_class"),
        ]


class OrClient(models.Model):
    """A learning platform allowed to read OneRoster: the OAuth client (client credentials)
    of an `akun services add --oneroster-org ...` service, and the orgs it sees."""

    client_id = models.CharField(max_length=100, unique=True)
    # NPSNs (8 characters) and region codes (2 or 4 digits); the client sees these and
    # everything under them.
    orgs = models.JSONField(default=list)
    demographics = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200)

    def __str__(self):
        return f"{self.client_id}: {', '.join(self.orgs)}"
