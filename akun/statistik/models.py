"""National statistics: account counts kept by the change stream, never counted live.

AccountFact is the last counted key of each account (school, regency, jenjang, role, state,
and the Google sync state, which akun.provisioning reports the same way as a change):
a change's delta is (its facts before) -> (the account now). Deltas are appended
(CountDelta, DailyDelta) in the change's transaction -- insert-only, so a national sweep
holding its transaction for minutes locks no counter that an activation needs -- and folded
into the counts (SchoolCount, RegionCount, DailyCount) by `fold`. A read adds the deltas not
folded yet: exact at any moment. docs/statistics.md."""

from django.db import models


class AccountFact(models.Model):
    account_id = models.BigIntegerField(primary_key=True)
    sekolah_id = models.UUIDField(null=True, blank=True)
    # The school's regency (4 digits of kode_wilayah) when the account was last counted;
    # '' for accounts without a school (ministry and regional admins).
    kode = models.CharField(max_length=4, blank=True)
    jenjang = models.CharField(max_length=12, blank=True)
    role = models.CharField(max_length=24)
    state = models.CharField(max_length=12)
    # The account's sync state at the Google target (akun.provisioning): '' none yet,
    # pending, synced, failed, suspended, deleted.
    sync = models.CharField(max_length=12, blank=True, default="")

    def __str__(self):
        return f"{self.account_id}: {self.kode} {self.jenjang} {self.role} {self.state}"


class CountDelta(models.Model):
    """Appended by the change's transaction; folded and deleted by fold()."""

    id = models.BigAutoField(primary_key=True)
    sekolah_id = models.UUIDField(null=True, blank=True)
    kode = models.CharField(max_length=4, blank=True)
    jenjang = models.CharField(max_length=12, blank=True)
    role = models.CharField(max_length=24)
    state = models.CharField(max_length=12)
    # The account's sync state at the Google target (akun.provisioning): '' none yet,
    # pending, synced, failed, suspended, deleted.
    sync = models.CharField(max_length=12, blank=True, default="")
    n = models.BigIntegerField()

    def __str__(self):
        return f"{self.kode} {self.jenjang} {self.role} {self.state} {self.n:+}"


class SchoolCount(models.Model):
    id = models.BigAutoField(primary_key=True)
    sekolah_id = models.UUIDField()
    kode = models.CharField(max_length=4, blank=True)
    jenjang = models.CharField(max_length=12, blank=True)
    role = models.CharField(max_length=24)
    state = models.CharField(max_length=12)
    # The account's sync state at the Google target (akun.provisioning): '' none yet,
    # pending, synced, failed, suspended, deleted.
    sync = models.CharField(max_length=12, blank=True, default="")
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sekolah_id", "kode", "jenjang", "role", "state", "sync"],
                name="schoolcount_key",
            )
        ]
        indexes = [models.Index(fields=["kode"], name="schoolcount_kode")]

    def __str__(self):
        return f"{self.sekolah_id} {self.jenjang} {self.role} {self.state}: {self.n}"


class RegionCount(models.Model):
    """Per regency (kabupaten/kota): the national and provincial pages sum ~500 of these."""

    id = models.BigAutoField(primary_key=True)
    kode = models.CharField(max_length=4, blank=True)
    jenjang = models.CharField(max_length=12, blank=True)
    role = models.CharField(max_length=24)
    state = models.CharField(max_length=12)
    # The account's sync state at the Google target (akun.provisioning): '' none yet,
    # pending, synced, failed, suspended, deleted.
    sync = models.CharField(max_length=12, blank=True, default="")
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kode", "jenjang", "role", "state", "sync"], name="regioncount_key"
            )
        ]

    def __str__(self):
        return f"{self.kode} {self.jenjang} {self.role} {self.state}: {self.n}"


class DailyDelta(models.Model):
    id = models.BigAutoField(primary_key=True)
    day = models.DateField()
    provinsi = models.CharField(max_length=2, blank=True)
    kind = models.CharField(max_length=12)  # issued, activated
    n = models.BigIntegerField()

    def __str__(self):
        return f"{self.day} {self.provinsi} {self.kind} {self.n:+}"


class DailyCount(models.Model):
    """Accounts issued and activated per day and province (the public trend)."""

    id = models.BigAutoField(primary_key=True)
    day = models.DateField()
    provinsi = models.CharField(max_length=2, blank=True)
    kind = models.CharField(max_length=12)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "provinsi", "kind"], name="dailycount_key")
        ]

    def __str__(self):
        return f"{self.day} {self.provinsi} {self.kind}: {self.n}"


class Region(models.Model):
    """Regency names and present schools, refreshed after each roster import: the pages
    never scan the 220k schools."""

    kode = models.CharField(max_length=4, primary_key=True)
    nama = models.CharField(max_length=100)
    provinsi = models.CharField(max_length=100)
    schools = models.IntegerField(default=0)

    def __str__(self):
        return f"{self.kode} {self.nama}"
