"""The next school year of a synthetic snapshot: `akun roster generate --rollover-from DIR
--out DIR2 [--seed N]`.

From a clean snapshot (as `akun roster generate` writes it), July's changes at once:
- every student one grade up, in the class of the same letter or name;
- graduates leave: grade 12 (SMA, SMK, Paket C, SLB's last), 13 (4-year SMK), and 6 / 9 at
  the forms that end there without a next level here (SDLB, SMPLB, Paket A/B);
- grade 6 of an SD moves to an SMP of its regency (province if the regency has none), grade
  9 of an SMP to an SMA (70%) or SMK of its regency: the same peserta_didik_id (Dapodik's is
  stable across schools) at a new school and level -- a new account by Akun's rules, the old
  one on the deletion path;
- a new grade-1 cohort at every SD, as many as its grade 1 had, born in a year no one in
  the source was (their NISNs and NIKs cannot collide); grade 5 becomes eligible;
- ~0.4% of the other students drop out; ~2% of PTK assignments end (retirement), ~1% more
  PTK join a school of the same regency.
Streams the students (two passes over peserta_didik.csv); state is per school, not per person.
Deterministic per seed and source."""

import csv
from collections import Counter, defaultdict
from pathlib import Path
from random import Random

from akun.roster.api import COLUMNS, PESERTA_DIDIK_COLUMNS, PTK_COLUMNS, SEKOLAH_COLUMNS
from akun.synthetic import names
from akun.synthetic.generate import ROMAWI, _Generator, _Out, _Sekolah, _uuid4
from akun.synthetic.wilayah import kabupaten_kota

PD = {c: i for i, c in enumerate(PESERTA_DIDIK_COLUMNS)}
PT = {c: i for i, c in enumerate(PTK_COLUMNS)}
SK = {c: i for i, c in enumerate(SEKOLAH_COLUMNS)}
LAST_GRADE = {"SD": 6, "SMP": 9, "SMA": 12, "SMK": 12, "SDLB": 6, "SMPLB": 9, "SMALB": 12,
              "SLB": 12}  # fmt: skip
PAKET_LAST = {"paket_a": 6, "paket_b": 9, "paket_c": 12}
DROPOUT = 0.004
PTK_LEAVE = 0.02
PTK_JOIN = 0.01
CLEAN = ("utf-8", ",")


def _rows(path: Path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        yield from reader


def _rombel(form: str, grade: int, old: str, old_grade: int) -> str:
    """The class a year on: the same letter / stream / jurusan, the new grade's name."""
    if form == "SD":
        return f"{grade}{old[len(str(old_grade)) :] or 'A'}"
    if old_grade in ROMAWI and grade in ROMAWI and old.startswith(ROMAWI[old_grade] + " "):
        return ROMAWI[grade] + old[len(ROMAWI[old_grade]) :]
    return old.replace(str(old_grade), str(grade), 1) if old else ""


def _jurusan(rombel: str) -> str:
    """The jurusan of an SMK class ("XII TKJ 1" -> "TKJ")."""
    parts = rombel.split(" ")
    return parts[1] if len(parts) > 2 else ""


def generate_rollover(source: Path, out_dir: Path, *, seed: int = 1) -> dict[str, int]:
    source, out_dir = Path(source), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = Random(f"rollover-{seed}")
    schools: dict[str, list[str]] = {}
    by_region: dict[tuple[str, str], list[str]] = defaultdict(list)  # (kode4|kode2, form)
    for row in _rows(source / "sekolah.csv"):
        schools[row[SK["sekolah_id"]]] = row
        form, kode = row[SK["bentuk_pendidikan"]], row[SK["kode_wilayah"]]
        by_region[(kode[:4], form)].append(row[SK["sekolah_id"]])
        by_region[(kode[:2], form)].append(row[SK["sekolah_id"]])
    # Pass 1: grade-1 sizes of each SD, SMK jurusan with a grade 13, the oldest birth year.
    grade1: Counter[str] = Counter()
    four_year: set[tuple[str, str]] = set()
    youngest = 0
    for row in _rows(source / "peserta_didik.csv"):
        g, sid = int(row[PD["tingkat_pendidikan"]]), row[PD["sekolah_id"]]
        if g == 1:
            grade1[sid] += 1
        elif g == 13:
            four_year.add((sid, _jurusan(row[PD["rombel"]])))
        youngest = max(youngest, int(row[PD["tanggal_lahir"]][:4]))
    # The new school year; its grade 1 is born a year after the source's youngest.
    year = youngest + 7
    gen = _Generator(Random(f"rollover-gen-{seed}"), year)
    kab = {k.kode: k for k in kabupaten_kota()}

    def pick(kode: str, forms: tuple[str, ...]) -> str | None:
        for key in (kode[:4], kode[:2]):
            pool = [s for f in forms for s in by_region.get((key, f), ())]
            if pool:
                return pool[int(rng.random() * len(pool))]
        return None

    outs = {name: _Out(out_dir, name, CLEAN, None) for name in COLUMNS}
    moved = Counter()
    try:
        outs["sekolah.csv"].write_clean(list(schools.values()))
        buf: list[list[str]] = []
        for row in _rows(source / "peserta_didik.csv"):
            g, sid = int(row[PD["tingkat_pendidikan"]]), row[PD["sekolah_id"]]
            form = schools[sid][SK["bentuk_pendidikan"]] if sid in schools else ""
            program = row[PD["program"]]
            last = PAKET_LAST.get(program) if program != "reguler" else LAST_GRADE.get(form, 13)
            rombel = row[PD["rombel"]]
            if form == "SD" and g == 6 or form == "SMP" and g == 9:
                to_forms = ("SMP",) if form == "SD" else (
                    ("SMA",) if rng.random() < 0.7 else ("SMK",))  # fmt: skip
                to = pick(schools[sid][SK["kode_wilayah"]], to_forms)
                if to is None and form == "SMP":
                    to = pick(schools[sid][SK["kode_wilayah"]], ("SMA", "SMK"))
                if to is None:
                    moved["graduated"] += 1
                    continue
                g += 1
                row[PD["sekolah_id"]], row[PD["tingkat_pendidikan"]] = to, str(g)
                row[PD["rombel"]] = f"{ROMAWI[g]} {chr(65 + int(rng.random() * 3))}"
                moved["level_change"] += 1
            elif form == "SMK" and g == 12 and (sid, _jurusan(rombel)) in four_year:
                row[PD["tingkat_pendidikan"]] = "13"
                row[PD["rombel"]] = _rombel(form, 13, rombel, 12)
            elif g >= (last or 13):
                moved["graduated"] += 1
                continue
            elif rng.random() < DROPOUT:
                moved["dropped_out"] += 1
                continue
            else:
                row[PD["tingkat_pendidikan"]] = str(g + 1)
                row[PD["rombel"]] = _rombel(form, g + 1, rombel, g)
                moved["grade_up"] += 1
            buf.append(row)
            if len(buf) >= 10_000:
                outs["peserta_didik.csv"].write_clean(buf)
                buf = []
        # The new grade-1 cohort.
        for sid, n in sorted(grade1.items()):
            if schools[sid][SK["bentuk_pendidikan"]] != "SD":
                continue
            s = schools[sid]
            k = kab.get(s[SK["kode_wilayah"]][:4])
            prov = s[SK["kode_wilayah"]][:2]
            born = year - 6
            iso, ddmmyy_l, ddmmyy_p = gen.days(born)
            for _ in range(n):
                male = rng.random() < 0.51
                d = int(rng.random() * len(iso))
                buf.append([
                    _uuid4(rng), gen.new_nisn(born),
                    gen.new_nik(s[SK["kode_wilayah"]], (ddmmyy_l if male else ddmmyy_p)[d]),
                    names.nama_orang(rng, prov, male, adult=False), "L" if male else "P",
                    k.nama_tempat if k else "Jakarta", iso[d], sid, "1", "reguler", "1A",
                ])  # fmt: skip
                moved["new_cohort"] += 1
        outs["peserta_didik.csv"].write_clean(buf)
        # PTK: retirements, and new teachers at schools of the same regency.
        buf = []
        for row in _rows(source / "ptk.csv"):
            if row[PT["jenis_ptk"]] != "Kepala Sekolah" and rng.random() < PTK_LEAVE:
                moved["ptk_left"] += 1
                continue
            buf.append(row)
            if rng.random() < PTK_JOIN:
                s = schools.get(row[PT["sekolah_id"]])
                k = kab.get(s[SK["kode_wilayah"]][:4]) if s else None
                if s and k:
                    school = _Sekolah(s[SK["sekolah_id"]], s[SK["npsn"]], s[SK["nama"]],
                                      s[SK["bentuk_pendidikan"]], s[SK["status_sekolah"]] ==
                                      "Negeri", s[SK["kode_wilayah"]], k)  # fmt: skip
                    jenis = "Guru Kelas" if school.bentuk == "SD" else "Guru Mapel"
                    person = gen.person(school, jenis, pns_share=0.0, teacher=True)
                    buf.append(person + [school.sekolah_id, jenis, "1", "0"])
                    moved["ptk_joined"] += 1
        outs["ptk.csv"].write_clean(buf)
    finally:
        for o in outs.values():
            o.close()
    return {**{name: o.rows for name, o in outs.items()}, **dict(sorted(moved.items()))}
