"""The Indonesian catalogs are complete: no untranslated or fuzzy entry, and every string the
code marks for translation is in them (docs/translation.md)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

AKUN = Path(__file__).resolve().parents[1] / "akun"


def catalogs(root: Path) -> list[Path]:
    return sorted(root.glob("*/locale/id/LC_MESSAGES/django.po"))


def _text(lines: list[str], keyword: str) -> str:
    """The string of `keyword` (msgid, msgstr, msgstr[0]…) with its continuation lines."""
    out, inside = [], False
    for line in lines:
        if line.startswith(keyword + " "):
            inside = True
            out.append(line[len(keyword) + 1 :])
        elif inside and line.startswith('"'):
            out.append(line)
        else:
            inside = False
    return "".join(s.strip()[1:-1] for s in out)


def problems(po: Path) -> list[str]:
    """Entries of a .po that are fuzzy or have an empty msgstr; obsolete (#~) entries aside."""
    found = []
    for entry in po.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in entry.strip().splitlines() if not line.startswith("#~")]
        if not any(line.startswith("msgid ") for line in lines):
            continue
        msgid = _text(lines, "msgid")
        if any(line.startswith("#,") and "fuzzy" in line for line in lines):
            found.append(f"{po}: fuzzy: {msgid or '(header)'}")
        keywords = {m.group(1) for line in lines if (m := re.match(r"(msgstr(\[\d+\])?) ", line))}
        if msgid and any(not _text(lines, k) for k in keywords):
            found.append(f"{po}: untranslated: {msgid}")
    return found


def test_every_indonesian_entry_is_translated_and_none_is_fuzzy():
    pos = catalogs(AKUN)
    assert len(pos) >= 5, pos
    assert [p for po in pos for p in problems(po)] == []


def test_the_checker_sees_empty_fuzzy_and_plural_entries(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: id\\n"\n\n'
        'msgid "Done"\nmsgstr "Selesai"\n\n'
        'msgid ""\n"Long "\n"text"\nmsgstr ""\n"Teks "\n"panjang"\n\n'
        'msgid "New"\nmsgstr ""\n\n'
        '#, fuzzy, python-format\nmsgid "Old %(n)s"\nmsgstr "Lama %(n)s"\n\n'
        'msgid "%(n)s try"\nmsgid_plural "%(n)s tries"\nmsgstr[0] ""\n\n'
        '#~ msgid "Gone"\n#~ msgstr ""\n',
        encoding="utf-8",
    )
    assert [p.split(": ", 1)[1] for p in problems(po)] == [
        "untranslated: New",
        "fuzzy: Old %(n)s",
        "untranslated: %(n)s try",
    ]


def test_every_string_in_the_code_is_in_a_catalog(tmp_path):
    # makemessages on a copy, as a translator runs it (docs/translation.md): a string missing
    # from the catalogs comes out untranslated, a changed one fuzzy.
    if shutil.which("msgmerge") is None:
        raise AssertionError("gettext is missing: bash scripts/ensure-debian-packages.sh")
    copy = tmp_path / "akun"
    shutil.copytree(AKUN, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "DJANGO_SETTINGS_MODULE": "akun.settings"}
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "id", "-v", "0"],
        cwd=copy,
        env=env,
        check=True,
    )
    assert len(catalogs(copy)) == len(catalogs(AKUN)), "a string went to a new catalog"
    assert [p for po in catalogs(copy) for p in problems(po)] == []
