"""What a learning service may learn about an account: OIDC claims, by scope.

`akun` carries what learning services need to place a person (role, level, school, region,
grade and class). NIK is never stored by Akun, so it is never released; NISN, NUPTK and the
birth date go only to services whose registration lists them (Service.personal_claims)."""

import time

from akun.roster.api import PesertaDidik, Ptk, Sekolah
from akun.sso.models import PERSONAL_CLAIMS

CLAIM_SCOPE = {
    "sub": "openid",
    "name": "profile",
    "preferred_username": "profile",
    "locale": "profile",
    "email": "email",
    "email_verified": "email",
    "role": "akun",
    "jenjang": "akun",
    "school_npsn": "akun",
    "school_name": "akun",
    "province_code": "akun",
    "regency_code": "akun",
    "grade": "akun",
    "class": "akun",
    "nisn": "akun",
    "nuptk": "akun",
    "birthdate": "akun",
}

AKUN_CLAIMS = [c for c, s in CLAIM_SCOPE.items() if s == "akun" and c not in PERSONAL_CLAIMS]


_schools: dict = {}  # sekolah_id -> (monotonic time, Sekolah): schools change once a night


def _school(sekolah_id):
    hit = _schools.get(sekolah_id)
    if hit is None or time.monotonic() - hit[0] > 300:
        if len(_schools) > 50_000:
            _schools.clear()
        hit = (time.monotonic(), Sekolah.objects.filter(pk=sekolah_id).first())
        _schools[sekolah_id] = hit
    return hit[1]


# What the claims read of a student's roster row (loaded beside the account on a refresh).
STUDENT_FIELDS = ("peserta_didik_id", "nisn", "tanggal_lahir", "tingkat_pendidikan", "rombel")
_NOT_LOADED = object()


def attach_roster(account, record) -> None:
    """The account's roster row, already loaded by the caller (None: there is none)."""
    account._akun_roster = record


def _roster(account):
    loaded = getattr(account, "_akun_roster", _NOT_LOADED)
    if loaded is not _NOT_LOADED:
        return loaded
    if not account.person_id:
        return None
    if account.person_type == "peserta_didik":
        return PesertaDidik.objects.filter(peserta_didik_id=account.person_id).first()
    if account.person_type == "ptk":
        rows = Ptk.objects.filter(ptk_id=account.person_id)
        if account.sekolah_id:
            rows = rows.order_by("-ptk_induk").filter(sekolah_id=account.sekolah_id) or rows
        return rows.order_by("-ptk_induk").first()
    return None


def claims_for(account, scopes, personal=()) -> dict:
    """The claims of `account` for the granted `scopes`; `personal` lists the personal
    identifiers this service may have."""
    scopes = set(scopes)
    out = {"sub": account.user_id}
    if "profile" in scopes:
        out["name"] = account.nama
        out["preferred_username"] = account.user_id
        out["locale"] = "id"
    if "email" in scopes:
        # The learning account's user ID is its e-mail address.
        out["email"] = account.user_id
        out["email_verified"] = True
    if "akun" in scopes:
        out["role"] = account.role
        out["jenjang"] = account.jenjang
        sekolah = _school(account.sekolah_id) if account.sekolah_id else None
        if sekolah is not None:
            out["school_npsn"] = sekolah.npsn
            out["school_name"] = sekolah.nama
            out["province_code"] = sekolah.kode_wilayah[:2]
            out["regency_code"] = sekolah.kode_wilayah[:4]
        record = _roster(account)
        if record is not None and account.person_type == "peserta_didik":
            out["grade"] = record.tingkat_pendidikan
            out["class"] = record.rombel
        if record is not None and personal:
            if "nisn" in personal and getattr(record, "nisn", ""):
                out["nisn"] = record.nisn
            if "nuptk" in personal and getattr(record, "nuptk", ""):
                out["nuptk"] = record.nuptk
            if "birthdate" in personal and record.tanggal_lahir:
                out["birthdate"] = record.tanggal_lahir.isoformat()
    return out
