"""akun.core.fill_po: the translations kept in code go into a django.po."""

from akun.core.fill_po import fill

PO = """# header
#, fuzzy
msgid ""
msgstr ""
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"

#: a.py:1
msgid "Password"
msgstr ""

#: a.py:2
#, fuzzy
#| msgid "Account <b>%(id)s</b>"
msgid "Account <span class=\\"userid\\">%(id)s</span>"
msgstr "old"

#: a.py:3
msgid "Translated elsewhere"
msgstr "Sudah"

#: a.py:4
msgid "New string"
msgstr ""

#: a.py:5
msgid ""
"A long string that makemessages wraps "
"over lines"
msgstr ""
"Kalimat panjang yang dipecah "
"ke beberapa baris"
"""


def test_fill_writes_translations_and_lists_what_is_left(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(PO, encoding="utf-8")
    table = {
        "Password": "Kata sandi",
        'Account <span class="userid">%(id)s</span>': 'Akun <span class="userid">%(id)s</span>',
    }
    assert fill(po, table) == ["New string"]
    text = po.read_text(encoding="utf-8")
    assert 'msgid "Password"\nmsgstr "Kata sandi"' in text
    assert 'msgstr "Akun <span class=\\"userid\\">%(id)s</span>"' in text
    assert "#| msgid" not in text and "fuzzy" not in text
    assert 'msgstr "Sudah"' in text
    assert "nplurals=1; plural=0;" in text
