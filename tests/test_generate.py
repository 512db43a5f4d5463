"""The synthetic Dapodik snapshot generator (`akun roster generate`)."""

import csv
import datetime as dt
import hashlib
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from random import Random

import pytest

from akun.core import clock
from akun.roster.vocab import JENIS_PTK, PROVINSI, SCHOOL_FORMS
from akun.synthetic.generate import (
    COLUMNS,
    KINDS,
    MANIFEST,
    NATIONAL_SCHOOLS,
    PAUD,
    _Bijection,
    _Generator,
    form_counts,
    generate_snapshot,
)
from akun.synthetic.wilayah import kabupaten_kota

YEAR = 2026
FILES = tuple(COLUMNS)
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
KABUPATEN = {k.kode: k for k in kabupaten_kota()}
TEACHING = {"Guru Kelas", "Guru Mapel", "Guru BK", "Guru TIK", "Guru Inklusi", "Guru Pendamping"}
TEACHING |= {"Guru Pendamping Khusus", "Tutor", "Instruktur"}
GRADES = {
    "SD": {("reguler", g) for g in range(1, 7)},
    "SMP": {("reguler", g) for g in (7, 8, 9)},
    "SMA": {("reguler", g) for g in (10, 11, 12)},
    "SMK": {("reguler", g) for g in (10, 11, 12, 13)},
    "SLB": {("reguler", g) for g in range(1, 13)},
    "SDLB": {("reguler", g) for g in range(1, 7)},
    "SMPLB": {("reguler", g) for g in (7, 8, 9)},
    "SMALB": {("reguler", g) for g in (10, 11, 12)},
}
GRADES["PKBM"] = GRADES["SKB"] = {
    (p, g) for p, gs in (("paket_a", (4, 5, 6)), ("paket_b", (7, 8, 9)), ("paket_c", (10, 11, 12)))
    for g in gs
}  # fmt: skip


def records(path: Path, encoding: str = "utf-8", delimiter: str = ","):
    """(physical line where the record starts, record) for every data record."""
    with open(path, encoding=encoding, newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        header = next(reader)
        assert tuple(header) == COLUMNS[path.name]
        start = reader.line_num + 1
        for rec in reader:
            yield start, rec
            start = reader.line_num + 1


def dicts(path: Path, **kw) -> list[dict[str, str]]:
    cols = COLUMNS[path.name]
    return [dict(zip(cols, rec, strict=True)) for _, rec in records(path, **kw)]


def digest(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())}


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    counts = generate_snapshot(out, scale=0.001, seed=11, messy=False, year=YEAR)
    return out, counts


@pytest.fixture(scope="module")
def snapshot(clean):
    out, _ = clean
    sekolah = {r["sekolah_id"]: r for r in dicts(out / "sekolah.csv")}
    return sekolah, dicts(out / "peserta_didik.csv"), dicts(out / "ptk.csv")


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    out = tmp_path_factory.mktemp("messy")
    counts = generate_snapshot(out, scale=0.001, seed=11, messy=True, year=YEAR)
    return out, counts


# -- determinism and scale ---------------------------------------------------------------------


def test_same_seed_and_scale_give_identical_files(tmp_path, clean):
    out, _ = clean
    again = tmp_path / "again"
    generate_snapshot(again, scale=0.001, seed=11, messy=False, year=YEAR)
    assert digest(again) == digest(out)


def test_messy_output_is_deterministic_too(tmp_path, messy):
    out, _ = messy
    generate_snapshot(tmp_path, scale=0.001, seed=11, messy=True, year=YEAR)
    assert digest(tmp_path) == digest(out)


def test_another_seed_gives_another_snapshot(tmp_path, clean):
    out, _ = clean
    generate_snapshot(tmp_path, scale=0.001, seed=12, messy=False, year=YEAR)
    theirs, ours = digest(tmp_path), digest(out)
    assert all(theirs[name] != ours[name] for name in FILES)


def test_clean_and_messy_share_the_same_people(clean, messy):
    """Messy differs only by its flaws: the same seed gives the same schools and people."""
    ids_clean = {r[0] for _, r in records(clean[0] / "peserta_didik.csv")}
    ids_messy = {
        r[0] for _, r in records(messy[0] / "peserta_didik.csv", encoding="cp1252", delimiter=";")
    }
    assert ids_clean == ids_messy


def test_returned_counts_are_the_rows_written(clean):
    out, counts = clean
    assert set(counts) == set(FILES)
    for name in FILES:
        assert counts[name] == sum(1 for _ in records(out / name))


def test_scale_sets_the_size_of_the_country(tmp_path, clean):
    _, small = clean
    # ~220 schools, ~27k students, ~3k PTK rows at 0.001 (the country at 1.0)
    assert 200 <= small["sekolah.csv"] <= 250
    assert 23_000 <= small["peserta_didik.csv"] <= 31_000
    assert 2_600 <= small["ptk.csv"] <= 3_700
    bigger = generate_snapshot(tmp_path, scale=0.004, seed=11, messy=False, year=YEAR)
    for name in FILES:
        assert 3.3 <= bigger[name] / small[name] <= 4.6, name
    national = form_counts(1.0)
    assert 215_000 <= sum(national.values()) <= 225_000
    assert national == NATIONAL_SCHOOLS


def test_every_form_appears_even_at_tiny_scale(tmp_path):
    counts = generate_snapshot(tmp_path, scale=0.00001, seed=3, messy=False, year=YEAR)
    forms = Counter(r["bentuk_pendidikan"] for r in dicts(tmp_path / "sekolah.csv"))
    assert set(forms) == set(NATIONAL_SCHOOLS)
    assert counts["sekolah.csv"] == len(NATIONAL_SCHOOLS)


def test_national_mix_of_forms_and_provinces(snapshot):
    sekolah, _, _ = snapshot
    forms = Counter(r["bentuk_pendidikan"] for r in sekolah.values())
    assert forms["SD"] > forms["SMP"] > forms["SMA"] and forms["SMP"] > forms["SMK"]
    assert forms["SD"] > len(sekolah) / 2
    provinces = Counter(r["kode_wilayah"][:2] for r in sekolah.values())
    big_three = [p for p, _ in provinces.most_common(3)]
    assert set(big_three) == {"32", "33", "35"}


def test_school_year_follows_the_clock(tmp_path):
    clock.freeze(dt.datetime(2031, 8, 1, tzinfo=dt.UTC))
    generate_snapshot(tmp_path, scale=0.0001, seed=5, messy=False)
    sd = {
        r["sekolah_id"] for r in dicts(tmp_path / "sekolah.csv") if r["bentuk_pendidikan"] == "SD"
    }
    born = [
        int(r["tanggal_lahir"][:4])
        for r in dicts(tmp_path / "peserta_didik.csv")
        if r["tingkat_pendidikan"] == "1" and r["sekolah_id"] in sd
    ]
    assert born and all(2022 <= y <= 2025 for y in born)  # 6-9 years old in July 2031


# -- identifiers at national scale ------------------------------------------------------------


def test_regions_cover_every_province():
    regions = kabupaten_kota()
    per_province = Counter(k.kode_provinsi for k in regions)
    assert set(per_province) == set(PROVINSI)  # all 38
    assert min(per_province.values()) >= 3
    assert per_province["32"] >= 25 and per_province["33"] >= 30 and per_province["35"] >= 35
    assert KABUPATEN["3204"].nama == "Kab. Bandung" and KABUPATEN["3273"].nama == "Kota Bandung"
    assert KABUPATEN["3204"].provinsi == "Prov. Jawa Barat"
    assert abs(sum(k.weight for k in regions) - 1) < 1e-9
    top = sorted(
        per_province, key=lambda p: -sum(k.weight for k in regions if k.kode_provinsi == p)
    )
    assert set(top[:3]) == {"32", "33", "35"}


def test_bijections_never_repeat():
    rng = Random(1)
    for m in (1000, 9 * 10**3, 10**4):
        f = _Bijection(rng, m)
        assert len({f(i) for i in range(m)}) == m
    with pytest.raises(ValueError):
        f(m)


def test_nik_stays_unique_past_9999_people_in_one_kecamatan():
    gen = _Generator(Random(1), YEAR)
    niks = [gen.new_nik("320401", "010112") for _ in range(25_000)]
    assert len(set(niks)) == len(niks)
    assert all(re.fullmatch(r"\d{16}", n) and n[6:12] == "010112" for n in niks)
    assert niks[0] == "3204010101120001"
    overflow = {n[:6] for n in niks[9999:]}
    assert overflow == {"320431", "320432"}  # kecamatan numbers no school uses


def test_nip_stays_unique_when_one_appointment_year_is_full():
    gen = _Generator(Random(1), YEAR)
    per_year = 999 * 12  # 3-digit sequence in each of 12 months
    nips = [gen.new_nip("1980-05-17", True, YEAR - 1) for _ in range(per_year + 500)]
    assert len(set(nips)) == len(nips)
    assert all(n.startswith("19800517") and n[14] == "1" and n[15:] != "000" for n in nips)
    per_month = Counter(n[8:14] for n in nips)
    assert max(per_month.values()) == 999
    assert {n[8:12] for n in nips} == {str(YEAR - 1), str(YEAR)}
    for _ in range(per_year - 500):
        gen.new_nip("1980-05-17", True, YEAR - 1)
    with pytest.raises(ValueError):  # both years full: an error, never a duplicate
        gen.new_nip("1980-05-17", True, YEAR - 1)


# -- a clean snapshot: every field valid -----------------------------------------------------


def test_clean_files_are_utf8_comma_without_bom(clean):
    out, _ = clean
    for name in FILES:
        data = (out / name).read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")
        data.decode("utf-8")
        assert data.split(b"\r\n", 1)[0].decode() == ",".join(COLUMNS[name])
    assert not (out / MANIFEST).exists()


def _valid_date(s: str) -> dt.date:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", s), s
    return dt.date.fromisoformat(s)


def _nik_matches(nik: str, born: dt.date, jk: str) -> bool:
    day = born.day + (40 if jk == "P" else 0)
    return nik[6:12] == f"{day:02d}{born.month:02d}{born.year % 100:02d}" and nik[12:] != "0000"


def test_sekolah_fields(snapshot):
    sekolah, _, _ = snapshot
    npsn = Counter()
    for r in sekolah.values():
        assert UUID4.match(r["sekolah_id"])
        assert re.fullmatch(r"[1-9]\d{7}", r["npsn"])
        npsn[r["npsn"]] += 1
        assert r["nama"] and r["nama"] == r["nama"].strip()
        assert r["bentuk_pendidikan"] in SCHOOL_FORMS
        assert r["status_sekolah"] in ("Negeri", "Swasta")
        kode = r["kode_wilayah"]
        assert re.fullmatch(r"\d{6}", kode) and 1 <= int(kode[4:]) <= 30
        kab = KABUPATEN[kode[:4]]
        assert r["kabupaten_kota"] == kab.nama
        assert r["kabupaten_kota"].startswith(("Kab. ", "Kota "))
        assert r["provinsi"] == f"Prov. {PROVINSI[kode[:2]]}"
    assert max(npsn.values()) == 1


def test_peserta_didik_fields(snapshot):
    sekolah, students, _ = snapshot
    nisn, nik, ids = Counter(), Counter(), Counter()
    for r in students:
        ids[r["peserta_didik_id"]] += 1
        assert UUID4.match(r["peserta_didik_id"])
        born = _valid_date(r["tanggal_lahir"])
        assert r["jenis_kelamin"] in ("L", "P")
        if r["nisn"]:
            assert re.fullmatch(r"\d{10}", r["nisn"])
            assert r["nisn"][:3] == f"{born.year % 1000:03d}"  # NISN starts with the birth year
            nisn[r["nisn"]] += 1
        if r["nik"]:
            assert re.fullmatch(r"\d{16}", r["nik"])
            assert r["nik"][:2] in PROVINSI and r["nik"][:4] in KABUPATEN
            assert _nik_matches(r["nik"], born, r["jenis_kelamin"])
            nik[r["nik"]] += 1
        assert r["nama"] and r["nama"] == r["nama"].strip() and "  " not in r["nama"]
        assert r["tempat_lahir"]
        s = sekolah[r["sekolah_id"]]
        assert (r["program"], int(r["tingkat_pendidikan"])) in GRADES[s["bentuk_pendidikan"]]
        assert r["rombel"]
        age = YEAR - born.year
        if r["program"] == "reguler" and s["bentuk_pendidikan"] in ("SD", "SMP", "SMA", "SMK"):
            assert 5 <= age - int(r["tingkat_pendidikan"]) <= 9
    assert max(ids.values()) == 1 and max(nisn.values()) == 1 and max(nik.values()) == 1
    # NISNs often start with 0 (born 2000 or later); some students have none
    assert sum(n.startswith("0") for n in nisn) > len(nisn) / 2
    assert 0 < len(students) - len(nisn) < len(students) * 0.05
    single = sum(" " not in r["nama"] for r in students)
    assert single > len(students) * 0.03  # one-word names are common
    first = Counter(r["nama"].split()[0] for r in students)
    assert first.most_common(1)[0][1] > len(students) * 0.02  # and first names collide


def test_peserta_didik_rombel_names(snapshot):
    sekolah, students, _ = snapshot
    by_form = defaultdict(set)
    for r in students:
        by_form[sekolah[r["sekolah_id"]]["bentuk_pendidikan"]].add(r["rombel"])
    assert "5A" in by_form["SD"]
    assert any(re.fullmatch(r"X IPA \d", x) for x in by_form["SMA"])
    assert any(re.fullmatch(r"XI [A-Z]+ \d", x) for x in by_form["SMK"])
    assert all(sekolah_form not in by_form for sekolah_form in PAUD)  # no children as students


def test_ptk_fields(snapshot):
    sekolah, _, staff = snapshot
    person_nik = {}
    nuptk, nip = {}, {}
    for r in staff:
        assert UUID4.match(r["ptk_id"])
        born = _valid_date(r["tanggal_lahir"])
        assert 20 <= YEAR - born.year <= 61
        assert r["jenis_kelamin"] in ("L", "P")
        assert re.fullmatch(r"\d{16}", r["nik"]) and _nik_matches(
            r["nik"], born, r["jenis_kelamin"]
        )
        assert person_nik.setdefault(r["nik"], r["ptk_id"]) == r["ptk_id"]  # NIK is per person
        if r["nuptk"]:
            assert re.fullmatch(r"[1-9]\d{15}", r["nuptk"])
            assert nuptk.setdefault(r["nuptk"], r["ptk_id"]) == r["ptk_id"]
        if r["nip"]:
            assert re.fullmatch(r"\d{18}", r["nip"])
            assert nip.setdefault(r["nip"], r["ptk_id"]) == r["ptk_id"]
            assert r["nip"][:8] == born.strftime("%Y%m%d")
            tmt = dt.date(int(r["nip"][8:12]), int(r["nip"][12:14]), 1)
            assert born.year + 23 <= tmt.year <= YEAR
            assert r["nip"][14] == ("1" if r["jenis_kelamin"] == "L" else "2")
            assert r["nip"][15:] != "000"
            assert sekolah[r["sekolah_id"]]["status_sekolah"] == "Negeri"
        assert r["nama"] and not re.search(r"\b(S\.Pd|Drs|M\.Pd)\b", r["nama"])
        assert r["gelar_depan"] in ("",) or re.fullmatch(
            r"[A-Za-z.]+( [A-Za-z.]+)?", r["gelar_depan"]
        )
        assert re.fullmatch(r"([A-Za-z.]+\.(, [A-Za-z.]+\.)?)?", r["gelar_belakang"])
        assert re.fullmatch(r"([a-z0-9.]+@[a-z0-9.]+\.[a-z]{2,})?", r["email"])
        assert re.fullmatch(r"(08\d{8,11})?", r["no_hp"])
        assert r["sekolah_id"] in sekolah
        assert r["jenis_ptk"] in JENIS_PTK
        assert r["ptk_induk"] in ("0", "1") and r["operator_sekolah"] in ("0", "1")
    emails = [r["email"] for r in staff]
    assert any(e.endswith("@gmail.com") for e in emails)
    assert any(e.endswith(".belajar.id") for e in emails)
    assert 0.2 < emails.count("") / len(emails) < 0.7
    assert any(r["gelar_belakang"] == "S.Pd., M.Pd." for r in staff)
    assert {"Drs.", "Dra."} & {r["gelar_depan"] for r in staff}
    assert any(r["nip"] for r in staff) and any(r["nuptk"] == "" for r in staff)


def test_names_from_all_over_the_archipelago(snapshot):
    _, students, staff = snapshot
    nama = [r["nama"] for r in students + staff]
    assert any(
        n.startswith(("I Made", "I Wayan", "Ni Luh", "Ni Made", "I Gusti", "Ida ")) for n in nama
    )
    assert any("'" in n for n in nama)
    assert any("-" in n for n in nama)
    batak = ("Siregar", "Nasution", "Harahap", "Simanjuntak", "Sinaga", "Lubis", "Ginting")
    assert any(n.split()[-1] in batak for n in nama)
    jawa = {"Sukarno", "Wagiman", "Sumarni", "Suparman", "Sutrisno", "Slamet", "Parmi"}
    assert any(n in jawa for n in nama)  # a whole name of one word
    for n in nama:
        n.encode("cp1252")  # every name survives a Windows-1252 export


# -- the shapes eligibility depends on ------------------------------------------------------


def test_every_school_has_a_head_and_an_operator(snapshot):
    sekolah, _, staff = snapshot
    kepala, operators = Counter(), Counter()
    for r in staff:
        kepala[r["sekolah_id"]] += r["jenis_ptk"] == "Kepala Sekolah"
        operators[r["sekolah_id"]] += r["operator_sekolah"] == "1"
    assert all(kepala[s] == 1 for s in sekolah)
    assert all(operators[s] >= 1 for s in sekolah)
    assert any(operators[s] == 2 for s in sekolah)
    roles = Counter(r["jenis_ptk"] for r in staff if r["operator_sekolah"] == "1")
    assert roles["Tenaga Administrasi Sekolah"] > 0 and sum(roles[j] for j in TEACHING) > 0


def test_kinds_of_staff_per_form(snapshot):
    sekolah, _, staff = snapshot
    kinds = defaultdict(set)
    for r in staff:
        kinds[sekolah[r["sekolah_id"]]["bentuk_pendidikan"]].add(r["jenis_ptk"])
    assert {"Guru Kelas", "Guru Mapel"} <= kinds["SD"]
    assert {"Guru Mapel", "Guru BK", "Tenaga Perpustakaan", "Laboran"} <= kinds["SMP"]
    assert "Guru Pendamping Khusus" in kinds["SLB"]
    assert "Tutor" in kinds["PKBM"]
    assert {"Tenaga Administrasi Sekolah", "Penjaga Sekolah"} <= kinds["SD"] | kinds["SMP"]


def test_teachers_at_two_schools(snapshot):
    sekolah, _, staff = snapshot
    rows = defaultdict(list)
    for r in staff:
        rows[r["ptk_id"]].append(r)
    multi = {pid: rs for pid, rs in rows.items() if len(rs) > 1}
    assert len(multi) >= 5
    two_levels = 0
    for rs in multi.values():
        assert sum(r["ptk_induk"] == "1" for r in rs) == 1
        assert len({r["sekolah_id"] for r in rs}) == len(rs)
        person = {(r["nuptk"], r["nik"], r["nama"], r["tanggal_lahir"]) for r in rs}
        assert len(person) == 1
        assert all(r["jenis_ptk"] in TEACHING for r in rs)
        forms = {sekolah[r["sekolah_id"]]["bentuk_pendidikan"] for r in rs}
        two_levels += len(forms) > 1
    assert two_levels >= 1
    assert all(r["ptk_induk"] == "1" for pid, rs in rows.items() if len(rs) == 1 for r in rs)


# -- messy ------------------------------------------------------------------------------------


FORMAT = {
    "sekolah.csv": ("utf-8-sig", ";"),
    "peserta_didik.csv": ("cp1252", ";"),
    "ptk.csv": ("utf-8", ","),
}


def test_messy_encodings_and_delimiters(messy):
    out, _ = messy
    sekolah = (out / "sekolah.csv").read_bytes()
    assert sekolah.startswith(b"\xef\xbb\xbfsekolah_id;npsn;")
    sekolah.decode("utf-8-sig")
    pd = (out / "peserta_didik.csv").read_bytes()
    assert pd.startswith(b"peserta_didik_id;nisn;")
    with pytest.raises(UnicodeDecodeError):
        pd.decode("utf-8")  # Windows-1252, with characters that differ from UTF-8
    text = pd.decode("cp1252")
    assert "\u2019" in text or "é" in text
    ptk = (out / "ptk.csv").read_bytes()
    assert ptk.startswith(b"ptk_id,nuptk,") and not ptk.startswith(b"\xef\xbb\xbf")
    ptk.decode("utf-8")


def test_messy_share_is_small_and_every_kind_is_there(messy):
    out, counts = messy
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    for name in FILES:
        kinds = Counter(e["kind"] for e in manifest if e["file"] == name and e["line"] > 1)
        assert set(kinds) == set(KINDS[name]), name
    rows = [e for e in manifest if e["file"] == "peserta_didik.csv" and e["line"] > 1]
    assert 0.005 < len(rows) / counts["peserta_didik.csv"] < 0.03
    lines = Counter((e["file"], e["line"]) for e in manifest if e["line"] > 1)
    assert max(lines.values()) == 1  # never two flaws in one row
    assert {e["outcome"] for e in manifest} == {"tolerated", "rejected"}
    assert all(set(e) == {"file", "line", "kind", "field", "outcome"} for e in manifest)


SCIENTIFIC = re.compile(r"\d\.\d+E\+\d+")
DMY = re.compile(r"(\d{2})[/-](\d{2})[/-](\d{4})")


def _shows(kind: str, field: str, rec: dict, raw: str, earlier: list[dict], schools) -> bool:
    """Whether this record shows the flaw the manifest names."""
    v = rec.get(field, "")
    if kind == "spaces":
        return v != v.strip() and v.strip() != ""
    if kind == "capitals":
        return v != v.strip() or v.isupper() or v.islower() or v.istitle()
    if kind == "quoted_comma":
        return "," in v and f'"{v}"' in raw
    if kind == "quoted_linebreak":
        return "\n" in v
    if kind == "date_dmy_slash":
        return re.fullmatch(r"\d{2}/\d{2}/\d{4}", v) is not None
    if kind == "date_dmy_dash":
        return re.fullmatch(r"\d{2}-\d{2}-\d{4}", v) is not None
    if kind == "cp1252_name":
        return any(c in v for c in "\u2019é")
    if kind.endswith("_scientific"):
        return SCIENTIFIC.fullmatch(v) is not None
    if kind == "nisn_leading_zero":
        return re.fullmatch(r"[1-9]\d{0,8}", v) is not None
    if kind == "impossible_date":
        d, m, y = DMY.fullmatch(v).groups()
        with pytest.raises(ValueError):
            dt.date(int(y), int(m), int(d))
        return True
    if kind == "grade_out_of_range":
        return not 1 <= int(v) <= 13
    if kind == "unknown_school":
        return v not in schools
    if kind == "duplicate_row":
        return rec in earlier
    if kind == "nisn_shared":
        return True  # checked across both rows below
    if kind == "titles_in_nama":
        return re.search(r"(Drs?a?\.|Dr\.|Ir\.|H\.|Hj\.|, [A-Z][A-Za-z.]*\.)", v) is not None
    raise AssertionError(kind)


def test_manifest_lines_point_at_the_flawed_records(messy):
    out, _ = messy
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    schools = {
        r["sekolah_id"] for r in dicts(out / "sekolah.csv", encoding="utf-8-sig", delimiter=";")
    }
    for name in FILES:
        encoding, delimiter = FORMAT[name]
        lines = (out / name).read_text(encoding=encoding).split("\n")
        by_line, ordered = {}, []
        for line, rec in records(out / name, encoding=encoding, delimiter=delimiter):
            by_line[line] = dict(zip(COLUMNS[name], rec, strict=True))
            ordered.append(line)
        position = {line: i for i, line in enumerate(ordered)}
        shared = defaultdict(set)
        for e in (e for e in manifest if e["file"] == name and e["line"] > 1):
            assert e["line"] in by_line, e  # the line starts a record
            rec = by_line[e["line"]]
            earlier = [by_line[x] for x in ordered[: position[e["line"]]]]
            raw = lines[e["line"] - 1]
            assert _shows(e["kind"], e["field"], rec, raw, earlier, schools), (e, rec)
            if e["kind"] == "nisn_shared":
                shared[rec["nisn"]].add(rec["peserta_didik_id"])
        assert all(len(ids) == 2 for ids in shared.values())


# A reference tolerant reader: what the importer must do with each record.

ENUMS = {
    "bentuk_pendidikan": {f.lower(): f for f in SCHOOL_FORMS},
    "status_sekolah": {"negeri": "Negeri", "swasta": "Swasta"},
    "jenis_kelamin": {"l": "L", "p": "P"},
    "program": {p: p for p in ("reguler", "paket_a", "paket_b", "paket_c")},
    "jenis_ptk": {j.lower(): j for j in JENIS_PTK},
    "ptk_induk": {"0": "0", "1": "1"},
    "operator_sekolah": {"0": "0", "1": "1"},
}
PATTERNS = {
    "sekolah_id": UUID4, "peserta_didik_id": UUID4, "ptk_id": UUID4,
    "npsn": re.compile(r"\d{8}"), "kode_wilayah": re.compile(r"\d{6}"),
    "nisn": re.compile(r"(\d{10})?"), "nuptk": re.compile(r"(\d{16})?"),
    "nip": re.compile(r"(\d{18})?"), "no_hp": re.compile(r"(08\d{8,11})?"),
}  # fmt: skip


def _parse_date(v: str) -> dt.date | None:
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
            return dt.date.fromisoformat(v)
        if m := DMY.fullmatch(v):
            return dt.date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        return None
    return None


def _normalise(name: str, rec: dict) -> dict | None:
    """The record as a tolerant reader reads it, or None when it must be rejected."""
    out = {}
    for field, raw in rec.items():
        v = raw.strip()
        if field in ENUMS:
            if v.lower() not in ENUMS[field]:
                return None
            v = ENUMS[field][v.lower()]
        elif field in PATTERNS:
            if not PATTERNS[field].fullmatch(v):
                return None
        elif field == "nik":
            if not re.fullmatch(r"\d{16}" if name == "ptk.csv" else r"(\d{16})?", v):
                return None
        elif field == "tanggal_lahir":
            if (d := _parse_date(v)) is None:
                return None
            v = d.isoformat()
        elif field == "tingkat_pendidikan":
            if not v.isdigit() or not 1 <= int(v) <= 13:
                return None
        elif field == "nama" and not v:
            return None
        out[field] = v
    return out


def test_exactly_the_rejected_lines_fail_a_tolerant_reader(messy):
    out, _ = messy
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    expected = defaultdict(set)
    for e in manifest:
        if e["outcome"] == "rejected":
            expected[e["file"]].add(e["line"])
    rejected = defaultdict(set)
    schools = set()
    for name in FILES:
        encoding, delimiter = FORMAT[name]
        seen = set()
        good = []
        for line, rec in records(out / name, encoding=encoding, delimiter=delimiter):
            norm = _normalise(name, dict(zip(COLUMNS[name], rec, strict=True)))
            if norm is None:
                rejected[name].add(line)
                continue
            key = tuple(norm.values())
            if key in seen:  # an exact duplicate: the later copy goes
                rejected[name].add(line)
                continue
            seen.add(key)
            if name != "sekolah.csv" and norm["sekolah_id"] not in schools:
                rejected[name].add(line)
                continue
            good.append((line, norm))
        if name == "sekolah.csv":
            schools = {norm["sekolah_id"] for _, norm in good}
        if name == "peserta_didik.csv":  # one NISN on two students: neither is trusted
            owners = defaultdict(set)
            for _, norm in good:
                if norm["nisn"]:
                    owners[norm["nisn"]].add(norm["peserta_didik_id"])
            for line, norm in good:
                if len(owners[norm["nisn"]]) > 1:
                    rejected[name].add(line)
        assert rejected[name] == expected[name], name
    assert all(expected[name] for name in FILES)


# -- the CLI and bounded memory ---------------------------------------------------------------


def test_cli_generate(run_akun, tmp_path):
    result = run_akun(
        "roster", "generate", "--out", str(tmp_path), "--scale", "0.0005", "--seed", "4"
    )
    assert result.returncode == 0, result.stderr
    assert "sekolah.csv" in result.stdout and "peserta_didik.csv" in result.stdout
    assert {p.name for p in tmp_path.iterdir()} == set(FILES)
    messy_dir = tmp_path / "messy"
    result = run_akun("roster", "generate", "--out", str(messy_dir), "--scale", "0.0005", "--messy")
    assert result.returncode == 0, result.stderr
    assert (messy_dir / MANIFEST).exists()
    result = run_akun("roster", "generate", "--out", str(tmp_path), "--scale", "0")
    assert result.returncode != 0 and "--scale" in result.stderr


def _peak_rss_kib(out: Path, scale: float) -> int:
    code = (
        "import os, resource, sys, django;"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'akun.settings'); django.setup();"
        "from akun.synthetic.generate import generate_snapshot;"
        f"generate_snapshot({str(out)!r}, scale={scale}, seed=2, messy=True, year={YEAR});"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split()[-1])


def test_memory_stays_bounded_while_streaming(tmp_path):
    """Ten times the rows (scale 0.005: ~140k students, ~22 MB of CSV; holding them would
    take ~150 MB) need about the same memory: the generator keeps per-school state only."""
    small = _peak_rss_kib(tmp_path / "small", 0.0005)
    large = _peak_rss_kib(tmp_path / "large", 0.005)
    written = sum(p.stat().st_size for p in (tmp_path / "large").iterdir())
    assert written > 20_000_000
    assert large - small < 12 * 1024, (small, large)  # KiB
