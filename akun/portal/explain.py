"""'Why no account?' for one school: accounts' explanation, limited to the school's rows.

The operator types a name, NISN, NUPTK or NIK; only people with a roster row at this school
are explained, and only this school's rows are shown (a person's rows at other schools are
another operator's business).
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from akun.accounts.api import Account, Explanation, explain
from akun.roster.api import PesertaDidik, Ptk, nik_hash

MAX_PEOPLE = 10


@dataclass
class Answer:
    nama: str
    text: str


def _only_school(e: Explanation, npsn: str) -> Explanation:
    rows = [r for r in e.rows if r.sekolah.get("npsn") == npsn]
    accounts = [a for a in e.accounts if a.get("npsn") == npsn]
    return Explanation(query=e.query, rows=rows, accounts=accounts)


def _answer(nama: str, e: Explanation, npsn: str, lang: str) -> Answer:
    filtered = _only_school(e, npsn)
    if not filtered.rows:
        return Answer(nama, _("No roster row of this person at this school."))
    return Answer(nama, filtered.text("en" if lang and lang.startswith("en") else "id"))


def at_school(query: str, sekolah, sekolah_ids, *, lang: str = "id") -> list[Answer]:
    q = (query or "").strip()
    npsn = sekolah.npsn
    ids = list(sekolah_ids)
    students = PesertaDidik.objects.filter(sekolah_id__in=ids)
    teachers = Ptk.objects.filter(sekolah_id__in=ids)
    found_students, found_ptk = [], []
    if q.isdigit() and len(q) == 16:  # NUPTK or NIK
        found_ptk = list(teachers.filter(nuptk=q)) or list(teachers.filter(nik_hash=nik_hash(q)))
        found_students = list(students.filter(nik_hash=nik_hash(q)))
    elif q.isdigit():
        found_students = list(students.filter(nisn=q))
    else:
        found_students = list(students.filter(nama__icontains=q).order_by("nama")[:MAX_PEOPLE])
        found_ptk = list(teachers.filter(nama__icontains=q).order_by("nama")[:MAX_PEOPLE])
    answers = []
    for pd in found_students[:MAX_PEOPLE]:
        if pd.nisn:
            e = explain(nisn=pd.nisn)
        else:
            account = Account.objects.filter(person_type="peserta_didik", person_id=pd.pk).first()
            if account is None:
                answers.append(
                    Answer(pd.nama, _("No NISN in the roster: search by the student's NIK."))
                )
                continue
            e = explain(user_id=account.user_id)
        answers.append(_answer(pd.nama, e, npsn, lang))
    for p in found_ptk[:MAX_PEOPLE]:
        answers.append(_answer(p.nama, explain(ptk_id=str(p.ptk_id)), npsn, lang))
    return answers
