"""The importer against the generator's snapshots: clean ones import whole, messy ones reject
exactly the flawed rows the generator lists in its manifest."""

import csv
import json

import pytest

from akun.roster.importing import RosterImport
from akun.roster.models import PesertaDidik, Ptk, Sekolah
from akun.synthetic.generate import generate_snapshot

pytestmark = pytest.mark.django_db

CASCADE = "the row of this school in sekolah.csv was rejected"


def test_clean_generated_snapshot_imports_without_rejects(tmp_path):
    counts = generate_snapshot(tmp_path, scale=0.0005, seed=3, messy=False)
    result = RosterImport(tmp_path, actor="test").run()
    assert result.total_rejected == 0
    assert Sekolah.objects.count() == counts["sekolah.csv"]
    assert PesertaDidik.objects.count() == counts["peserta_didik.csv"]
    assert Ptk.objects.count() == counts["ptk.csv"]
    again = RosterImport(tmp_path, actor="test").run()
    assert again.status == "unchanged"


def test_messy_snapshot_rejects_exactly_the_flawed_rows(tmp_path):
    generate_snapshot(tmp_path, scale=0.001, seed=7, messy=True)
    manifest = json.loads((tmp_path / "_messy_manifest.json").read_text())
    result = RosterImport(tmp_path, actor="test", allow_mass_departure=True).run()
    with open(result.report_path, newline="", encoding="utf-8") as f:
        report = {(r["file"], int(r["line"])): r for r in csv.DictReader(f)}
    expected = {(m["file"], m["line"]): m for m in manifest if m["outcome"] == "rejected"}
    tolerated = {(m["file"], m["line"]) for m in manifest if m["outcome"] == "tolerated"}
    assert expected, "the messy snapshot should contain flaws to reject"
    assert set(expected) <= set(report), sorted(set(expected) - set(report))[:5]
    for key, flaw in expected.items():
        if flaw["field"]:
            assert report[key]["field"] == flaw["field"], (flaw, report[key])
    # Anything else rejected is held back only because its school's row was rejected.
    for key in set(report) - set(expected):
        assert report[key]["reason"] == CASCADE, report[key]
    own_rejects = {key for key, r in report.items() if r["reason"] != CASCADE}
    assert not tolerated & own_rejects
    assert result.total_rejected == len(report)
