"""A synthetic Dapodik snapshot: `akun roster generate --out DIR --scale S --seed N [--messy]`.

Writes sekolah.csv, peserta_didik.csv and ptk.csv in the format of the Dapodik export
(docs: ../shared/dapodik-export.md). Scale 1.0 is the whole country (~220k schools, ~27M
students, ~3M PTK rows); the same seed and scale give byte-identical files within one school
year (birth dates are relative to the school year of `clock.today()`).

Streaming: schools are generated one at a time and written at once; the only state kept
across schools is small (counters per region, a pool of teachers waiting for a second
school in the same province). Unique numbers come from seeded bijections of counters, not
from sets of every number issued.

`messy=True` writes the flaws of real files into ~1.5% of rows and into the encodings, and
lists every flaw in `_messy_manifest.json`: [{"file", "line", "kind", "field", "outcome"}].
`line` is the physical line where the record starts (header = line 1); file-level flaws (BOM,
`;`, Windows-1252) are listed at line 1 with field "". outcome "rejected" marks exactly the
records a correct importer must reject; "tolerated" ones it must accept.
"""

import csv
import datetime as dt
import json
import math
from bisect import bisect
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from random import Random

from akun.core import clock
from akun.roster.api import COLUMNS, PESERTA_DIDIK_COLUMNS, PTK_COLUMNS, SEKOLAH_COLUMNS
from akun.synthetic import names
from akun.synthetic.wilayah import MAX_KECAMATAN, KabupatenKota, kabupaten_kota

MANIFEST = "_messy_manifest.json"

# Schools per form at scale 1.0 (about Dapodik's national mix; early childhood only sampled).
NATIONAL_SCHOOLS = {
    "SD": 140_000, "SMP": 38_000, "SMA": 13_500, "SMK": 13_000, "SLB": 2_300, "SDLB": 150,
    "SMPLB": 80, "SMALB": 70, "PKBM": 9_000, "SKB": 400, "TK": 3_000, "KB": 1_200, "TPA": 300,
    "SPS": 500,
}  # fmt: skip
# Share of Negeri (state) schools per form.
NEGERI_SHARE = {
    "SD": 0.88, "SMP": 0.58, "SMA": 0.50, "SMK": 0.25, "SLB": 0.25, "SDLB": 0.6, "SMPLB": 0.6,
    "SMALB": 0.6, "PKBM": 0.02, "SKB": 1.0, "TK": 0.05, "KB": 0.02, "TPA": 0.01, "SPS": 0.01,
}  # fmt: skip
PAUD = ("TK", "KB", "TPA", "SPS")
JENJANG = {"SD": "sd", "SMP": "smp", "SMA": "sma", "SMK": "smk"}
# Where a teacher with a second assignment teaches too: the same level, or the next one.
SECOND_SCHOOL = {
    "SD": ("SD", "SD", "SMP"),
    "SMP": ("SMP", "SD", "SMA"),
    "SMA": ("SMA", "SMK", "SMP"),
    "SMK": ("SMK", "SMA"),
}
SECOND_SCHOOL_SHARE = 0.04
ROMAWI = {7: "VII", 8: "VIII", 9: "IX", 10: "X", 11: "XI", 12: "XII", 13: "XIII"}
SMK_JURUSAN = (
    "TKJ", "RPL", "AKL", "OTKP", "BDP", "TKR", "TBSM", "TITL", "DPIB", "MM", "FKK", "TB",
    "PH", "APHP", "ATPH", "NKPI",
)  # fmt: skip
SLB_KATEGORI = ("A", "B", "C", "C1", "D", "Q")
TMT_MONTHS = (1, 3, 12, 4, 2, 5, 6, 7, 8, 9, 10, 11)  # CPNS appointments cluster early
MESSY_SHARE = 0.015


class _Bijection:
    """i -> (a*i + b) mod m with gcd(a, m) = 1: distinct outputs for distinct i < m."""

    def __init__(self, rng: Random, m: int):
        self.m = m
        while True:
            a = rng.randrange(m // 3, m)
            if math.gcd(a, m) == 1:
                break
        self.a, self.b = a, rng.randrange(m)

    def __call__(self, i: int) -> int:
        if not 0 <= i < self.m:
            raise ValueError("scale too large: identifier space exhausted")
        return (self.a * i + self.b) % self.m


_UUID_MASK = ((1 << 128) - 1) & ~((0xF << 76) | (0x3 << 62))
_UUID_SET = (0x4 << 76) | (0x2 << 62)


def _uuid4(rng: Random) -> str:
    h = "%032x" % ((rng.getrandbits(128) & _UUID_MASK) | _UUID_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _weighted(rng: Random, cum: list[float]) -> int:
    return min(bisect(cum, rng.random() * cum[-1]), len(cum) - 1)


def _cum(weights) -> list[float]:
    out, t = [], 0.0
    for w in weights:
        t += w
        out.append(t)
    return out


def _pick(rng: Random, seq):
    return seq[int(rng.random() * len(seq))]


def school_year(today: dt.date) -> int:
    """The year the current school year began (it starts in July)."""
    return today.year if today.month >= 7 else today.year - 1


def form_counts(scale: float) -> dict[str, int]:
    """Schools per form at this scale; at least one of each so every form appears."""
    return {f: max(1, round(n * scale)) for f, n in NATIONAL_SCHOOLS.items()}


@dataclass
class _Sekolah:
    sekolah_id: str
    npsn: str
    nama: str
    bentuk: str
    negeri: bool
    kode_wilayah: str
    kab: KabupatenKota


class _Generator:
    def __init__(self, rng: Random, year: int):
        self.rng = rng
        self.year = year
        self.regions = kabupaten_kota()
        self.npsn = _Bijection(rng, 59_000_000)  # 10000000-68999999
        self.npsn_nonformal = _Bijection(rng, 1_000_000)  # 69xxxxxx: PAUD, PKBM, SKB
        self.npsn_i = 0
        self.npsn_nonformal_i = 0
        self.nisn = _Bijection(rng, 10_000_000)
        self.nisn_i: dict[int, int] = {}  # per birth year
        self.nuptk = _Bijection(rng, 9 * 10**15)
        self.nuptk_i = 0
        self.nik_i: dict[str, int] = {}  # per kecamatan
        self.nik_overflow: Counter[str] = Counter()  # per regency
        self.nip_i: Counter[tuple[str, int, int]] = Counter()  # (YYYY-MM born, TMT, sex)
        self.pool: dict[str, list[list[str]]] = defaultdict(list)  # form -> persons
        self.pool_province = ""
        self.pooled: set[str] = set()  # ptk_ids of this school that joined the pool
        # Students' date-of-birth offsets from the usual age for a grade.
        self.age_off_cum = _cum((0.35, 0.50, 0.12, 0.03))
        self._days: dict[int, tuple[list[str], list[str], list[str]]] = {}

    # -- identifiers ------------------------------------------------------------------------

    def new_npsn(self, bentuk: str) -> str:
        if bentuk in PAUD or bentuk in ("PKBM", "SKB"):
            n = self.npsn_nonformal(self.npsn_nonformal_i)
            self.npsn_nonformal_i += 1
            return f"69{n:06d}"
        n = self.npsn(self.npsn_i)
        self.npsn_i += 1
        return str(10_000_000 + n)

    def new_nisn(self, birth_year: int) -> str:
        # Like real NISNs: the first three digits are the birth year's last three.
        i = self.nisn_i.get(birth_year, 0)
        if i >= 10**7:
            raise ValueError("scale too large: NISN numbers of a birth year exhausted")
        self.nisn_i[birth_year] = i + 1
        # Shifted per year so the years do not share a sequence of suffixes.
        return f"{birth_year % 1000:03d}{self.nisn((i + birth_year * 7_654_321) % 10**7):07d}"

    def new_nik(self, kode_wilayah: str, ddmmyy: str) -> str:
        """Dukcapil NIK: kecamatan, DDMMYY (day + 40 for women), a 4-digit serial."""
        i = self.nik_i.get(kode_wilayah, 0)
        self.nik_i[kode_wilayah] = i + 1
        if i < 9999:
            return f"{kode_wilayah}{ddmmyy}{i + 1:04d}"
        # A crowded kecamatan: continue in kecamatan numbers no school uses.
        kab = kode_wilayah[:4]
        i = self.nik_overflow[kab]
        self.nik_overflow[kab] = i + 1
        kec = MAX_KECAMATAN + 1 + i // 9999
        if kec > 99:
            raise ValueError("scale too large: NIK serials exhausted")
        return f"{kab}{kec:02d}{ddmmyy}{i % 9999 + 1:04d}"

    def new_nip(self, born: str, male: bool, earliest: int) -> str:
        """NIP: birth date, appointment (TMT) YYYYMM, gender digit, 3-digit sequence."""
        earliest = min(earliest, self.year)
        span = self.year - earliest + 1
        first = int(self.rng.random() * span)
        for k in range(span):  # a later year when one is full
            tmt_year = earliest + (first + k) % span
            key = (born[:7], tmt_year, int(male))  # per birth month: ~20k keys nationally
            i = self.nip_i[key]
            if i < 999 * len(TMT_MONTHS):
                self.nip_i[key] = i + 1
                break
        else:
            raise ValueError("scale too large: NIP sequences exhausted")
        month = TMT_MONTHS[i // 999]
        return (
            f"{born.replace('-', '')}{tmt_year:04d}{month:02d}{1 if male else 2}{i % 999 + 1:03d}"
        )

    def new_nuptk(self) -> str:
        n = self.nuptk(self.nuptk_i)
        self.nuptk_i += 1
        return str(10**15 + n)

    def days(self, year: int) -> tuple[list[str], list[str], list[str]]:
        """A year's dates: ISO, and as NIK's DDMMYY for men and for women (day + 40)."""
        t = self._days.get(year)
        if t is None:
            start, end = dt.date(year, 1, 1).toordinal(), dt.date(year + 1, 1, 1).toordinal()
            dates = [dt.date.fromordinal(o) for o in range(start, end)]
            yy = year % 100
            t = self._days[year] = (
                [d.isoformat() for d in dates],
                [f"{d.day:02d}{d.month:02d}{yy:02d}" for d in dates],
                [f"{d.day + 40:02d}{d.month:02d}{yy:02d}" for d in dates],
            )
        return t

    # -- schools ----------------------------------------------------------------------------

    def schools(self, scale: float):
        """Yield every school, regency by regency; forms spread over regencies by weight."""
        rng = self.rng
        cum = _cum(r.weight for r in self.regions)
        per_region: dict[int, Counter[str]] = defaultdict(Counter)
        for bentuk, n in form_counts(scale).items():
            for _ in range(n):
                per_region[_weighted(rng, cum)][bentuk] += 1
        for ri, kab in enumerate(self.regions):
            forms = sorted(per_region.get(ri, Counter()).elements())
            rng.shuffle(forms)
            for bentuk in forms:
                yield self.school(kab, bentuk)

    def school(self, kab: KabupatenKota, bentuk: str) -> _Sekolah:
        rng = self.rng
        negeri = rng.random() < NEGERI_SHARE[bentuk]
        kec = 1 + int(rng.random() * kab.jumlah_kecamatan)
        return _Sekolah(
            sekolah_id=_uuid4(rng),
            npsn=self.new_npsn(bentuk),
            nama=self.school_name(kab, bentuk, negeri),
            bentuk=bentuk,
            negeri=negeri,
            kode_wilayah=f"{kab.kode}{kec:02d}",
            kab=kab,
        )

    def school_name(self, kab: KabupatenKota, bentuk: str, negeri: bool) -> str:
        rng = self.rng
        town = kab.nama_tempat.upper()
        desa = _pick(rng, names.DESA).upper()
        yayasan = _pick(rng, names.YAYASAN).upper()
        n = 1 + int(rng.random() ** 2 * (40 if kab.kota else 12))
        if bentuk == "SD":
            if negeri:
                if rng.random() < 0.2:
                    return f"SDN {desa} {n:02d}"
                return f"SD NEGERI {1 + int(rng.random() ** 2 * 6)} {desa}"
            return f"SD {yayasan} {desa}"
        if bentuk in ("SMP", "SMA", "SMK"):
            return f"{bentuk} NEGERI {n} {town}" if negeri else f"{bentuk} {yayasan} {town}"
        if bentuk in ("SLB", "SDLB", "SMPLB", "SMALB"):
            if negeri:
                return f"{bentuk} NEGERI {n if n < 4 else 1} {town}"
            return f"{bentuk} {_pick(rng, SLB_KATEGORI)} {yayasan} {town}"
        if bentuk == "PKBM":
            return f"PKBM {_pick(rng, names.PKBM_NAMA).upper()}"
        if bentuk == "SKB":
            return f"SPNF SKB {town}"
        if bentuk == "TK" and negeri:
            return f"TK NEGERI PEMBINA {town}"
        if bentuk == "SPS":
            return f"SPS POSYANDU {_pick(rng, names.PAUD_NAMA).upper()} {desa}"
        return f"{bentuk} {_pick(rng, names.PAUD_NAMA).upper()} {desa}"

    # -- students ---------------------------------------------------------------------------

    def rombels(self, bentuk: str) -> list[tuple[int, str, str]]:
        """(grade, program, rombel name) for every class group of a school."""
        rng = self.rng
        out = []
        if bentuk == "SD":
            base = 1 + _weighted(rng, _SD_ROMBEL)
            for g in range(1, 7):
                r = max(1, base + (1 if rng.random() < 0.1 else 0) - (rng.random() < 0.1))
                out += [(g, "reguler", f"{g}{chr(65 + k)}") for k in range(r)]
        elif bentuk == "SMP":
            base = 1 + _weighted(rng, _SMP_ROMBEL)
            for g in (7, 8, 9):
                r = max(1, base + (1 if rng.random() < 0.1 else 0) - (rng.random() < 0.1))
                out += [(g, "reguler", f"{ROMAWI[g]} {chr(65 + k)}") for k in range(r)]
        elif bentuk == "SMA":
            base = 1 + _weighted(rng, _SMA_ROMBEL)
            for g in (10, 11, 12):
                r = max(1, base + (1 if rng.random() < 0.1 else 0) - (rng.random() < 0.1))
                ipa = (r + 1) // 2
                out += [(g, "reguler", f"{ROMAWI[g]} IPA {k + 1}") for k in range(ipa)]
                out += [(g, "reguler", f"{ROMAWI[g]} IPS {k + 1}") for k in range(r - ipa)]
        elif bentuk == "SMK":
            jurusan = rng.sample(SMK_JURUSAN, 1 + _weighted(rng, _SMK_JURUSAN))
            four_year = rng.random() < 0.1
            for j in jurusan:
                r = 1 + (rng.random() < 0.2)
                for g in (10, 11, 12, 13) if four_year and j == jurusan[0] else (10, 11, 12):
                    out += [(g, "reguler", f"{ROMAWI[g]} {j} {k + 1}") for k in range(r)]
        elif bentuk in ("SLB", "SDLB", "SMPLB", "SMALB"):
            grades = {"SLB": range(1, 13), "SDLB": range(1, 7), "SMPLB": range(7, 10)}.get(
                bentuk, range(10, 13)
            )
            for g in grades:
                if rng.random() < 0.65:
                    out.append((g, "reguler", f"{g}-{_pick(rng, SLB_KATEGORI)}"))
        elif bentuk in ("PKBM", "SKB"):
            for paket, grades, share in _PAKET:
                if rng.random() < share:
                    for g in grades:
                        out.append((g, paket, f"Paket {paket[-1].upper()} Kelas {g}"))
        return out

    def class_size(self, bentuk: str) -> int:
        lo, hi = _CLASS_SIZE.get(bentuk, (2, 8))
        return lo + int(self.rng.random() * (hi - lo + 1))

    def students(self, s: _Sekolah, rombels) -> list[list[str]]:
        rng = self.rng
        rnd = rng.random
        year = self.year
        kab = s.kab
        kode_wilayah, sekolah_id, prov = s.kode_wilayah, s.sekolah_id, kab.kode_provinsi
        home = kab.nama_tempat
        regions = self.regions
        age_off_cum = self.age_off_cum
        special = s.bentuk in ("SLB", "SDLB", "SMPLB", "SMALB")
        nama_orang, new_nisn, new_nik, days = (
            names.nama_orang,
            self.new_nisn,
            self.new_nik,
            self.days,
        )
        rows = []
        for grade, program, rombel in rombels:
            tingkat = str(grade)
            for _ in range(self.class_size(s.bentuk)):
                male = rnd() < 0.51
                if program == "reguler":
                    born_year = year - 5 - grade - bisect(age_off_cum, rnd())
                    if special:
                        born_year -= int(rnd() * 3)
                else:  # equivalency students are often older
                    born_year = year - 6 - grade - int(rnd() ** 2 * 20)
                iso, ddmmyy_l, ddmmyy_p = days(born_year)
                d = int(rnd() * len(iso))
                rows.append(
                    [
                        _uuid4(rng),
                        new_nisn(born_year) if rnd() < 0.99 else "",
                        new_nik(kode_wilayah, (ddmmyy_l if male else ddmmyy_p)[d])
                        if rnd() < 0.95
                        else "",
                        nama_orang(rng, prov, male, adult=False),
                        "L" if male else "P",
                        home if rnd() < 0.85 else regions[int(rnd() * len(regions))].nama_tempat,
                        iso[d],
                        sekolah_id,
                        tingkat,
                        program,
                        rombel,
                    ]
                )
        return rows

    # -- PTK --------------------------------------------------------------------------------

    def person(self, s: _Sekolah, role: str, *, pns_share: float, teacher: bool) -> list[str]:
        """A PTK person's own fields (the PTK_COLUMNS up to no_hp)."""
        rng = self.rng
        year = self.year
        male = rng.random() < (0.95 if role == "Penjaga Sekolah" else 0.42)
        oldest, youngest = (58, 38) if role == "Kepala Sekolah" else (60, 21)
        born_year = year - youngest - int(rng.random() * (oldest - youngest))
        iso, ddmmyy_l, ddmmyy_p = self.days(born_year)
        d = int(rng.random() * len(iso))
        nama = names.nama_orang(rng, s.kab.kode_provinsi, male, adult=True)
        depan, belakang = "", ""
        if teacher or role == "Kepala Sekolah":
            if born_year < 1968 and rng.random() < 0.4:
                depan = names.GELAR_DEPAN_TUA[0 if male else 1]
            elif rng.random() < 0.92:
                belakang = _pick(rng, names.GELAR_GURU)
                if rng.random() < 0.15:
                    belakang += " " + _pick(rng, names.GELAR_MAGISTER)
                    belakang = belakang.replace(". M", "., M", 1)
            if rng.random() < 0.006:
                depan = _pick(rng, names.GELAR_DEPAN)
        elif role in ("Tenaga Administrasi Sekolah", "Tenaga Perpustakaan", "Laboran"):
            if rng.random() < 0.45:
                belakang = _pick(rng, names.GELAR_TENDIK)
        if rng.random() < 0.07 and s.kab.kode_provinsi not in _NON_MUSLIM_MAJORITY:
            depan = (depan + " " if depan else "") + names.GELAR_HAJI[male]
        nuptk = ""
        if rng.random() < (0.85 if teacher else 0.95 if role == "Kepala Sekolah" else 0.04):
            nuptk = self.new_nuptk()
        nip = ""
        if s.negeri and born_year + 23 <= year and rng.random() < pns_share:
            nip = self.new_nip(iso[d], male, born_year + 23)  # appointed after a degree
        email = ""
        if rng.random() < 0.55:
            email = self.email(nama, s.bentuk)
        hp = ""
        if rng.random() < 0.75:  # 10 to 13 digits
            rest = 6 + int(rng.random() * 4)
            hp = _pick(rng, names.HP_PREFIX) + str(rng.randrange(10 ** (rest - 1), 10**rest))
        return [
            _uuid4(rng),
            nuptk,
            nip,
            self.new_nik(s.kode_wilayah, (ddmmyy_l if male else ddmmyy_p)[d]),
            nama,
            depan,
            belakang,
            "L" if male else "P",
            iso[d],
            email,
            hp,
        ]

    def email(self, nama: str, bentuk: str) -> str:
        rng = self.rng
        parts = ["".join(c for c in p.lower() if "a" <= c <= "z") for p in nama.split()]
        parts = [p for p in parts if p] or ["guru"]
        local = ".".join(parts[:2]) if rng.random() < 0.5 else "".join(parts[:2])
        if rng.random() < 0.6:
            local += str(rng.randrange(1, 999))
        if bentuk in JENJANG and rng.random() < 0.15:
            return f"{local}@guru.{JENJANG[bentuk]}.belajar.id"
        return f"{local}@{_pick(rng, names.EMAIL_DOMAIN)}"

    def staff(self, s: _Sekolah, rombels) -> list[list[str]]:
        """Every PTK row of a school: kepala, teachers, staff, second-school teachers."""
        rng = self.rng
        b = s.bentuk
        n_rombel = len(rombels)
        plan: list[tuple[str, bool, float]] = [("Kepala Sekolah", False, 0.95)]
        teachers: list[str] = []
        if b == "SD":
            teachers = ["Guru Kelas"] * n_rombel + ["Guru Mapel"] * (1 + (rng.random() < 0.6))
            if rng.random() < 0.06:
                teachers.append("Guru Inklusi")
            tendik = _tendik(rng, tas=(0.6, 1), perpus=0.25, laboran=0, penjaga=0.5)
        elif b in ("SMP", "SMA", "SMK"):
            teachers = ["Guru Mapel"] * (3 + round(n_rombel * 1.05))
            teachers += ["Guru BK"] * (1 + (n_rombel > 12))
            if rng.random() < 0.3:
                teachers.append("Guru TIK")
            if b == "SMK" and rng.random() < 0.3:
                teachers.append("Instruktur")
            if rng.random() < 0.04:
                teachers.append("Guru Inklusi")
            tendik = _tendik(rng, tas=(1.0, 1 + (n_rombel > 9)), perpus=0.8, laboran=0.6)
            if rng.random() < 0.3:
                tendik.append("Petugas Keamanan")
            if rng.random() < 0.3:
                tendik.append("Tenaga Kebersihan")
        elif b in ("SLB", "SDLB", "SMPLB", "SMALB"):
            teachers = ["Guru Kelas"] * max(1, n_rombel) + ["Guru Pendamping Khusus"] * (
                1 + (rng.random() < 0.5)
            )
            tendik = _tendik(rng, tas=(0.8, 1), perpus=0.2, laboran=0, penjaga=0.5)
        elif b in ("PKBM", "SKB"):
            teachers = ["Tutor"] * (max(1, n_rombel) + 1)
            tendik = _tendik(rng, tas=(0.7, 1), perpus=0, laboran=0, penjaga=0)
        else:  # early childhood
            kelas = "Guru Kelas" if b == "TK" else "Guru Pendamping"
            teachers = [kelas] * (1 + int(rng.random() * 3))
            tendik = _tendik(rng, tas=(0.3, 1), perpus=0, laboran=0, penjaga=0.1)
        plan += [(j, True, 0.6) for j in teachers]
        plan += [(j, False, 0.2 if j == "Penjaga Sekolah" else 0.35) for j in tendik]

        rows = []
        for jenis, teacher, pns in plan:
            rows.append(
                self.person(s, jenis, pns_share=pns, teacher=teacher)
                + [s.sekolah_id, jenis, "1", "0"]
            )
        # Operators: one (often a TAS or a teacher), sometimes two.
        tas = [i for i, r in enumerate(rows) if r[12] == "Tenaga Administrasi Sekolah"]
        guru = [i for i, r in enumerate(rows) if r[12] in _TEACHING]
        candidates = tas if tas and rng.random() < 0.7 else guru or tas or [0]
        for i in rng.sample(candidates, min(len(candidates), 1 + (rng.random() < 0.15))):
            rows[i][14] = "1"
        self.second_assignments(s, rows)
        return rows

    def second_assignments(self, s: _Sekolah, rows: list[list[str]]) -> None:
        """Teachers from earlier schools of the province who also teach here; and new
        teachers of this school who will teach at a later one."""
        self.pooled.clear()
        if s.kab.kode_provinsi != self.pool_province:
            self.pool.clear()
            self.pool_province = s.kab.kode_provinsi
        if s.bentuk not in SECOND_SCHOOL:
            return
        rng = self.rng
        waiting = self.pool[s.bentuk]
        # Civil servants (with a NIP) take a second assignment only at a state school.
        taking = [p for p in waiting if s.negeri or not p[2]][:2]
        for person in taking:
            waiting.remove(person)
            rows.append(person + [s.sekolah_id, "Guru Mapel", "0", "0"])
        for r in rows:
            if r[13] == "1" and r[12] in ("Guru Kelas", "Guru Mapel"):
                if r[14] == "0" and rng.random() < SECOND_SCHOOL_SHARE:
                    target = _pick(rng, SECOND_SCHOOL[s.bentuk])
                    if len(self.pool[target]) < 50:
                        self.pool[target].append(r[:11])
                        self.pooled.add(r[0])


_TEACHING = {
    "Guru Kelas", "Guru Mapel", "Guru BK", "Guru TIK", "Tutor", "Guru Pendamping",
    "Guru Pendamping Khusus", "Guru Inklusi", "Instruktur",
}  # fmt: skip
_NON_MUSLIM_MAJORITY = {"12", "51", "53", "71", "81", "91", "92", "93", "94", "95", "96"}
_SD_ROMBEL = _cum((0.65, 0.27, 0.06, 0.02))
_SMP_ROMBEL = _cum((0.20, 0.35, 0.25, 0.12, 0.08))
_SMA_ROMBEL = _cum((0.25, 0.35, 0.25, 0.15))
_SMK_JURUSAN = _cum((0.35, 0.35, 0.2, 0.1))
_PAKET = (
    ("paket_a", (4, 5, 6), 0.4),
    ("paket_b", (7, 8, 9), 0.7),
    ("paket_c", (10, 11, 12), 0.9),
)
_CLASS_SIZE = {
    "SD": (6, 19),
    "SMP": (14, 29),
    "SMA": (18, 32),
    "SMK": (18, 34),
    "PKBM": (4, 15),
    "SKB": (4, 15),
}


def _tendik(rng: Random, *, tas, perpus, laboran, penjaga=1.0) -> list[str]:
    out = []
    if rng.random() < tas[0]:
        out += ["Tenaga Administrasi Sekolah"] * tas[1]
    if rng.random() < perpus:
        out.append("Tenaga Perpustakaan")
    if rng.random() < laboran:
        out.append("Laboran")
    if rng.random() < penjaga:
        out.append("Penjaga Sekolah")
    return out


def sekolah_row(s: _Sekolah) -> list[str]:
    return [
        s.sekolah_id,
        s.npsn,
        s.nama,
        s.bentuk,
        "Negeri" if s.negeri else "Swasta",
        s.kode_wilayah,
        s.kab.nama,
        s.kab.provinsi,
    ]


# -- output ---------------------------------------------------------------------------------

# File encodings and delimiters: clean, and as spreadsheets in the Indonesian locale write them.
CLEAN_FORMAT = {name: ("utf-8", ",") for name in COLUMNS}
MESSY_FORMAT = {
    "sekolah.csv": ("utf-8-sig", ";"),
    "peserta_didik.csv": ("cp1252", ";"),
    "ptk.csv": ("utf-8", ","),
}
FILE_FLAWS = {
    "sekolah.csv": (("bom", ""), ("delimiter_semicolon", "")),
    "peserta_didik.csv": (("encoding_cp1252", ""), ("delimiter_semicolon", "")),
    "ptk.csv": (),
}


class _Out:
    """One CSV file being written; counts physical lines for the messy manifest."""

    def __init__(self, out_dir: Path, name: str, fmt: tuple[str, str], manifest):
        encoding, delimiter = fmt
        self.name = name
        self.file = open(out_dir / name, "w", encoding=encoding, newline="")  # noqa: SIM115
        self.writer = csv.writer(self.file, delimiter=delimiter)
        self.quote_all = csv.writer(self.file, delimiter=delimiter, quoting=csv.QUOTE_ALL)
        self.writer.writerow(COLUMNS[name])
        self.delimiter = delimiter
        self.separators = len(COLUMNS[name]) - 1
        self.line = 2
        self.rows = 0
        self.manifest = manifest  # a JSON-lines file, or None

    def write_clean(self, rows: list[list[str]]) -> None:
        """Rows joined directly (csv.writer is ~8x slower); rows that need quoting go
        through csv.writer, so the bytes are the same as csv.writer's."""
        d, n, buf = self.delimiter, self.separators, []
        for row in rows:
            line = d.join(row)
            if line.count(d) == n and '"' not in line and "\n" not in line and "\r" not in line:
                buf.append(line)
                continue
            if buf:
                self.file.write("\r\n".join(buf) + "\r\n")
                buf = []
            self.writer.writerow(row)
        if buf:
            self.file.write("\r\n".join(buf) + "\r\n")
        self.rows += len(rows)

    def write_messy(self, items) -> None:
        """items: (row, quote_all, flaws) with flaws [(kind, field, outcome)]."""
        clean: list[list[str]] = []  # unflawed rows hold no line breaks: one line each
        for row, quote_all, flaws in items:
            if not flaws and not quote_all:
                clean.append(row)
                continue
            if clean:
                self._write_clean_lines(clean)
                clean = []
            (self.quote_all if quote_all else self.writer).writerow(row)
            for kind, field, outcome in flaws:
                entry = {
                    "file": self.name,
                    "line": self.line,
                    "kind": kind,
                    "field": field,
                    "outcome": outcome,
                }
                self.manifest.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self.line += 1 + sum(v.count("\n") for v in row)
            self.rows += 1
        if clean:
            self._write_clean_lines(clean)

    def _write_clean_lines(self, rows: list[list[str]]) -> None:
        self.write_clean(rows)
        self.line += len(rows)

    def close(self):
        self.file.close()


def generate_snapshot(
    out_dir: Path, *, scale: float, seed: int, messy: bool, year: int | None = None
) -> dict[str, int]:
    """Write sekolah.csv, peserta_didik.csv and ptk.csv to out_dir; rows written per file.

    year: the school year (its first calendar year); default: the current one.
    """
    if scale <= 0:
        raise ValueError("scale must be greater than 0")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    year = school_year(clock.today()) if year is None else year
    gen = _Generator(Random(seed), year)
    fmt = MESSY_FORMAT if messy else CLEAN_FORMAT
    parts = {name: out_dir / f".{name}.flaws" for name in COLUMNS}
    manifests = {n: open(p, "w", encoding="utf-8") for n, p in parts.items()} if messy else {}  # noqa: SIM115
    outs = {name: _Out(out_dir, name, fmt[name], manifests.get(name)) for name in COLUMNS}
    mess = _Messer(Random(f"messy-{seed}"), gen) if messy else None
    try:
        if messy:
            for name, flaws in FILE_FLAWS.items():
                for kind, field in flaws:  # the header is line 1
                    manifests[name].write(
                        json.dumps(
                            {
                                "file": name,
                                "line": 1,
                                "kind": kind,
                                "field": field,
                                "outcome": "tolerated",
                            }
                        )
                        + "\n"
                    )
        for s in gen.schools(scale):
            rombels = gen.rombels(s.bentuk)
            students = gen.students(s, rombels) if rombels else []
            staff = gen.staff(s, rombels)
            if mess is None:
                outs["sekolah.csv"].write_clean([sekolah_row(s)])
                outs["peserta_didik.csv"].write_clean(students)
                outs["ptk.csv"].write_clean(staff)
            else:
                outs["sekolah.csv"].write_messy(mess.sekolah(s))
                outs["peserta_didik.csv"].write_messy(mess.peserta_didik(students))
                outs["ptk.csv"].write_messy(mess.ptk(staff))
    finally:
        for o in outs.values():
            o.close()
        for m in manifests.values():
            m.close()
    if messy:
        _join_manifest(out_dir / MANIFEST, [parts[name] for name in COLUMNS])
    return {name: o.rows for name, o in outs.items()}


def _join_manifest(target: Path, parts: list[Path]) -> None:
    """One JSON list from the per-file JSON-lines parts, streaming."""
    with open(target, "w", encoding="utf-8") as out:
        out.write("[")
        first = True
        for part in parts:
            with open(part, encoding="utf-8") as f:
                for line in f:
                    out.write(("\n" if first else ",\n") + line.rstrip("\n"))
                    first = False
            part.unlink()
        out.write("\n]\n")


# -- messy ----------------------------------------------------------------------------------

TOLERATED, REJECTED = "tolerated", "rejected"
SEKOLAH_KINDS = {
    "spaces": TOLERATED,
    "capitals": TOLERATED,
    "quoted_comma": TOLERATED,
    "quoted_linebreak": TOLERATED,
    "npsn_scientific": REJECTED,
    "duplicate_row": REJECTED,
}
PESERTA_DIDIK_KINDS = {
    "spaces": TOLERATED,
    "capitals": TOLERATED,
    "quoted_comma": TOLERATED,
    "quoted_linebreak": TOLERATED,
    "date_dmy_slash": TOLERATED,
    "date_dmy_dash": TOLERATED,
    "cp1252_name": TOLERATED,
    "nisn_scientific": REJECTED,
    "nisn_leading_zero": REJECTED,
    "nik_scientific": REJECTED,
    "impossible_date": REJECTED,
    "grade_out_of_range": REJECTED,
    "unknown_school": REJECTED,
    "duplicate_row": REJECTED,
    "nisn_shared": REJECTED,
}
PTK_KINDS = {
    "spaces": TOLERATED,
    "capitals": TOLERATED,
    "quoted_linebreak": TOLERATED,
    "titles_in_nama": TOLERATED,
    "date_dmy_slash": TOLERATED,
    "date_dmy_dash": TOLERATED,
    "nik_scientific": REJECTED,
    "nuptk_scientific": REJECTED,
    "nip_scientific": REJECTED,
    "impossible_date": REJECTED,
    "unknown_school": REJECTED,
    "duplicate_row": REJECTED,
}
KINDS = {
    "sekolah.csv": SEKOLAH_KINDS,
    "peserta_didik.csv": PESERTA_DIDIK_KINDS,
    "ptk.csv": PTK_KINDS,
}

_SD = {c: i for i, c in enumerate(SEKOLAH_COLUMNS)}
_PD = {c: i for i, c in enumerate(PESERTA_DIDIK_COLUMNS)}
_PT = {c: i for i, c in enumerate(PTK_COLUMNS)}


def excel_number(digits: str) -> str:
    """A long number as a spreadsheet shows it in General format: 9.12346E+07."""
    return f"{int(digits):.5E}"


def _dmy(iso: str, sep: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}{sep}{m}{sep}{y}"


class _Messer:
    """Puts real-world flaws into ~1.5% of rows, at most one per row; every kind at least
    once (the first eligible rows get the kinds not seen yet)."""

    def __init__(self, rng: Random, gen: _Generator):
        self.rng = rng
        self.gen = gen
        self.unseen = {name: list(kinds) for name, kinds in KINDS.items()}
        self.phantoms = 0

    def _choose(self, file: str, eligible) -> str | None:
        """A kind for this row, or None; eligible(kind) says whether it fits the row."""
        unseen = self.unseen[file]
        for kind in unseen:
            if eligible(kind):
                unseen.remove(kind)
                return kind
        if self.rng.random() >= MESSY_SHARE:
            return None
        kinds = [k for k in KINDS[file] if eligible(k)]
        return _pick(self.rng, kinds) if kinds else None

    # Tolerated changes that only touch text; return the field changed, or None.
    def _spaces(self, row, fields, idx) -> str:
        f = _pick(self.rng, [f for f in fields if row[idx[f]]])
        row[idx[f]] = f"  {row[idx[f]]} "
        return f

    def sekolah(self, s: _Sekolah):
        rng = self.rng
        row = sekolah_row(s)
        out = [(row, False, [])]

        def eligible(kind):
            return True

        kind = self._choose("sekolah.csv", eligible)
        if kind is None:
            return out
        outcome = SEKOLAH_KINDS[kind]
        if kind == "spaces":
            f = self._spaces(row, ("nama", "bentuk_pendidikan", "status_sekolah"), _SD)
            out[0] = (row, False, [(kind, f, outcome)])
        elif kind == "capitals":
            f = _pick(rng, ("bentuk_pendidikan", "status_sekolah"))
            v = row[_SD[f]]
            row[_SD[f]] = v.lower() if f == "bentuk_pendidikan" or rng.random() < 0.5 else v.upper()
            out[0] = (row, False, [(kind, f, outcome)])
        elif kind == "quoted_comma":
            row[_SD["nama"]] += ", " + s.kab.nama_tempat.upper()
            out[0] = (row, True, [(kind, "nama", outcome)])
        elif kind == "quoted_linebreak":
            head, _, tail = row[_SD["nama"]].rpartition(" ")
            row[_SD["nama"]] = f"{head}\n{tail}"
            out[0] = (row, False, [(kind, "nama", outcome)])
        elif kind == "duplicate_row":
            out.append((list(row), False, [(kind, "sekolah_id", outcome)]))
        elif kind == "npsn_scientific":
            # A second, new school without students or staff: its rejection hides nobody.
            phantom = list(row)
            phantom[_SD["sekolah_id"]] = _uuid4(rng)
            self.phantoms += 1
            n = self.gen.npsn(self.gen.npsn.m - self.phantoms)
            phantom[_SD["npsn"]] = excel_number(str(10_000_000 + n))
            phantom[_SD["nama"]] = f"{row[_SD['nama']]} FILIAL"
            out.append((phantom, False, [(kind, "npsn", outcome)]))
        return out

    def peserta_didik(self, rows: list[list[str]]):
        file = "peserta_didik.csv"
        flaws: list[list] = [[] for _ in rows]
        taken = [False] * len(rows)
        extra = []
        for i, row in enumerate(rows):
            if taken[i]:
                continue
            partner = None

            def eligible(kind, row=row, i=i):
                nonlocal partner
                if kind in ("nisn_scientific", "nisn_shared"):
                    if not row[_PD["nisn"]]:
                        return False
                if kind == "nisn_leading_zero":
                    return row[_PD["nisn"]].startswith("0")
                if kind == "nik_scientific":
                    return bool(row[_PD["nik"]])
                if kind == "nisn_shared":
                    partner = next(
                        (j for j in range(i + 1, len(rows)) if not taken[j] and rows[j][1]),
                        None,
                    )
                    return partner is not None
                return True

            kind = self._choose(file, eligible)
            if kind is None:
                continue
            taken[i] = True
            outcome = PESERTA_DIDIK_KINDS[kind]
            field = self._peserta_didik_flaw(kind, row)
            if kind == "duplicate_row":
                extra.append((list(row), False, [(kind, field, outcome)]))
                continue
            if kind == "nisn_shared":
                taken[partner] = True
                rows[partner][_PD["nisn"]] = row[_PD["nisn"]]
                flaws[partner].append((kind, field, outcome))
            flaws[i].append((kind, field, outcome))
        return [
            (row, bool(f) and f[0][0] == "quoted_comma", f)
            for row, f in zip(rows, flaws, strict=True)
        ] + extra

    def _peserta_didik_flaw(self, kind: str, row: list[str]) -> str:
        rng = self.rng
        if kind == "spaces":
            return self._spaces(row, ("nama", "jenis_kelamin", "program", "rombel"), _PD)
        if kind == "capitals":
            f = _pick(rng, ("nama", "nama", "jenis_kelamin", "program"))
            v = row[_PD[f]]
            if f == "nama":
                row[_PD[f]] = v.upper() if rng.random() < 0.7 else v.lower()
            elif f == "jenis_kelamin":
                row[_PD[f]] = v.lower()
            else:
                row[_PD[f]] = v.upper() if rng.random() < 0.5 else v.title()
            return f
        if kind == "quoted_comma":
            row[_PD["tempat_lahir"]] += ", Indonesia"
            return "tempat_lahir"
        if kind == "quoted_linebreak":
            row[_PD["tempat_lahir"]] = "Kab.\n" + row[_PD["tempat_lahir"]]
            return "tempat_lahir"
        if kind in ("date_dmy_slash", "date_dmy_dash"):
            iso = row[_PD["tanggal_lahir"]]
            row[_PD["tanggal_lahir"]] = _dmy(iso, "/" if kind == "date_dmy_slash" else "-")
            return "tanggal_lahir"
        if kind == "cp1252_name":
            male = row[_PD["jenis_kelamin"]] == "L"
            first = _pick(
                rng,
                ("Ma’ruf", "Mu’min", "Syafi’i", "André")
                if male
                else ("Ni’mah", "Sa’adah", "Renée"),
            )
            rest = row[_PD["nama"]].split(" ", 1)
            row[_PD["nama"]] = f"{first} {rest[-1]}" if len(rest) > 1 else first
            return "nama"
        if kind == "nisn_scientific":
            row[_PD["nisn"]] = excel_number(row[_PD["nisn"]])
            return "nisn"
        if kind == "nisn_leading_zero":
            row[_PD["nisn"]] = str(int(row[_PD["nisn"]]))
            return "nisn"
        if kind == "nik_scientific":
            row[_PD["nik"]] = excel_number(row[_PD["nik"]])
            return "nik"
        if kind == "impossible_date":
            year = row[_PD["tanggal_lahir"]][:4]
            row[_PD["tanggal_lahir"]] = f"{_pick(rng, ('30', '31'))}/02/{year}"
            return "tanggal_lahir"
        if kind == "grade_out_of_range":
            row[_PD["tingkat_pendidikan"]] = _pick(rng, ("0", "14", "15"))
            return "tingkat_pendidikan"
        if kind == "unknown_school":
            row[_PD["sekolah_id"]] = _uuid4(rng)
            return "sekolah_id"
        if kind == "duplicate_row":
            return "peserta_didik_id"
        if kind == "nisn_shared":
            return "nisn"
        raise AssertionError(kind)

    def ptk(self, rows: list[list[str]]):
        file = "ptk.csv"
        ids = Counter(r[_PT["ptk_id"]] for r in rows)
        flaws: list[list] = [[] for _ in rows]
        extra = []
        for i, row in enumerate(rows):
            # People with two assignments (or who may get one) stay clean; heads and
            # operators get only flaws a reader tolerates (the school keeps them).
            pid = row[_PT["ptk_id"]]
            if ids[pid] > 1 or row[_PT["ptk_induk"]] == "0" or pid in self.gen.pooled:
                continue
            key_role = (
                row[_PT["jenis_ptk"]] == "Kepala Sekolah" or row[_PT["operator_sekolah"]] == "1"
            )

            def eligible(kind, row=row, key_role=key_role):
                if key_role and PTK_KINDS[kind] == REJECTED:
                    return False
                if kind == "nuptk_scientific":
                    return bool(row[_PT["nuptk"]])
                if kind == "nip_scientific":
                    return bool(row[_PT["nip"]])
                if kind == "titles_in_nama":
                    return bool(row[_PT["gelar_depan"]] or row[_PT["gelar_belakang"]])
                if kind == "quoted_linebreak":
                    return " " in row[_PT["nama"]]
                return True

            kind = self._choose(file, eligible)
            if kind is None:
                continue
            outcome = PTK_KINDS[kind]
            field = self._ptk_flaw(kind, row)
            if kind == "duplicate_row":
                extra.append((list(row), False, [(kind, field, outcome)]))
            else:
                flaws[i].append((kind, field, outcome))
        return [(row, False, f) for row, f in zip(rows, flaws, strict=True)] + extra

    def _ptk_flaw(self, kind: str, row: list[str]) -> str:
        rng = self.rng
        if kind == "spaces":
            return self._spaces(row, ("nama", "jenis_kelamin", "jenis_ptk", "email"), _PT)
        if kind == "capitals":
            f = _pick(rng, ("nama", "jenis_kelamin", "jenis_ptk"))
            v = row[_PT[f]]
            row[_PT[f]] = v.lower() if f == "jenis_kelamin" or rng.random() < 0.5 else v.upper()
            return f
        if kind == "quoted_linebreak":
            row[_PT["nama"]] = row[_PT["nama"]].replace(" ", "\n", 1)
            return "nama"
        if kind == "titles_in_nama":
            depan, belakang = row[_PT["gelar_depan"]], row[_PT["gelar_belakang"]]
            nama = f"{depan} {row[_PT['nama']]}".strip()
            row[_PT["nama"]] = f"{nama}, {belakang}" if belakang else nama
            row[_PT["gelar_depan"]] = row[_PT["gelar_belakang"]] = ""
            return "nama"
        if kind in ("date_dmy_slash", "date_dmy_dash"):
            iso = row[_PT["tanggal_lahir"]]
            row[_PT["tanggal_lahir"]] = _dmy(iso, "/" if kind == "date_dmy_slash" else "-")
            return "tanggal_lahir"
        if kind in ("nik_scientific", "nuptk_scientific", "nip_scientific"):
            f = kind.split("_")[0]
            row[_PT[f]] = excel_number(row[_PT[f]])
            return f
        if kind == "impossible_date":
            year = row[_PT["tanggal_lahir"]][:4]
            row[_PT["tanggal_lahir"]] = f"31/02/{year}"
            return "tanggal_lahir"
        if kind == "unknown_school":
            row[_PT["sekolah_id"]] = _uuid4(rng)
            return "sekolah_id"
        if kind == "duplicate_row":
            return "ptk_id"
        raise AssertionError(kind)
