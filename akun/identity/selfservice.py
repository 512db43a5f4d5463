"""Cek Akun lookups and the contacts a reset code can go to."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from akun.identity import people
from akun.identity.masking import mask_email, mask_phone, normalize_phone
from akun.roster.api import PesertaDidik, Ptk, Sekolah


def same_name(a: str, b: str) -> bool:
    """As in the roster, ignoring case and spacing."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


@dataclass
class CekResult:
    accounts: list  # the person's accounts (not deleted)
    sekolah: object = None
    person_found: bool = False
    explanation: str = ""


def cek_akun(role: str, npsn: str, nama: str, tanggal_lahir) -> CekResult:
    sekolah_list = list(Sekolah.objects.filter(npsn=npsn))
    if not sekolah_list:
        return CekResult(
            [], explanation=_("No school with NPSN %(npsn)s is in the roster.") % {"npsn": npsn}
        )
    ids = [s.pk for s in sekolah_list]
    if role == "peserta_didik":
        people_rows = PesertaDidik.objects.filter(sekolah_id__in=ids, tanggal_lahir=tanggal_lahir)
        matches = [p for p in people_rows if same_name(p.nama, nama)]
        person_ids = [p.peserta_didik_id for p in matches]
    else:
        people_rows = Ptk.objects.filter(sekolah_id__in=ids, tanggal_lahir=tanggal_lahir)
        matches = [p for p in people_rows if same_name(p.nama, nama)]
        person_ids = list({p.ptk_id for p in matches})
    result = CekResult([], sekolah=sekolah_list[0], person_found=bool(matches))
    if not matches:
        result.explanation = _(
            "Nobody with this name and birth date is in the roster of this school. Check that "
            "the name is written exactly as in Dapodik and the birth date is right; if the data "
            "in Dapodik is wrong, your school operator can correct it."
        )
        return result
    result.accounts = list(
        get_user_model()
        .objects.filter(person_type=role, person_id__in=person_ids)
        .exclude(state="deleted")
        .order_by("issued_at")
    )
    if not result.accounts:
        result.explanation = explain_no_account(role, matches[0])
    return result


def explain_no_account(role: str, record) -> str:
    """The eligibility explanation when akun.accounts offers one, else a generic reason."""
    try:
        from akun.accounts import api as accounts_api

        explain = accounts_api.explain
    except (ImportError, AttributeError):
        explain = None
    if explain is not None:
        try:
            if role == "peserta_didik":
                exp = explain(nisn=record.nisn) if record.nisn else None
            else:
                exp = explain(ptk_id=str(record.ptk_id))
            if exp is not None:
                return exp.text("en" if get_language() == "en" else "id")
        except Exception:  # an explanation must never break Cek Akun
            pass
    return _(
        "You are in the roster but have no account yet. Accounts are issued only to those "
        "eligible (students of certain grades, teachers, heads of school and school "
        "operators), some days after the school's data reaches Dapodik."
    )


@dataclass
class Contact:
    key: str  # stable choice value: e0, p0, …
    channel: str  # email or sms
    destination: str
    masked: str


def contacts(account) -> list[Contact]:
    """Verified recovery contacts, then (for PTK) the e-mail and phone in the roster."""
    emails, phones = [], []
    if account.recovery_email and account.recovery_email_verified_at:
        emails.append(account.recovery_email.strip().lower())
    if account.recovery_phone and account.recovery_phone_verified_at:
        phones.append(normalize_phone(account.recovery_phone))
    if account.person_type == "ptk":
        facts = people.facts(account)
        emails += [e.strip().lower() for e in facts.emails if "@" in e]
        phones += [normalize_phone(p) for p in facts.phones if len(normalize_phone(p)) >= 9]
    out = []
    for i, e in enumerate(dict.fromkeys(emails)):
        out.append(Contact(f"e{i}", "email", e, mask_email(e)))
    for i, p in enumerate(dict.fromkeys(phones)):
        out.append(Contact(f"p{i}", "sms", p, mask_phone(p)))
    return out
