"""Who gets a learning account: the ministry's rules, owned here and only here.

The rules are tables. `student_decision` / `ptk_row_decision` / `choose_ptk_accounts` read
them in Python (for `accounts explain`, the web pages and tests); `students_sql` / `ptk_sql`
turn the same tables into SQL (VALUES lists joined to the roster) for set-based issuance.
tests/test_accounts_eligibility.py proves both give the same answer on a roster that
covers every case.

Decisions taken here (documented in docs, tested):
- Paket A/B/C students count with SD/SMP/SMA as jenjang but get the `kesetaraan` subdomain.
- A PTK at a PKBM/SKB (equivalency) gets jenjang KESETARAAN and guru.kesetaraan /
  admin.kesetaraan: the tutors of a PKBM teach Paket A, B and C together, so one account.
- SDLB, SMPLB and SMALB count as SLB.
"""

from dataclasses import dataclass, field

from django.db import connection

from akun.roster import api as roster
from akun.roster.api import (
    JENIS_PTK_KEPALA,
    JENIS_PTK_PENDIDIK,
    SCHOOL_FORMS_EARLY_CHILDHOOD,
)

# Account roles (values of Account.role).
PESERTA_DIDIK = "peserta_didik"
PENDIDIK = "pendidik"
TENAGA_KEPENDIDIKAN = "tenaga_kependidikan"  # head of school or data operator: admin.*

# The ONE role/level -> subdomain table.
SUBDOMAINS: dict[tuple[str, str], str] = {
    (PESERTA_DIDIK, "sd"): "sd",
    (PESERTA_DIDIK, "smp"): "smp",
    (PESERTA_DIDIK, "sma"): "sma",
    (PESERTA_DIDIK, "smk"): "smk",
    (PESERTA_DIDIK, "slb"): "slb",
    (PESERTA_DIDIK, "kesetaraan"): "kesetaraan",
    (PENDIDIK, "sd"): "guru.sd",
    (PENDIDIK, "smp"): "guru.smp",
    (PENDIDIK, "sma"): "guru.sma",
    (PENDIDIK, "smk"): "guru.smk",
    (PENDIDIK, "slb"): "guru.slb",
    (PENDIDIK, "kesetaraan"): "guru.kesetaraan",
    (TENAGA_KEPENDIDIKAN, "sd"): "admin.sd",
    (TENAGA_KEPENDIDIKAN, "smp"): "admin.smp",
    (TENAGA_KEPENDIDIKAN, "sma"): "admin.sma",
    (TENAGA_KEPENDIDIKAN, "smk"): "admin.smk",
    (TENAGA_KEPENDIDIKAN, "slb"): "admin.slb",
    (TENAGA_KEPENDIDIKAN, "kesetaraan"): "admin.kesetaraan",
}


@dataclass(frozen=True)
class StudentRule:
    code: str  # shown in `explain`
    forms: frozenset[str]
    program: str
    grade_min: int
    grade_max: int
    jenjang: str
    level: str  # subdomain level


_SLB_FORMS = frozenset({"SLB", "SDLB", "SMPLB", "SMALB"})
_EQUIVALENCY_FORMS = frozenset({"PKBM", "SKB"})

STUDENT_RULES: tuple[StudentRule, ...] = (
    StudentRule("SD", frozenset({"SD"}), "reguler", 5, 6, "SD", "sd"),
    StudentRule("SMP", frozenset({"SMP"}), "reguler", 7, 9, "SMP", "smp"),
    StudentRule("SMA", frozenset({"SMA"}), "reguler", 10, 12, "SMA", "sma"),
    StudentRule("SMK", frozenset({"SMK"}), "reguler", 10, 13, "SMK", "smk"),
    StudentRule("SLB", _SLB_FORMS, "reguler", 5, 12, "SLB", "slb"),
    StudentRule("PAKET_A", _EQUIVALENCY_FORMS, "paket_a", 5, 6, "SD", "kesetaraan"),
    StudentRule("PAKET_B", _EQUIVALENCY_FORMS, "paket_b", 7, 9, "SMP", "kesetaraan"),
    StudentRule("PAKET_C", _EQUIVALENCY_FORMS, "paket_c", 10, 12, "SMA", "kesetaraan"),
)

# Forms at which PTK (teachers, heads, operators) get accounts: form -> (jenjang, level).
PTK_FORMS: dict[str, tuple[str, str]] = {
    "SD": ("SD", "sd"),
    "SMP": ("SMP", "smp"),
    "SMA": ("SMA", "sma"),
    "SMK": ("SMK", "smk"),
    "SLB": ("SLB", "slb"),
    "SDLB": ("SLB", "slb"),
    "SMPLB": ("SLB", "slb"),
    "SMALB": ("SLB", "slb"),
    "PKBM": ("KESETARAAN", "kesetaraan"),
    "SKB": ("KESETARAAN", "kesetaraan"),
}

# Role rank: the highest-ranking role of a person's rows at one jenjang wins.
ROLE_RANK = {PENDIDIK: 1, TENAGA_KEPENDIDIKAN: 2}
RANK_ROLE = {rank: role for role, rank in ROLE_RANK.items()}


@dataclass
class Decision:
    """Why a roster row does or does not give an account. `code` keys the explanation text."""

    eligible: bool
    code: str
    params: dict = field(default_factory=dict)
    rule: str = ""
    jenjang: str = ""
    level: str = ""
    role: str = ""

    @property
    def subdomain(self) -> str:
        return SUBDOMAINS[(self.role, self.level)] if self.eligible else ""


def _record_gone(departed: bool, school_departed: bool) -> Decision | None:
    if departed:
        return Decision(False, "departed")
    if school_departed:
        return Decision(False, "school_departed")
    return None


def _form_out(form: str, params: dict) -> Decision:
    if form in SCHOOL_FORMS_EARLY_CHILDHOOD:
        return Decision(False, "early_childhood", params)
    return Decision(False, "form_out_of_scope", params)


def student_decision(
    *, form: str, program: str, grade: int, departed: bool = False, school_departed: bool = False
) -> Decision:
    gone = _record_gone(departed, school_departed)
    if gone:
        return gone
    params = {"form": form, "program": program, "grade": grade}
    matching_form = [r for r in STUDENT_RULES if form in r.forms]
    if not matching_form:
        return _form_out(form, params)
    for rule in matching_form:
        if rule.program == program:
            if rule.grade_min <= grade <= rule.grade_max:
                return Decision(
                    True,
                    "student_eligible",
                    {**params, "grade_min": rule.grade_min, "grade_max": rule.grade_max},
                    rule=rule.code,
                    jenjang=rule.jenjang,
                    level=rule.level,
                    role=PESERTA_DIDIK,
                )
            return Decision(
                False,
                "grade_out_of_range",
                {**params, "grade_min": rule.grade_min, "grade_max": rule.grade_max},
                rule=rule.code,
            )
    return Decision(False, "program_not_at_form", params)


def ptk_role(jenis_ptk: str, operator_sekolah: bool) -> str:
    """The account role a PTK row gives at an in-scope school ('' = none). Admin over teacher."""
    if jenis_ptk == JENIS_PTK_KEPALA or operator_sekolah:
        return TENAGA_KEPENDIDIKAN
    if jenis_ptk in JENIS_PTK_PENDIDIK:
        return PENDIDIK
    return ""


def ptk_row_decision(
    *,
    form: str,
    jenis_ptk: str,
    operator_sekolah: bool,
    departed: bool = False,
    school_departed: bool = False,
) -> Decision:
    gone = _record_gone(departed, school_departed)
    if gone:
        return gone
    params = {"form": form, "jenis_ptk": jenis_ptk}
    if form not in PTK_FORMS:
        return _form_out(form, params)
    role = ptk_role(jenis_ptk, operator_sekolah)
    if not role:
        return Decision(False, "tendik_not_eligible", params)
    jenjang, level = PTK_FORMS[form]
    code = "ptk_operator" if operator_sekolah and jenis_ptk != JENIS_PTK_KEPALA else "ptk_eligible"
    if jenis_ptk == JENIS_PTK_KEPALA:
        code = "ptk_kepala"
    return Decision(True, code, params, rule=form, jenjang=jenjang, level=level, role=role)


@dataclass(frozen=True)
class PtkRow:
    """The fields of one roster.Ptk assignment that eligibility needs."""

    ptk_id: object
    sekolah_id: object
    npsn: str
    form: str
    jenis_ptk: str
    operator_sekolah: bool
    ptk_induk: bool
    departed: bool = False
    school_departed: bool = False


def _ptk_sort_key(row: PtkRow, rank: int):
    # Same order as ptk_sql's row_number(): main school first, then the higher role, then npsn.
    return (not row.ptk_induk, -rank, row.npsn, str(row.sekolah_id))


def choose_ptk_accounts(rows: list[PtkRow]) -> dict[tuple, tuple[str, object, str]]:
    """(ptk_id, jenjang) -> (role, sekolah_id of the account, level) for one or many people.

    One account per person per jenjang: at the ptk_induk school if one of that jenjang's rows
    is the main school, with the highest role among the rows of that jenjang.
    """
    groups: dict[tuple, list[tuple[PtkRow, Decision]]] = {}
    for row in rows:
        d = ptk_row_decision(
            form=row.form,
            jenis_ptk=row.jenis_ptk,
            operator_sekolah=row.operator_sekolah,
            departed=row.departed,
            school_departed=row.school_departed,
        )
        if d.eligible:
            groups.setdefault((row.ptk_id, d.jenjang), []).append((row, d))
    chosen = {}
    for key, members in groups.items():
        top = max(ROLE_RANK[d.role] for _, d in members)
        row, d = min(members, key=lambda m: _ptk_sort_key(m[0], ROLE_RANK[m[1].role]))
        chosen[key] = (RANK_ROLE[top], row.sekolah_id, d.level)
    return chosen


# --- The same tables as SQL -------------------------------------------------------------


def _lit(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _values(rows: list[tuple]) -> str:
    return ", ".join("(" + ", ".join(_lit(v) for v in row) + ")" for row in rows)


def student_rules_cte() -> str:
    rows = [
        (form, r.program, r.grade_min, r.grade_max, r.code, r.jenjang, r.level)
        for r in STUDENT_RULES
        for form in sorted(r.forms)
    ]
    return (
        "student_rules(form, program, grade_min, grade_max, rule, jenjang, level) AS "
        f"(VALUES {_values(rows)})"
    )


def ptk_forms_cte() -> str:
    rows = [(form, jenjang, level) for form, (jenjang, level) in sorted(PTK_FORMS.items())]
    return f"ptk_forms(form, jenjang, level) AS (VALUES {_values(rows)})"


def ptk_rank_sql(alias: str = "p") -> str:
    """SQL for the role rank of a roster PTK row (0 = no account), mirroring ptk_role()."""
    pendidik = ", ".join(_lit(j) for j in sorted(JENIS_PTK_PENDIDIK))
    return (
        f"CASE WHEN {alias}.jenis_ptk = {_lit(JENIS_PTK_KEPALA)} OR {alias}.operator_sekolah "
        f"THEN {ROLE_RANK[TENAGA_KEPENDIDIKAN]} "
        f"WHEN {alias}.jenis_ptk IN ({pendidik}) THEN {ROLE_RANK[PENDIDIK]} ELSE 0 END"
    )


def _range(column: str, lo: bool, hi: bool, ids: bool = False) -> str:
    parts = []
    if lo:
        parts.append(f"{column} >= %(lo)s")
    if hi:
        parts.append(f"{column} < %(hi)s")
    if ids:
        parts.append(_among_ids(column))
    return " AND ".join(parts) or "1=1"


def _among_ids(column: str) -> str:
    """`column` is one of %(ids)s: a list of UUIDs as text (PostgreSQL: an array; SQLite,
    where Django keeps UUIDs as 32 hex digits: a JSON list of those)."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%(ids)s::uuid[])"
    return f"{column} IN (SELECT value FROM json_each(%(ids)s))"


def _no_account(person_type: str, person_col: str, jenjang_col: str) -> str:
    return (
        "NOT EXISTS (SELECT 1 FROM accounts_account a "
        f"WHERE a.person_type = '{person_type}' AND a.person_id = {person_col} "
        # Written like the partial index one_account_per_person_per_jenjang, so that SQLite's
        # planner (which matches index conditions term by term) uses it too.
        f"AND a.jenjang = {jenjang_col} AND NOT (a.state = 'deleted'))"
    )


def students_sql(
    *,
    lo: bool = False,
    hi: bool = False,
    ids: bool = False,
    without_account: bool = True,
    by_school: bool = False,
) -> str:
    """Eligible students: (peserta_didik_id, sekolah_id, nama, rule, jenjang, level).

    Optional keyset range on peserta_didik_id (%(lo)s inclusive, %(hi)s exclusive), or only
    the students of %(ids)s (with by_school: the students of the schools %(ids)s).
    """
    where = [
        "pd.departed_at IS NULL",
        _range("pd.sekolah_id" if by_school else "pd.peserta_didik_id", lo, hi, ids),
    ]
    if by_school and ids:  # the schools by their key too, not hashed whole
        where.append(_among_ids("s.sekolah_id"))
    if without_account:
        where.append(_no_account(PESERTA_DIDIK, "pd.peserta_didik_id", "r.jenjang"))
    return (
        f"WITH {student_rules_cte()} "
        "SELECT pd.peserta_didik_id, pd.sekolah_id, pd.nama, r.rule, r.jenjang, r.level "
        f"FROM {roster.peserta_didik_sql('pd')} "
        f"{roster.join_sekolah('pd.sekolah_id', left=False)} AND s.departed_at IS NULL "
        "JOIN student_rules r ON r.form = s.bentuk_pendidikan AND r.program = pd.program "
        "AND pd.tingkat_pendidikan BETWEEN r.grade_min AND r.grade_max "
        f"WHERE {' AND '.join(where)} "
        "ORDER BY pd.peserta_didik_id"
    )


def ptk_sql(
    *, lo: bool = False, hi: bool = False, ids: bool = False, without_account: bool = True
) -> str:
    """One row per eligible (ptk_id, jenjang): (ptk_id, sekolah_id, nama, gelar_depan,
    gelar_belakang, role_rank, jenjang, level), mirroring choose_ptk_accounts()."""
    outer = ["rn = 1"]
    if without_account:
        outer.append(_no_account("ptk", "ranked.ptk_id", "ranked.jenjang"))
    return (
        f"WITH {ptk_forms_cte()}, "
        "rows_ AS ("
        "SELECT p.ptk_id, p.sekolah_id, p.nama, p.gelar_depan, p.gelar_belakang, p.ptk_induk, "
        f"s.npsn, f.jenjang, f.level, {ptk_rank_sql('p')} AS role_rank "
        f"FROM {roster.ptk_sql('p')} "
        f"{roster.join_sekolah('p.sekolah_id', left=False)} AND s.departed_at IS NULL "
        "JOIN ptk_forms f ON f.form = s.bentuk_pendidikan "
        f"WHERE p.departed_at IS NULL AND {_range('p.ptk_id', lo, hi, ids)}), "
        "ranked AS ("
        "SELECT rows_.*, row_number() OVER (PARTITION BY ptk_id, jenjang "
        "ORDER BY ptk_induk DESC, role_rank DESC, npsn, sekolah_id) AS rn, "
        "max(role_rank) OVER (PARTITION BY ptk_id, jenjang) AS top_rank "
        "FROM rows_ WHERE role_rank > 0) "
        "SELECT ptk_id, sekolah_id, nama, gelar_depan, gelar_belakang, top_rank, jenjang, level "
        f"FROM ranked WHERE {' AND '.join(outer)} "
        "ORDER BY ptk_id, jenjang"
    )
