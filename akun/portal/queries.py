"""Reads for the portal's pages: a school's accounts and counts, a region's schools."""

from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.db.models import Count, OuterRef, Q, Subquery

from akun.accounts.api import Account
from akun.core import clock
from akun.roster.api import PesertaDidik, Ptk, Sekolah
from akun.statistik import api as statistics

S = Account.State
STATES = [S.ISSUED, S.ACTIVE, S.SUSPENDED, S.DEACTIVATED]
ROLES = [Account.Role.PESERTA_DIDIK, Account.Role.PENDIDIK, Account.Role.TENAGA_KEPENDIDIKAN]


def activation_rate(active: int, issued: int) -> float | None:
    """Accounts in use among those that should be: active / (issued + active)."""
    total = active + issued
    return round(100.0 * active / total, 1) if total else None


def school_accounts(sekolah_ids) -> "QuerySet":  # noqa: F821
    return Account.objects.filter(sekolah_id__in=list(sekolah_ids)).exclude(state=S.DELETED)


@dataclass
class Counts:
    by_role_state: dict  # role -> state -> n
    by_state: dict
    total: int

    @property
    def rate(self):
        return activation_rate(self.by_state.get(S.ACTIVE, 0), self.by_state.get(S.ISSUED, 0))

    def rows(self):
        """One row per state: the count for each role, then the total (a narrow table)."""
        for state in STATES:
            cells = [self.by_role_state.get(role, {}).get(state, 0) for role in ROLES]
            yield state, cells, sum(cells)

    def role_totals(self):
        return [sum(self.by_role_state.get(role, {}).values()) for role in ROLES]


def school_counts(sekolah_ids) -> Counts:
    by_role_state: dict = {}
    by_state: dict = {}
    total = 0
    rows = school_accounts(sekolah_ids).values_list("role", "state").annotate(n=Count("id"))
    for role, state, n in rows:
        by_role_state.setdefault(role, {})[state] = n
        by_state[state] = by_state.get(state, 0) + n
        total += n
    return Counts(by_role_state, by_state, total)


def rombels(sekolah_ids) -> list[str]:
    return list(
        PesertaDidik.objects.filter(sekolah_id__in=list(sekolah_ids), departed_at__isnull=True)
        .exclude(rombel="")
        .order_by("rombel")
        .values_list("rombel", flat=True)
        .distinct()
    )


def account_list(sekolah_ids, *, q="", role="", rombel="", state=""):
    """The school's accounts with NISN/NUPTK and class, filtered; a queryset to paginate."""
    ids = list(sekolah_ids)
    students = PesertaDidik.objects.filter(peserta_didik_id=OuterRef("person_id"))
    teachers = Ptk.objects.filter(ptk_id=OuterRef("person_id")).order_by("-ptk_induk")
    qs = school_accounts(ids).annotate(
        rombel=Subquery(students.values("rombel")[:1]),
        nisn=Subquery(students.values("nisn")[:1]),
        nuptk=Subquery(teachers.values("nuptk")[:1]),
    )
    if role in ROLES:
        qs = qs.filter(role=role)
    if state in STATES:
        qs = qs.filter(state=state)
    if rombel:
        in_class = PesertaDidik.objects.filter(sekolah_id__in=ids, rombel=rombel)
        qs = qs.filter(person_type="peserta_didik", person_id__in=in_class.values("pk"))
    q = (q or "").strip()
    if q:
        match = Q(nama__icontains=q) | Q(user_id__icontains=q.lower())
        if q.isdigit():
            by_nisn = PesertaDidik.objects.filter(sekolah_id__in=ids, nisn=q).values("pk")
            by_nuptk = Ptk.objects.filter(sekolah_id__in=ids, nuptk=q).values("ptk_id")
            match |= Q(person_id__in=by_nisn) | Q(person_id__in=by_nuptk)
        qs = qs.filter(match)
    return qs.order_by("role", "nama", "user_id")


def deadlines(sekolah_id) -> list[dict]:
    """The activation deadlines of a school's accounts, with days left and how many still
    wait: akun.lifecycle's count-down when that app is installed and has deadlines, else
    AKUN_ACTIVATION_DEADLINE (an ISO date in the environment, checked by settings), else none."""
    if apps.is_installed("akun.lifecycle"):
        from akun.lifecycle import api as lifecycle

        rows = lifecycle.countdown(sekolah_id=sekolah_id)
        if rows:
            return rows
    deadline = settings.AKUN_ACTIVATION_DEADLINE
    if deadline is None:
        return []
    left = (deadline - clock.today()).days
    return [
        {"cohort": "", "deadline": deadline, "days_left": left, "passed": left < 0,
         "not_activated": None}
    ]  # fmt: skip


def next_deadline(rows: list[dict]) -> dict | None:
    """The nearest deadline still ahead, else the last one passed."""
    ahead = [r for r in rows if not r["passed"]]
    if ahead:
        return min(ahead, key=lambda r: r["deadline"])
    return max(rows, key=lambda r: r["deadline"]) if rows else None


# --- Regions --------------------------------------------------------------------------------


@dataclass
class RegionRow:
    kode: str  # region code (2/4 digits) or npsn for schools
    nama: str
    schools: int
    total: int
    issued: int
    active: int
    suspended: int
    deactivated: int
    sync: dict = field(default_factory=dict)  # Google sync state -> n (akun.statistik)

    @property
    def rate(self):
        return activation_rate(self.active, self.issued)

    def as_list(self):
        rate = self.rate
        return [
            self.kode,
            self.nama,
            self.schools,
            self.total,
            self.issued,
            self.active,
            self.suspended,
            self.deactivated,
            "" if rate is None else f"{rate:.1f}",
        ]


SORTS = {
    "kode": lambda r: r.kode,
    "nama": lambda r: r.nama.lower(),
    "total": lambda r: r.total,
    "active": lambda r: r.active,
    "issued": lambda r: r.issued,
    "rate": lambda r: -1 if r.rate is None else r.rate,
}


def _row(kode, nama, schools, g) -> RegionRow:
    if g is None:
        return RegionRow(kode, nama, schools, 0, 0, 0, 0, 0)
    return RegionRow(
        kode, nama, schools, g.total, g.issued, g.active, g.suspended, g.deactivated, g.sync
    )  # fmt: skip


def region_rows(kode: str) -> list[RegionRow]:
    """Children of a region: provinces of the nation (kode ''), regencies of a province
    (2 digits), schools of a regency (4 digits); with account counts, read from the
    statistics kept by the change stream (akun.statistik), never counted live."""
    if len(kode) == 4:
        counts = statistics.schools(kode)
        schools = Sekolah.objects.filter(departed_at__isnull=True, kode_wilayah__startswith=kode)
        return [
            _row(npsn, nama, 1, counts.get(pk.hex))
            for pk, npsn, nama in schools.values_list("pk", "npsn", "nama")
        ]
    return [_row(g.kode, g.nama, g.schools, g) for g in statistics.regions(kode)]


def region_name(kode: str) -> str:
    if len(kode) == 2:
        field = "provinsi"
    elif len(kode) == 4:
        field = "kabupaten_kota"
    else:
        return ""
    row = (
        Sekolah.objects.filter(kode_wilayah__startswith=kode).values_list(field, flat=True).first()
    )
    return row or kode
