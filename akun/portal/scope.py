"""What an admin account may see: checked on the server for every request.

Delegation follows the region tree: national -> province (2 digits of kode_wilayah) ->
regency/city (4 digits) -> school. School operators and heads get their schools from the
roster (the schools where they are head or operator, at their account's jenjang); dinas and
national admins get AdminScope rows.
"""

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from akun.accounts.api import PTK_FORMS, TENAGA_KEPENDIDIKAN, Account, ptk_role
from akun.portal.models import AdminScope
from akun.roster.api import Ptk, Sekolah

ADMIN_ROLES = frozenset({Account.Role.TENAGA_KEPENDIDIKAN, Account.Role.DINAS})
NATIONAL = "nasional"  # the region code of the whole country in URLs


def is_admin(account) -> bool:
    return bool(account and account.is_authenticated and account.role in ADMIN_ROLES)


def region_level(kode: str) -> str:
    """'national', 'province', 'regency' for a region code in a URL; '' if it is not one."""
    if kode == NATIONAL:
        return AdminScope.Level.NATIONAL
    if kode.isdigit() and len(kode) == 2:
        return AdminScope.Level.PROVINCE
    if kode.isdigit() and len(kode) == 4:
        return AdminScope.Level.REGENCY
    return ""


@dataclass(frozen=True)
class Scope:
    national: bool = False
    prefixes: tuple[str, ...] = ()  # kode_wilayah prefixes (2 or 4 digits)
    sekolah_ids: frozenset = field(default_factory=frozenset)  # single schools

    @property
    def empty(self) -> bool:
        return not (self.national or self.prefixes or self.sekolah_ids)

    @property
    def regional(self) -> bool:
        return self.national or bool(self.prefixes)

    def schools(self) -> QuerySet:
        """Every school in scope (departed ones too: their accounts still need care)."""
        if self.national:
            return Sekolah.objects.all()
        q = Q(pk__in=list(self.sekolah_ids))
        for p in self.prefixes:
            q |= Q(kode_wilayah__startswith=p)
        return Sekolah.objects.filter(q)

    def covers_school(self, sekolah) -> bool:
        return (
            self.national
            or sekolah.pk in self.sekolah_ids
            or any(sekolah.kode_wilayah.startswith(p) for p in self.prefixes)
        )

    def covers_region(self, kode: str) -> bool:
        if self.national:
            return True
        return kode != NATIONAL and any(kode.startswith(p) for p in self.prefixes)

    def roots(self) -> list[str]:
        """The region codes this admin starts from (for the landing page)."""
        if self.national:
            return [NATIONAL]
        # A province covers its regencies: list only the widest of overlapping prefixes.
        return sorted(
            p for p in self.prefixes if not any(p != o and p.startswith(o) for o in self.prefixes)
        )

    def audit_q(self, npsns: list[str]) -> Q:
        """AuditEvent rows of this scope (events carry npsn and kode_wilayah)."""
        if self.national:
            return Q()
        q = Q(npsn__in=npsns) if npsns else Q(pk__in=[])
        for p in self.prefixes:
            q |= Q(kode_wilayah__startswith=p)
        return q


def _operator_schools(account) -> set:
    """The schools where the person is head or operator, at the account's jenjang."""
    if account.person_type != Account.PersonType.PTK or not account.person_id:
        return set()
    rows = Ptk.objects.filter(person_q(account), departed_at__isnull=True).values_list(
        "sekolah_id", "jenis_ptk", "operator_sekolah"
    )
    admin_rows = {
        sekolah_id
        for sekolah_id, jenis_ptk, operator in rows
        if ptk_role(jenis_ptk, operator) == TENAGA_KEPENDIDIKAN
    }
    if not admin_rows:
        return set()
    jenjang = (account.jenjang or "").upper()
    out = set()
    for s in Sekolah.objects.filter(pk__in=admin_rows, departed_at__isnull=True):
        form = PTK_FORMS.get(s.bentuk_pendidikan)
        if form and (not jenjang or form[0] == jenjang or form[1].upper() == jenjang):
            out.add(s.pk)
    return out


def person_q(account) -> Q:
    return Q(ptk_id=account.person_id)


def scope_of(account) -> Scope:
    if not is_admin(account):
        return Scope()
    sekolah_ids = set()
    if account.role == Account.Role.TENAGA_KEPENDIDIKAN:
        sekolah_ids |= _operator_schools(account)
    national = False
    prefixes = set()
    npsns = []
    for level, kode, npsn in AdminScope.objects.filter(account=account).values_list(
        "level", "kode_wilayah", "npsn"
    ):
        if level == AdminScope.Level.NATIONAL:
            national = True
        elif level in (AdminScope.Level.PROVINCE, AdminScope.Level.REGENCY) and kode:
            prefixes.add(kode)
        elif level == AdminScope.Level.SCHOOL and npsn:
            npsns.append(npsn)
    if npsns:
        sekolah_ids |= set(Sekolah.objects.filter(npsn__in=npsns).values_list("pk", flat=True))
    return Scope(
        national=national, prefixes=tuple(sorted(prefixes)), sekolah_ids=frozenset(sekolah_ids)
    )


def request_scope(request) -> Scope:
    """The scope of the signed-in admin, computed once per request."""
    cached = getattr(request, "_akun_portal_scope", None)
    if cached is None:
        cached = scope_of(request.user)
        request._akun_portal_scope = cached
    return cached


def covers(outer: Scope, level: str, kode: str = "", sekolah=None) -> bool:
    """May an admin with `outer` delegate (grant) this scope? Only within their own region."""
    if outer.national:
        return True
    if level == AdminScope.Level.NATIONAL:
        return False
    if level == AdminScope.Level.SCHOOL:
        return sekolah is not None and outer.covers_school(sekolah)
    return any(kode.startswith(p) for p in outer.prefixes)
