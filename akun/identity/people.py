"""What the roster says about an account's holder: name, birth date, school, contacts."""

from dataclasses import dataclass, field
from datetime import date

from akun.roster.api import PesertaDidik, Ptk, Sekolah


@dataclass
class PersonFacts:
    nama: str = ""
    tanggal_lahir: date | None = None
    sekolah: Sekolah | None = None
    emails: list[str] = field(default_factory=list)  # roster contacts (PTK only)
    phones: list[str] = field(default_factory=list)


def roster_record(account):
    if not account.person_id:
        return None
    if account.person_type == "peserta_didik":
        return PesertaDidik.objects.filter(peserta_didik_id=account.person_id).first()
    if account.person_type == "ptk":
        rows = list(Ptk.objects.filter(ptk_id=account.person_id).select_related("sekolah"))
        # The main assignment first, present rows before departed ones.
        rows.sort(key=lambda r: (not r.ptk_induk, r.departed_at is not None))
        return rows[0] if rows else None
    return None


def facts(account) -> PersonFacts:
    record = roster_record(account)
    out = PersonFacts(nama=account.nama or (record.nama if record else ""))
    if record is not None:
        out.tanggal_lahir = record.tanggal_lahir
        if account.sekolah_id is None:
            out.sekolah = record.sekolah
        if account.person_type == "ptk":
            out.emails = [record.email] if record.email else []
            out.phones = [record.no_hp] if record.no_hp else []
    if out.sekolah is None and account.sekolah_id:
        out.sekolah = Sekolah.objects.filter(pk=account.sekolah_id).first()
    return out
