"""Fill a django.po with translations kept in code, keyed by the English text.

Each app keeps its table in `<app>/i18n/fill_po.py` and calls `main()`. Re-extraction with
makemessages keeps the translations; then `akun compilemessages`. Exit status 1 lists the
strings that are still untranslated, so a new string is noticed."""

import re
import sys
from pathlib import Path

_STRINGS = r'(?:"(?:[^"\\]|\\.)*"\n?)+'


def _unquote(block: str) -> str:
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', block))


def _quote(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


def fill(path: Path, table: dict) -> list[str]:
    """Write the table's translations into `path`; returns the msgids left untranslated."""
    entries = path.read_text(encoding="utf-8").split("\n\n")
    missing, out = [], []
    for entry in entries:
        m = re.search(rf"^msgid ({_STRINGS})", entry, re.M)
        if not m or not _unquote(m.group(1)):
            out.append(entry)
            continue
        key = _unquote(m.group(1)).replace('\\"', '"')
        if key not in table:
            # Translated elsewhere (a shared catalog) is fine; empty is not.
            # Empty: `msgstr ""` with no continuation line (a wrapped one starts with "").
            if re.search(r'^msgstr(\[0\])? ""\n(?!")', entry + "\n", re.M):
                missing.append(key)
            out.append(entry)
            continue
        value = table[key]
        entry = entry.replace("#, fuzzy\n", "").replace("#, fuzzy, ", "#, ")
        entry = re.sub(r"^#\| .*\n", "", entry, flags=re.M)  # previous msgid of a fuzzy match
        if "msgid_plural" in entry:
            entry = re.sub(rf"msgstr\[0\] {_STRINGS}", "msgstr[0] " + _quote(value) + "\n", entry)
            entry = re.sub(r"\nmsgstr\[[1-9]\].*", "", entry)
        else:
            entry = re.sub(rf"msgstr {_STRINGS}", "msgstr " + _quote(value) + "\n", entry)
        out.append(entry.rstrip("\n"))
    text = "\n\n".join(out)
    text = re.sub(r'"Plural-Forms: [^"]*"', r'"Plural-Forms: nplurals=1; plural=0;\\n"', text)
    text = text.replace('#, fuzzy\nmsgid ""', 'msgid ""', 1)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return missing


def main(table: dict, default_po: Path) -> None:
    po = Path(sys.argv[1]) if len(sys.argv) > 1 else default_po
    left = fill(po, table)
    for key in left:
        print("untranslated:", key)
    sys.exit(1 if left else 0)
