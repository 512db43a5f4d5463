"""Why a person has, or has not, got an account: for helpdesk staff and operators.

`explain(...)` returns a structured `Explanation` (for web pages); `.text(lang)` renders it
in plain Indonesian (default, from akun/accounts/locale) or English. The reasons come from
akun.accounts.eligibility, so the explanation cannot drift from what issuance does.
"""

from dataclasses import dataclass, field

from django.utils import translation
from django.utils.translation import gettext_noop

from akun.accounts import eligibility as elig
from akun.accounts.models import Account
from akun.roster import api as roster_api
from akun.roster.api import ImportRun, PesertaDidik, Ptk, Sekolah

MESSAGES = {
    "student_eligible": gettext_noop(
        "Eligible: student in grade {grade} at {form} (rule {rule}: grades "
        "{grade_min}–{grade_max}), level {jenjang}."
    ),
    "ptk_eligible": gettext_noop("Eligible: {jenis_ptk} (teacher) at {form}, level {jenjang}."),
    "ptk_kepala": gettext_noop(
        "Eligible: head of school at {form}, level {jenjang}: admin account."
    ),
    "ptk_operator": gettext_noop(
        "Eligible: the school's data operator at {form}, level {jenjang}: admin account."
    ),
    "departed": gettext_noop(
        "Not eligible: this record is no longer in the latest Dapodik snapshot (marked departed "
        "{departed_at})."
    ),
    "school_departed": gettext_noop(
        "Not eligible: this school is no longer in the latest Dapodik snapshot."
    ),
    "early_childhood": gettext_noop(
        "Not eligible: {form} is early-childhood education (TK, KB, TPA, SPS), which is out of "
        "scope."
    ),
    "form_out_of_scope": gettext_noop(
        "Not eligible: school form {form} is not one of the primary and secondary forms served."
    ),
    "grade_out_of_range": gettext_noop(
        "Not eligible: student in grade {grade} at {form}; accounts are for grades "
        "{grade_min}–{grade_max}."
    ),
    "program_not_at_form": gettext_noop(
        "Not eligible: programme {program} does not apply at {form} (Paket A/B/C only at "
        "PKBM/SKB, the regular programme only at schools)."
    ),
    "tendik_not_eligible": gettext_noop(
        "Not eligible: {jenis_ptk} is education staff; of the staff only the head of school and "
        "the data operator get accounts."
    ),
    "has_account": gettext_noop("Account: {user_id} (state {state}, issued {issued_at})."),
    "no_account_yet": gettext_noop(
        "No account for level {jenjang} yet; it will be issued by the next issuance run (`akun "
        "accounts issue`)."
    ),
    "account_elsewhere": gettext_noop(
        "One account per person per level: this person's {jenjang} account is at the main "
        "school {chosen_npsn}, not at this school."
    ),
    "not_found": gettext_noop("Not found in the Dapodik roster or among the accounts: {query}."),
    "staff_account": gettext_noop(
        "Account {user_id} is a staff account (not from Dapodik), state {state}."
    ),
}
FILE_LABEL = gettext_noop("file {file}, id {record_id}")

# Other apps add what they know of an account (provisioning: its sync state at each target):
# fn(account_ids) -> {account_id: [detail, ...]}, each detail with .text(lang) and .as_dict().
# They register from their AppConfig.ready: accounts imports none of them.
_DETAIL_HOOKS: list = []


def register_explain_detail(fn) -> None:
    if fn not in _DETAIL_HOOKS:
        _DETAIL_HOOKS.append(fn)


def _details(user_ids: list[str]) -> dict[str, list]:
    if not _DETAIL_HOOKS or not user_ids:
        return {}
    ids = dict(Account.objects.filter(user_id__in=user_ids).values_list("pk", "user_id"))
    out: dict[str, list] = {}
    for fn in _DETAIL_HOOKS:
        for account_id, details in fn(list(ids)).items():
            out.setdefault(ids[account_id], []).extend(details)
    return out


def message(code: str, lang: str = "id", **params) -> str:
    with translation.override("en" if lang == "en" else "id"):
        return translation.gettext(MESSAGES[code]).format(**params)


@dataclass
class RowExplanation:
    file: str  # peserta_didik.csv or ptk.csv
    record_id: str  # peserta_didik_id or ptk_id
    nama: str
    sekolah: dict  # npsn, nama, bentuk_pendidikan, departed
    import_run: dict  # id and source of the snapshot the row came from
    decision: elig.Decision
    account: dict | None = None  # the account this row gives, if any
    notes: list[tuple[str, dict]] = field(default_factory=list)  # further (code, params)


@dataclass
class Explanation:
    query: str
    rows: list[RowExplanation]
    accounts: list[dict]  # every account of the person(s), issued or not from these rows
    staff_account: dict | None = None
    # user_id -> what other apps add (register_explain_detail), e.g. the Google sync state.
    details: dict = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return bool(self.rows or self.accounts)

    def text(self, lang: str = "id") -> str:
        if not self.found:
            return message("not_found", lang, query=self.query)
        lines = []
        if self.staff_account:
            lines.append(message("staff_account", lang, **self.staff_account))
        for row in self.rows:
            s = row.sekolah
            head = f"{row.nama} — {s['npsn']} {s['nama']} ({s['bentuk_pendidikan']})"
            lines.append(head)
            with translation.override("en" if lang == "en" else "id"):
                src = translation.gettext(FILE_LABEL).format(file=row.file, record_id=row.record_id)
            if row.import_run:
                src += f", import #{row.import_run['id']} {row.import_run['source']}"
            lines.append(f"  [{src}]")
            d = row.decision
            lines.append(
                "  "
                + message(
                    d.code, lang, rule=d.rule, jenjang=d.jenjang, **d.params, **_row_extra(row)
                )
            )
            for code, params in row.notes:
                lines.append("  " + message(code, lang, **params))
        for user_id, details in self.details.items():
            for d in details:
                lines.append(f"  {user_id}: {d.text(lang)}")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {
            "query": self.query,
            "found": self.found,
            "staff_account": self.staff_account,
            "accounts": self.accounts,
            "details": {u: [d.as_dict() for d in ds] for u, ds in self.details.items()},
            "rows": [
                {
                    "file": r.file,
                    "record_id": r.record_id,
                    "nama": r.nama,
                    "sekolah": r.sekolah,
                    "import_run": r.import_run,
                    "eligible": r.decision.eligible,
                    "code": r.decision.code,
                    "params": r.decision.params,
                    "rule": r.decision.rule,
                    "jenjang": r.decision.jenjang,
                    "role": r.decision.role,
                    "subdomain": r.decision.subdomain,
                    "account": r.account,
                    "notes": [{"code": c, "params": p} for c, p in r.notes],
                }
                for r in self.rows
            ],
        }


def _row_extra(row: RowExplanation) -> dict:
    return {"departed_at": row.sekolah.get("record_departed_at", "")}


def _account_dict(a: Account) -> dict:
    return {
        "user_id": a.user_id,
        "state": a.state,
        "jenjang": a.jenjang,
        "role": a.role,
        "subdomain": a.subdomain,
        "issued_at": a.issued_at.date().isoformat() if a.issued_at else "",
        "npsn": a.sekolah.npsn if a.sekolah_id and a.sekolah else "",
    }


def _school(sekolah: Sekolah | None, departed_at) -> dict:
    base = {
        "record_departed_at": departed_at.date().isoformat() if departed_at else "",
    }
    if sekolah is None:
        return {**base, "npsn": "?", "nama": "?", "bentuk_pendidikan": "?", "departed": True}
    return {
        **base,
        "sekolah_id": str(sekolah.sekolah_id),
        "npsn": sekolah.npsn,
        "nama": sekolah.nama,
        "bentuk_pendidikan": sekolah.bentuk_pendidikan,
        "departed": sekolah.departed_at is not None,
    }


def _import_run(run_id) -> dict:
    run = ImportRun.objects.filter(pk=run_id).first() if run_id else None
    return {"id": run.pk, "source": run.source} if run else {}


def _accounts_of(person_type: str, person_ids) -> list[Account]:
    return list(
        Account.objects.filter(person_type=person_type, person_id__in=list(person_ids))
        .exclude(state=Account.State.DELETED)
        .select_related("sekolah")
        .order_by("jenjang", "issued_at")
    )


def _explain_students(students: list[PesertaDidik]) -> tuple[list[RowExplanation], list]:
    accounts = _accounts_of("peserta_didik", [p.pk for p in students])
    by_key = {(a.person_id, a.jenjang): a for a in accounts}
    rows = []
    for pd in students:
        sekolah = Sekolah.objects.filter(pk=pd.sekolah_id).first()
        d = elig.student_decision(
            form=sekolah.bentuk_pendidikan if sekolah else "",
            program=pd.program,
            grade=pd.tingkat_pendidikan,
            departed=pd.departed_at is not None,
            school_departed=sekolah is None or sekolah.departed_at is not None,
        )
        row = RowExplanation(
            file="peserta_didik.csv",
            record_id=str(pd.pk),
            nama=pd.nama,
            sekolah=_school(sekolah, pd.departed_at),
            import_run=_import_run(pd.changed_run_id),
            decision=d,
        )
        if d.eligible:
            acc = by_key.get((pd.pk, d.jenjang))
            if acc:
                row.account = _account_dict(acc)
                row.notes.append(("has_account", row.account))
            else:
                row.notes.append(("no_account_yet", {"jenjang": d.jenjang}))
        rows.append(row)
    return rows, [_account_dict(a) for a in accounts]


def _explain_ptk(assignments: list[Ptk]) -> tuple[list[RowExplanation], list]:
    accounts = _accounts_of("ptk", {p.ptk_id for p in assignments})
    by_key = {(a.person_id, a.jenjang): a for a in accounts}
    schools = {s.pk: s for s in Sekolah.objects.filter(pk__in=[p.sekolah_id for p in assignments])}
    elig_rows = []
    for p in assignments:
        s = schools.get(p.sekolah_id)
        elig_rows.append(
            elig.PtkRow(
                ptk_id=p.ptk_id,
                sekolah_id=p.sekolah_id,
                npsn=s.npsn if s else "",
                form=s.bentuk_pendidikan if s else "",
                jenis_ptk=p.jenis_ptk,
                operator_sekolah=p.operator_sekolah,
                ptk_induk=p.ptk_induk,
                departed=p.departed_at is not None,
                school_departed=s is None or s.departed_at is not None,
            )
        )
    chosen = elig.choose_ptk_accounts(elig_rows)
    rows = []
    for p, er in zip(assignments, elig_rows, strict=True):
        s = schools.get(p.sekolah_id)
        d = elig.ptk_row_decision(
            form=er.form,
            jenis_ptk=er.jenis_ptk,
            operator_sekolah=er.operator_sekolah,
            departed=er.departed,
            school_departed=er.school_departed,
        )
        row = RowExplanation(
            file="ptk.csv",
            record_id=f"{p.ptk_id} / sekolah {p.sekolah_id}",
            nama=p.nama,
            sekolah=_school(s, p.departed_at),
            import_run=_import_run(p.changed_run_id),
            decision=d,
        )
        if d.eligible:
            role, sekolah_id, _level = chosen[(p.ptk_id, d.jenjang)]
            acc = by_key.get((p.ptk_id, d.jenjang))
            if acc:
                row.account = _account_dict(acc)
                if acc.sekolah_id == p.sekolah_id:
                    row.notes.append(("has_account", row.account))
                else:
                    row.notes.append(
                        (
                            "account_elsewhere",
                            {"jenjang": d.jenjang, "chosen_npsn": acc.sekolah.npsn},
                        )
                    )
                    row.notes.append(("has_account", row.account))
            elif sekolah_id != p.sekolah_id:
                npsn = schools[sekolah_id].npsn if sekolah_id in schools else "?"
                row.notes.append(("account_elsewhere", {"jenjang": d.jenjang, "chosen_npsn": npsn}))
            else:
                row.notes.append(("no_account_yet", {"jenjang": d.jenjang}))
        rows.append(row)
    return rows, [_account_dict(a) for a in accounts]


def explain(*, nisn: str = "", nik: str = "", ptk_id: str = "", user_id: str = "") -> Explanation:
    query = nisn or nik and "NIK ****" or ptk_id or user_id
    rows: list[RowExplanation] = []
    accounts: list[dict] = []
    staff = None
    students: list[PesertaDidik] = []
    assignments: list[Ptk] = []
    if nisn:
        students = list(PesertaDidik.objects.filter(nisn=nisn.strip()))
    elif nik:
        h = roster_api.nik_hash(nik.strip())
        students = list(PesertaDidik.objects.filter(nik_hash=h))
        # Every assignment of the people with that NIK, not only the rows that carry it.
        ptk_ids = Ptk.objects.filter(nik_hash=h).values("ptk_id")
        assignments = list(Ptk.objects.filter(ptk_id__in=ptk_ids))
    elif ptk_id:
        assignments = list(Ptk.objects.filter(ptk_id=ptk_id.strip()))
    elif user_id:
        acc = Account.objects.filter(user_id=user_id.strip().lower()).first()
        if acc and acc.person_type == "peserta_didik":
            students = list(PesertaDidik.objects.filter(pk=acc.person_id))
        elif acc and acc.person_type == "ptk":
            assignments = list(Ptk.objects.filter(ptk_id=acc.person_id))
        elif acc:
            staff = {"user_id": acc.user_id, "state": acc.state}
        if acc and not (students or assignments):
            accounts = [_account_dict(acc)]
    if students:
        r, a = _explain_students(students)
        rows += r
        accounts += a
    if assignments:
        assignments.sort(key=lambda p: (not p.ptk_induk, str(p.sekolah_id)))
        r, a = _explain_ptk(assignments)
        rows += r
        accounts += a
    user_ids = [a["user_id"] for a in accounts] + ([staff["user_id"]] if staff else [])
    return Explanation(
        query=query,
        rows=rows,
        accounts=accounts,
        staff_account=staff,
        details=_details(list(dict.fromkeys(user_ids))),
    )
