"""The operator's CSV of one school's accounts (CLI `akun accounts export`, and the portal).

UTF-8 with a byte-order mark so that Excel opens it right; every cell that a spreadsheet
would read as a formula is neutralised; every export is in the audit log, because the file
holds initial passwords.
"""

import csv
import io
from dataclasses import dataclass

from akun.accounts import crypto
from akun.accounts.models import Account
from akun.audit import api as audit
from akun.audit.api import Action
from akun.roster.api import PesertaDidik, Ptk, Sekolah

BOM = "\ufeff"
HEADER = ["ID Pengguna", "Nama", "NISN/NUPTK", "Rombel", "Peran", "Kata Sandi Awal", "Status"]
ROLE_LABELS = {
    "peserta_didik": "Peserta Didik",
    "pendidik": "Guru",
    "tenaga_kependidikan": "Admin Sekolah",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    """A cell a spreadsheet will show as text, never run as a formula (CWE-1236)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


@dataclass
class Export:
    npsn: str
    text: str  # with BOM
    rows: int
    initial_passwords: int

    @property
    def content(self) -> bytes:
        return self.text.encode("utf-8")


def export_accounts_csv(npsn: str, *, role: str | None = None, actor: str) -> Export:
    """role: None (everyone), 'peserta_didik' (students) or 'ptk' (teachers and admins)."""
    sekolah_ids = list(Sekolah.objects.filter(npsn=npsn).values_list("sekolah_id", flat=True))
    accounts = Account.objects.filter(sekolah_id__in=sekolah_ids).exclude(
        state=Account.State.DELETED
    )
    if role:
        accounts = accounts.filter(person_type=role)
    accounts = list(
        accounts.order_by("person_type", "nama", "user_id").values_list(
            "user_id",
            "nama",
            "person_type",
            "person_id",
            "role",
            "state",
            "initial_password_enc",
        )
    )
    student_ids = [a[3] for a in accounts if a[2] == "peserta_didik"]
    students = {
        pk: (nisn, rombel)
        for pk, nisn, rombel in PesertaDidik.objects.filter(pk__in=student_ids).values_list(
            "peserta_didik_id", "nisn", "rombel"
        )
    }
    ptk_ids = [a[3] for a in accounts if a[2] == "ptk"]
    nuptk: dict = {}
    # Prefer this school's row, but any row of the person has the same NUPTK.
    for ptk_id, number, sekolah_id in Ptk.objects.filter(ptk_id__in=ptk_ids).values_list(
        "ptk_id", "nuptk", "sekolah_id"
    ):
        if ptk_id not in nuptk or sekolah_id in sekolah_ids:
            nuptk[ptk_id] = number

    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow(HEADER)
    with_password = 0
    for user_id, nama, person_type, person_id, acc_role, state, enc in accounts:
        if person_type == "peserta_didik":
            number, rombel = students.get(person_id, ("", ""))
        else:
            number, rombel = nuptk.get(person_id, ""), ""
        password = ""
        if state == Account.State.ISSUED and enc is not None:
            password = crypto.decrypt(enc)
            with_password += 1
        writer.writerow(
            [
                neutralise(v)
                for v in (user_id, nama, number, rombel, ROLE_LABELS.get(acc_role, acc_role))
            ]
            + [neutralise(password), state]
        )
    sekolah = Sekolah.objects.filter(sekolah_id__in=sekolah_ids).first()
    audit.record(
        Action.ACCOUNTS_EXPORT,
        actor=actor,
        object_type="sekolah",
        object_id=npsn,
        npsn=npsn,
        kode_wilayah=sekolah.kode_wilayah if sekolah else "",
        after={"role": role or "all", "rows": len(accounts), "initial_passwords": with_password},
    )
    return Export(
        npsn=npsn, text=out.getvalue(), rows=len(accounts), initial_passwords=with_password
    )
