"""What a target should hold for each account, built from Akun (accounts and the roster,
through their api.py) in one query per batch: the rules of docs/provisioning.md, "What is
sent". No NIK (Akun keeps only a keyed hash of it), no NISN or birth date unless
AKUN_PROVISION_PERSONAL_FIELDS names them."""

import re
import unicodedata

from django.conf import settings
from django.db import connection

from akun.accounts.api import accounts_sql
from akun.provisioning.base import Desired
from akun.roster.api import join_sekolah, peserta_didik_sql

# Google: each name part at most 60 characters; these characters are refused.
NAME_MAX = 60
_NAME_REFUSED = re.compile(r"[=+<>\"\\,;:@#$%^&*(){}\[\]|/?!~`]")
_SPACES = re.compile(r"\s+")

ROLE_UNIT = {
    "peserta_didik": "siswa",
    "pendidik": "guru",
    "tenaga_kependidikan": "tendik",
    "dinas": "dinas",
}

ACTIVE_STATES = ("issued", "active")
SUSPENDED_STATES = ("suspended", "deactivated")


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = _NAME_REFUSED.sub(" ", text)
    return _SPACES.sub(" ", text).strip(" .-'")


def _cut(text: str) -> str:
    return text[:NAME_MAX].rstrip(" .-'") if len(text) > NAME_MAX else text


def split_name(nama: str, fallback: str) -> tuple[str, str]:
    """(givenName, familyName) that Google accepts, from an Indonesian name.

    Many Indonesians have one name only (Sukarno, Mulyani); Google wants both parts. Rule:
    several words: the last word is the family name, the rest the given name (Google shows
    "given family", so the full name reads as written). One word: that word in both parts
    ("Sukarno Sukarno" is what the Admin console shows; the person's own display name in
    Classroom and Gmail is the given name). No usable letters: the user ID's local part."""
    words = _clean(nama).split(" ")
    words = [w for w in words if w]
    if not words:
        words = [_clean(fallback) or "Pengguna"]
    if len(words) == 1:
        one = _cut(words[0])
        return one, one
    given, family = " ".join(words[:-1]), words[-1]
    return _cut(given), _cut(family)


def _unit_name(text: str) -> str:
    """An org unit name: no slash (the path separator), no leading/trailing blanks."""
    return _SPACES.sub(" ", (text or "").replace("/", "-").replace("\\", "-")).strip()[:60]


def org_unit(root: str, *, role: str, kode_wilayah: str, provinsi: str, kabupaten: str,
             npsn: str) -> str:  # fmt: skip
    """root / province / regency / school (NPSN) / role, mirroring the region tree."""
    unit = ROLE_UNIT.get(role, _unit_name(role) or "lain")
    if not npsn:
        return f"{root}/{unit}"
    prov = _unit_name(re.sub(r"^Prov\.?\s*", "", provinsi or "", flags=re.I)) or "-"
    kab = _unit_name(kabupaten) or "-"
    return f"{root}/{kode_wilayah[:2]} {prov}/{kode_wilayah[:4]} {kab}/{_unit_name(npsn)}/{unit}"


def _list_sql(n: int) -> str:
    if connection.vendor == "postgresql":
        return "SELECT unnest(%s::bigint[])"
    return "SELECT CAST(value AS integer) FROM json_each(%s)"


def _list_param(ids: list[int]):
    if connection.vendor == "postgresql":
        return list(ids)
    import json

    return json.dumps(list(ids))


def build(target, account_ids: list[int]) -> dict[int, tuple[Desired, str]]:
    """{account id: (Desired, account state)} for the accounts that exist."""
    if not account_ids:
        return {}
    config = target.config or {}
    root = "/" + (config.get("org_unit_root") or "Akun").strip("/")
    personal = set(settings.AKUN_PROVISION_PERSONAL_FIELDS)
    pd_cols = "NULL, NULL"
    pd_join = ""
    if personal:
        pd_cols = "pd.nisn, pd.tanggal_lahir"
        pd_join = (
            f"LEFT JOIN {peserta_didik_sql('pd')} ON a.person_type = 'peserta_didik' "
            "AND pd.peserta_didik_id = a.person_id"
        )
    with connection.cursor() as cur:
        cur.execute(
            "SELECT a.id, a.user_id, a.nama, a.state, a.role, a.jenjang, "
            "s.npsn, s.kode_wilayah, s.provinsi, s.kabupaten_kota, "
            f"{pd_cols} FROM {accounts_sql('a')} "
            f"{join_sekolah('a.sekolah_id', 's')} {pd_join} "
            f"WHERE a.id IN ({_list_sql(len(account_ids))})",
            [_list_param(account_ids)],
        )
        rows = cur.fetchall()
    out = {}
    for (acc_id, user_id, nama, state, role, jenjang, npsn, kode, prov, kab, nisn,
         lahir) in rows:  # fmt: skip
        given, family = split_name(nama, user_id.partition("@")[0])
        attributes = {
            "role": role or "",
            "jenjang": jenjang or "",
            "npsn": npsn or "",
            "kode_wilayah": kode or "",
            "akun_id": str(acc_id),  # marks the user as Akun's (adoption on a conflict)
        }
        if "nisn" in personal and nisn:
            attributes["nisn"] = nisn
        if "tanggal_lahir" in personal and lahir:
            attributes["tanggal_lahir"] = str(lahir)[:10]
        out[acc_id] = (
            Desired(
                account_id=acc_id,
                user_id=user_id,
                given_name=given,
                family_name=family,
                active=state in ACTIVE_STATES,
                org_unit=org_unit(
                    root,
                    role=role,
                    kode_wilayah=kode or "",
                    provinsi=prov or "",
                    kabupaten=kab or "",
                    npsn=npsn or "",
                ),  # fmt: skip
                attributes=attributes,
                directory_visible=role != "peserta_didik",  # students: not in the GAL
            ),
            state,
        )
    return out
