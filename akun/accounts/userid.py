"""User IDs: `<local>@<subdomain>.<AKUN_DOMAIN>`, local = letters from the name + a number.

`base_local_part()` turns a roster name into lower-case ASCII letters (first + last name).
The number comes from a per-base counter (LocalPartCounter) that bulk issuance advances in
SQL for a whole batch, so the local part is unique across every subdomain. Bases are letters
only and the number is always there, so `budi12` can only mean base `budi`, number 12: two
different bases never produce the same local part. The unique constraint on
Account.local_part is the final guard.
"""

import re
import unicodedata
from functools import lru_cache

from django.conf import settings

MAX_BASE_LENGTH = 30
# For a name with no Latin letters left (only titles, or another script).
FALLBACK_BASE = "pengguna"

# Letters that NFKD does not split into base letter + accent.
_SPECIAL = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ø": "o",
        "Ø": "o",
        "đ": "d",
        "Đ": "d",
        "ł": "l",
        "Ł": "l",
        "ı": "i",
        "ð": "d",
        "þ": "th",
    }
)

# Academic, religious and professional titles, compared without dots, spaces, case.
# Before the name:
PREFIX_TITLES = {
    "dr", "drs", "dra", "drg", "ir", "prof", "h", "hj", "kh", "hc", "ns", "apt", "tgh",
    "rd", "raden", "ustadz", "ustadzah", "bpk", "ibu",
}  # fmt: skip
# After the name (Indonesian degrees); any token with an inner dot at the end is one too.
SUFFIX_TITLES = {
    "spd", "spdi", "spdsd", "mpd", "mpdi", "sag", "mag", "se", "sh", "mh", "mm", "st", "mt",
    "skom", "mkom", "ssi", "msi", "sos", "ssos", "msos", "sip", "sikom", "skm", "sked", "ske",
    "amd", "amdkeb", "amdkep", "ama", "amapd", "spt", "sp", "sth", "mth", "sthi", "shi", "sei",
    "ba", "ma", "bsc", "msc", "phd", "mba", "sst", "ssn", "sfarm", "spsi", "mpsi",
    "sds", "shum", "mhum", "sps", "lc", "dipl", "gr", "kons", "ak", "cpa",
}  # fmt: skip

_APOSTROPHES = "'’‘`´ʼʻ"
_TOKEN_SPLIT = re.compile(r"\s+")
_NON_LETTER = re.compile(r"[^a-z]+")
_PLAIN = re.compile(r"[A-Za-z ]*")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    return "".join(c for c in text if not unicodedata.combining(c))


def _title_key(token: str) -> str:
    return _NON_LETTER.sub("", _fold(token).lower())


def _is_suffix_title(token: str) -> bool:
    key = _title_key(token)
    if key in SUFFIX_TITLES:
        return True
    # S.Pd.SD, A.Md.Kes, M.Pd.I: letters with dots inside.
    return bool(re.fullmatch(r"(?:[A-Za-z]{1,4}\.)+[A-Za-z]{0,4}\.?", token)) and len(key) >= 2


def name_words(nama: str) -> list[str]:
    """The words of a name with titles removed, each folded to lower-case ASCII letters."""
    if _PLAIN.fullmatch(nama):
        # Fast path for most names (bulk issuance): same result as below, without the
        # Unicode folding and dot handling that only apply to other names.
        tokens = nama.lower().split()
        while len(tokens) > 1 and tokens[0] in PREFIX_TITLES:
            tokens.pop(0)
        while len(tokens) > 1 and tokens[-1] in SUFFIX_TITLES:
            tokens.pop()
        return tokens
    # Everything after the first comma is a list of degrees ("Siti Aminah, S.Pd., M.Pd.").
    main = nama.split(",", 1)[0]
    for a in _APOSTROPHES:
        main = main.replace(a, "")
    tokens = [t for t in _TOKEN_SPLIT.split(main.strip()) if t]
    # "Dr.Siti": a title glued to the name by its dot.
    split_tokens = []
    for t in tokens:
        head, dot, rest = t.partition(".")
        if dot and rest and _title_key(head) in PREFIX_TITLES and not split_tokens:
            split_tokens.extend([head + ".", rest])
        else:
            split_tokens.append(t)
    tokens = split_tokens
    while tokens and _title_key(tokens[0]) in PREFIX_TITLES and len(tokens) > 1:
        tokens.pop(0)
    if tokens and _title_key(tokens[0]) in PREFIX_TITLES and tokens[0].endswith("."):
        tokens.pop(0)  # "Dr." alone: a title, not a name
    while tokens and _is_suffix_title(tokens[-1]) and len(tokens) > 1:
        tokens.pop()
    words = []
    for t in tokens:
        # Hyphens and dots join ("Nur-Aini" -> "nuraini"); digits and other marks go.
        w = _NON_LETTER.sub("", _fold(t).lower())
        if w:
            words.append(w)
    return words


@lru_cache(maxsize=200_000)
def base_local_part(nama: str) -> str:
    """Letters of the local part: first + last word, or the one word; never empty."""
    words = name_words(nama)
    if not words:
        return FALLBACK_BASE
    base = words[0] if len(words) == 1 else words[0] + words[-1]
    return base[:MAX_BASE_LENGTH]


def local_part(base: str, number: int) -> str:
    return f"{base}{number}"


def user_id(local: str, subdomain: str) -> str:
    return f"{local}@{subdomain}.{settings.AKUN_DOMAIN}"
