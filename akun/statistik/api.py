"""What other apps use of statistics (OEP-49): account counts by region, school, jenjang,
role and state, kept by the change stream (akun.statistik.counting), and the daily trend.
Every read adds the deltas not folded yet, so it is exact at any moment. Inside
reading_from_replica() (akun.core.replica) the reads go to the streaming replica."""

import dataclasses
import datetime as dt

from django.db import connections

from akun.core.replica import replica_alias
from akun.statistik import counting as tables  # this app's own tables, for its queries here
from akun.statistik.counting import fold, rebuild, refresh_regions
from akun.statistik.models import Region

STATES = ("issued", "active", "suspended", "deactivated", "deleted")
ROLES = ("peserta_didik", "pendidik", "tenaga_kependidikan", "dinas")


@dataclasses.dataclass
class Group:
    """Accounts of one region or school: n per (role, state)."""

    kode: str
    nama: str = ""
    schools: int = 0
    cells: dict = dataclasses.field(default_factory=dict)  # (role, state) -> n
    # Google sync state ('' none yet, pending, synced, failed, suspended, deleted) -> n
    sync: dict = dataclasses.field(default_factory=dict)

    def add(self, role: str, state: str, sync: str, n: int) -> None:
        self.cells[(role, state)] = self.cells.get((role, state), 0) + n
        self.sync[sync] = self.sync.get(sync, 0) + n

    def state(self, state: str) -> int:
        return sum(n for (_r, s), n in self.cells.items() if s == state)

    def role(self, role: str, *, with_deleted=False) -> int:
        return sum(
            n for (r, s), n in self.cells.items() if r == role and (with_deleted or s != "deleted")
        )

    @property
    def total(self) -> int:  # not deleted
        return sum(n for (_r, s), n in self.cells.items() if s != "deleted")

    @property
    def issued(self) -> int:
        return self.state("issued")

    @property
    def active(self) -> int:
        return self.state("active")

    @property
    def suspended(self) -> int:
        return self.state("suspended")

    @property
    def deactivated(self) -> int:
        return self.state("deactivated")

    @property
    def rate(self) -> float | None:
        """Accounts in use among those that should be: active / (issued + active)."""
        base = self.active + self.issued
        return round(100.0 * self.active / base, 1) if base else None


def _region_sql(width: int, prefix: str) -> tuple[str, list]:
    where, params = "kode <> ''", []
    if prefix:
        where += " AND kode LIKE %s"
        params = [prefix + "%"]
    sql = (
        f"SELECT substr(kode, 1, {width}), role, state, sync, sum(n) FROM ("
        f"SELECT kode, role, state, sync, n FROM {tables.REGION} WHERE {where} UNION ALL "
        f"SELECT kode, role, state, sync, n FROM {tables.DELTA} WHERE {where}) x "
        "GROUP BY 1, 2, 3, 4"
    )
    return sql, params * 2


def regions(kode: str = "") -> list[Group]:
    """The provinces of the nation (kode ''), or the regencies of a province (2 digits),
    with names and present schools; sorted by code. Reads ~500 regency rows, whatever the
    number of accounts."""
    width = 2 if not kode else 4
    groups: dict[str, Group] = {}
    for r in Region.objects.filter(kode__startswith=kode).exclude(kode=""):
        g = groups.setdefault(r.kode[:width], Group(r.kode[:width]))
        g.nama = r.provinsi if width == 2 else r.nama
        g.schools += r.schools
    sql, params = _region_sql(width, kode)
    with connections[replica_alias()].cursor() as cur:
        cur.execute(sql, params)
        for g, role, state, sync, n in cur.fetchall():
            if n:
                groups.setdefault(g, Group(g)).add(role, state, sync, int(n))
    return [groups[k] for k in sorted(groups)]


def national() -> Group:
    """The whole country (accounts with a school; admins are not in the roster)."""
    total = Group("")
    for g in regions(""):
        total.schools += g.schools
        for key, n in g.cells.items():
            total.cells[key] = total.cells.get(key, 0) + n
        for key, n in g.sync.items():
            total.sync[key] = total.sync.get(key, 0) + n
    return total


def schools(kode: str) -> dict[str, Group]:
    """The schools of a regency (4 digits): sekolah_id (hex, no dashes) -> Group."""
    sql = (
        f"SELECT sekolah_id, role, state, sync, sum(n) FROM ("
        f"SELECT sekolah_id, role, state, sync, n FROM {tables.SCHOOL} WHERE kode = %s "
        f"UNION ALL SELECT sekolah_id, role, state, sync, n FROM {tables.DELTA} WHERE kode = %s "
        "AND sekolah_id IS NOT NULL) x GROUP BY 1, 2, 3, 4"
    )
    out: dict[str, Group] = {}
    with connections[replica_alias()].cursor() as cur:
        cur.execute(sql, [kode, kode])
        for sekolah_id, role, state, sync, n in cur.fetchall():
            key = str(sekolah_id).replace("-", "")
            if n:
                out.setdefault(key, Group(key)).add(role, state, sync, int(n))
    return out


def detailed(kode: str = "") -> list[tuple]:
    """(regency, jenjang, role, state, n) under a region prefix: the open data's rows."""
    where, params = "kode <> ''", []
    if kode:
        where += " AND kode LIKE %s"
        params = [kode + "%"]
    with connections[replica_alias()].cursor() as cur:
        cur.execute(
            f"SELECT kode, jenjang, role, state, sum(n) FROM ("
            f"SELECT kode, jenjang, role, state, n FROM {tables.REGION} WHERE {where} UNION ALL "
            f"SELECT kode, jenjang, role, state, n FROM {tables.DELTA} WHERE {where}) x "
            "GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4",
            params * 2,
        )
        return [tuple(r[:4]) + (int(r[4]),) for r in cur.fetchall()]


def daily(kind: str, *, since: dt.date | None = None, provinsi: str = "") -> list[tuple]:
    """[(day, n)] of accounts issued or activated per day, oldest first."""
    where, params = "kind = %s", [kind]
    if since:
        where += " AND day >= %s"
        params.append(since)
    if provinsi:
        where += " AND provinsi = %s"
        params.append(provinsi)
    with connections[replica_alias()].cursor() as cur:
        cur.execute(
            f"SELECT day, sum(n) FROM (SELECT day, n FROM {tables.DAILY} WHERE {where} UNION ALL "
            f"SELECT day, n FROM {tables.DAILY_DELTA} WHERE {where}) x "
            "GROUP BY 1 HAVING sum(n) <> 0 ORDER BY 1",
            params * 2,
        )
        out = []
        for day, n in cur.fetchall():
            if isinstance(day, str):
                day = dt.date.fromisoformat(day)
            out.append((day, int(n)))
        return out


__all__ = [
    "Group",
    "ROLES",
    "STATES",
    "daily",
    "detailed",
    "fold",
    "national",
    "rebuild",
    "refresh_regions",
    "regions",
    "schools",
]
