"""Who may see which reports: helpdesk agents by region (the nation, a province, a
regency/city: Agent rows, delegated down the region tree as the portal's admins are), and a
school's operators their school's reports (from the roster, through the portal's scope)."""

from dataclasses import dataclass, field

from django.db.models import Q

from akun.accounts.api import Account
from akun.helpdesk.models import Agent, Report
from akun.portal import api as portal_api
from akun.roster.api import Sekolah


@dataclass(frozen=True)
class Desk:
    national: bool = False
    prefixes: tuple[str, ...] = ()  # regions answered as an agent (2 or 4 digits)
    npsns: frozenset = field(default_factory=frozenset)  # schools, as their operator

    @property
    def agent(self) -> bool:
        return self.national or bool(self.prefixes)

    @property
    def empty(self) -> bool:
        return not (self.agent or self.npsns)

    def covers(self, report: Report) -> bool:
        if self.national:
            return True
        if report.kode_wilayah and any(report.kode_wilayah.startswith(p) for p in self.prefixes):
            return True
        return bool(report.npsn) and report.npsn in self.npsns

    def covers_region(self, kode: str) -> bool:
        if self.national:
            return True
        return (
            bool(kode)
            and kode != portal_api.NATIONAL
            and any(kode.startswith(p) for p in self.prefixes)
        )

    def visible(self) -> Q:
        """Reports this desk may open."""
        if self.national:
            return Q()
        q = Q(pk__in=[])
        for p in self.prefixes:
            q |= Q(kode_wilayah__startswith=p)
        if self.npsns:
            q |= Q(npsn__in=sorted(self.npsns))
        return q

    def queue(self) -> Q:
        """Reports waiting for this desk's own level: a regency's, a province's escalations,
        the nation's (and reports with no region)."""
        q = Q(pk__in=[])
        if self.national:
            q |= Q(level=Report.Level.NATIONAL)
        for p in self.prefixes:
            level = Report.Level.PROVINCE if len(p) == 2 else Report.Level.REGENCY
            q |= Q(level=level, kode_wilayah__startswith=p)
        return q

    def roots(self) -> list[str]:
        if self.national:
            return [portal_api.NATIONAL]
        return sorted(
            p for p in self.prefixes if not any(p != o and p.startswith(o) for o in self.prefixes)
        )


def desk_of(account) -> Desk:
    if not portal_api.is_admin(account):
        return Desk()
    national, prefixes = False, set()
    for level, kode in Agent.objects.filter(account=account).values_list("level", "kode_wilayah"):
        if level == Agent.Level.NATIONAL:
            national = True
        elif kode:
            prefixes.add(kode)
    npsns = frozenset()
    if account.role == Account.Role.TENAGA_KEPENDIDIKAN:
        ids = portal_api.scope_of(account).sekolah_ids
        if ids:
            rows = Sekolah.objects.filter(pk__in=list(ids)).values_list("npsn", flat=True)
            npsns = frozenset(rows)
    return Desk(national=national, prefixes=tuple(sorted(prefixes)), npsns=npsns)


def may_grant(desk: Desk, level: str, kode: str) -> bool:
    """Delegation within one's own region: national -> province -> regency/city."""
    if desk.national:
        return True
    if level == Agent.Level.NATIONAL:
        return False
    return any(kode.startswith(p) for p in desk.prefixes)
