"""Every eligibility rule, in Python and in the SQL generated from the same tables."""

import pytest
from django.db import connection

from akun.accounts import eligibility as elig
from akun.roster import vocab
from tests import builders as roster

# The ministry's rules restated independently of akun.accounts.eligibility
# (form -> program -> (grades, jenjang, subdomain)).
EXPECTED_STUDENTS = {
    "SD": {"reguler": (range(5, 7), "SD", "sd")},
    "SMP": {"reguler": (range(7, 10), "SMP", "smp")},
    "SMA": {"reguler": (range(10, 13), "SMA", "sma")},
    "SMK": {"reguler": (range(10, 14), "SMK", "smk")},
    "SLB": {"reguler": (range(5, 13), "SLB", "slb")},
    "SDLB": {"reguler": (range(5, 13), "SLB", "slb")},
    "SMPLB": {"reguler": (range(5, 13), "SLB", "slb")},
    "SMALB": {"reguler": (range(5, 13), "SLB", "slb")},
    **{
        form: {
            "paket_a": (range(5, 7), "SD", "kesetaraan"),
            "paket_b": (range(7, 10), "SMP", "kesetaraan"),
            "paket_c": (range(10, 13), "SMA", "kesetaraan"),
        }
        for form in ("PKBM", "SKB")
    },
}
EXPECTED_PTK_FORMS = {
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
ALL_FORMS = sorted(vocab.SCHOOL_FORMS)
GRADES = range(1, 14)


def expected_student(form, program, grade):
    rule = EXPECTED_STUDENTS.get(form, {}).get(program)
    if rule and grade in rule[0]:
        return rule[1], rule[2]
    return None


@pytest.mark.parametrize("form", ALL_FORMS)
@pytest.mark.parametrize("program", sorted(vocab.PROGRAMS))
def test_student_rule_every_form_program_and_grade(form, program):
    for grade in GRADES:
        d = elig.student_decision(form=form, program=program, grade=grade)
        expected = expected_student(form, program, grade)
        got = (d.jenjang, d.subdomain) if d.eligible else None
        assert got == expected, (form, program, grade, d)
        if form in vocab.SCHOOL_FORMS_EARLY_CHILDHOOD:
            assert d.code == "early_childhood"


@pytest.mark.parametrize(
    "form,program,below,first,last,above",
    [
        ("SD", "reguler", 4, 5, 6, 7),
        ("PKBM", "paket_a", 4, 5, 6, 7),
        ("SMP", "reguler", 6, 7, 9, 10),
        ("SKB", "paket_b", 6, 7, 9, 10),
        ("SMA", "reguler", 9, 10, 12, 13),
        ("PKBM", "paket_c", 9, 10, 12, 13),
        ("SMK", "reguler", 9, 10, 13, None),
        ("SLB", "reguler", 4, 5, 12, 13),
        ("SDLB", "reguler", 4, 5, 12, 13),
        ("SMPLB", "reguler", 4, 5, 12, 13),
        ("SMALB", "reguler", 4, 5, 12, 13),
    ],
)
def test_grade_boundaries(form, program, below, first, last, above):
    def ok(grade):
        return elig.student_decision(form=form, program=program, grade=grade).eligible

    assert not ok(below)
    assert elig.student_decision(form=form, program=program, grade=below).code == (
        "grade_out_of_range"
    )
    assert ok(first) and ok(last)
    if above:
        assert not ok(above)


def test_paket_counts_with_its_level_but_gets_kesetaraan():
    for program, jenjang in (("paket_a", "SD"), ("paket_b", "SMP"), ("paket_c", "SMA")):
        grade = {"paket_a": 6, "paket_b": 8, "paket_c": 11}[program]
        d = elig.student_decision(form="PKBM", program=program, grade=grade)
        assert (d.jenjang, d.subdomain, d.rule) == (jenjang, "kesetaraan", program.upper())


def test_paket_only_at_equivalency_forms_and_reguler_not_there():
    assert elig.student_decision(form="SD", program="paket_a", grade=5).code == (
        "program_not_at_form"
    )
    assert elig.student_decision(form="PKBM", program="reguler", grade=5).code == (
        "program_not_at_form"
    )


def test_departed_student_or_school_is_out():
    assert elig.student_decision(form="SD", program="reguler", grade=5, departed=True).code == (
        "departed"
    )
    d = elig.student_decision(form="SD", program="reguler", grade=5, school_departed=True)
    assert (d.eligible, d.code) == (False, "school_departed")


@pytest.mark.parametrize("form", ALL_FORMS)
@pytest.mark.parametrize("jenis_ptk", sorted(vocab.JENIS_PTK) + ["Sesuatu Lain"])
@pytest.mark.parametrize("operator", [False, True])
def test_ptk_rule_every_form_jenis_and_operator_flag(form, jenis_ptk, operator):
    d = elig.ptk_row_decision(form=form, jenis_ptk=jenis_ptk, operator_sekolah=operator)
    if form not in EXPECTED_PTK_FORMS:
        assert not d.eligible
        return
    jenjang, level = EXPECTED_PTK_FORMS[form]
    if operator or jenis_ptk == "Kepala Sekolah":
        assert (d.eligible, d.jenjang, d.subdomain) == (True, jenjang, f"admin.{level}")
    elif jenis_ptk in vocab.JENIS_PTK_PENDIDIK:
        assert (d.eligible, d.jenjang, d.subdomain) == (True, jenjang, f"guru.{level}")
    else:
        assert (d.eligible, d.code) == (False, "tendik_not_eligible")


def test_subdomain_table_covers_every_role_and_level():
    levels = {"sd", "smp", "sma", "smk", "slb", "kesetaraan"}
    assert {lvl for (_, lvl) in elig.SUBDOMAINS} == levels
    assert {elig.SUBDOMAINS[("peserta_didik", lvl)] for lvl in levels} == levels
    for lvl in levels:
        assert elig.SUBDOMAINS[("pendidik", lvl)] == f"guru.{lvl}"
        assert elig.SUBDOMAINS[("tenaga_kependidikan", lvl)] == f"admin.{lvl}"


def _build_full_roster():
    """A roster with every form x program x grade and every form x jenis_ptk x operator."""
    from akun.roster.api import PesertaDidik, Ptk, Sekolah

    schools = {form: roster.sekolah(form, save=False) for form in ALL_FORMS}
    gone = roster.sekolah("SD", departed=True, save=False)
    Sekolah.objects.bulk_create([*schools.values(), gone])
    students = [
        roster.peserta_didik(schools[f], g, program=p, save=False)
        for f in ALL_FORMS
        for p in sorted(vocab.PROGRAMS)
        for g in GRADES
    ]
    students += [
        roster.peserta_didik(schools["SD"], 5, departed=True, save=False),
        roster.peserta_didik(gone, 5, save=False),
    ]
    PesertaDidik.objects.bulk_create(students)
    rows = [
        roster.ptk(schools[f], j, operator=op, induk=True, save=False)
        for f in ALL_FORMS
        for j in sorted(vocab.JENIS_PTK)
        for op in (False, True)
    ]
    # People with several assignments.
    import uuid

    sd2 = roster.sekolah("SD", save=False)
    Sekolah.objects.bulk_create([sd2])
    a, b, c, d, e = (uuid.uuid4() for _ in range(5))
    rows += [
        roster.ptk(schools["SD"], ptk_id=a, induk=False, save=False),  # two SDs
        roster.ptk(sd2, ptk_id=a, induk=True, save=False),
        roster.ptk(schools["SD"], ptk_id=b, induk=True, save=False),  # SD and SMP
        roster.ptk(schools["SMP"], "Guru Mapel", ptk_id=b, induk=False, save=False),
        roster.ptk(schools["SD"], ptk_id=c, induk=True, save=False),  # teacher + operator
        roster.ptk(sd2, "Penjaga Sekolah", ptk_id=c, operator=True, induk=False, save=False),
        roster.ptk(schools["SD"], ptk_id=d, induk=True, departed=True, save=False),
        roster.ptk(sd2, ptk_id=d, induk=False, save=False),  # main row departed
        roster.ptk(gone, ptk_id=e, save=False),  # only at a departed school
        roster.ptk(schools["SDLB"], ptk_id=e, induk=False, save=False),  # SDLB+SMALB: one SLB
        roster.ptk(schools["SMALB"], "Kepala Sekolah", ptk_id=e, induk=False, save=False),
    ]
    Ptk.objects.bulk_create(rows)
    forms = {s.sekolah_id: s for s in [*schools.values(), gone, sd2]}
    return students, rows, forms


def _norm(value) -> str:
    return str(value).replace("-", "")


@pytest.mark.django_db
def test_python_and_sql_agree_on_a_roster_with_every_case():
    students, rows, schools = _build_full_roster()
    with connection.cursor() as cur:
        cur.execute(elig.students_sql(without_account=False))
        sql_students = {(_norm(r[0]), r[3], r[4], r[5]) for r in cur.fetchall()}
        cur.execute(elig.ptk_sql(without_account=False))
        sql_ptk = {
            (_norm(r[0]), r[6], elig.RANK_ROLE[r[5]], _norm(r[1]), r[7]) for r in cur.fetchall()
        }
    py_students = set()
    for p in students:
        s = schools[p.sekolah_id]
        d = elig.student_decision(
            form=s.bentuk_pendidikan,
            program=p.program,
            grade=p.tingkat_pendidikan,
            departed=p.departed_at is not None,
            school_departed=s.departed_at is not None,
        )
        if d.eligible:
            py_students.add((_norm(p.peserta_didik_id), d.rule, d.jenjang, d.level))
    chosen = elig.choose_ptk_accounts(
        [
            elig.PtkRow(
                ptk_id=r.ptk_id,
                sekolah_id=r.sekolah_id,
                npsn=schools[r.sekolah_id].npsn,
                form=schools[r.sekolah_id].bentuk_pendidikan,
                jenis_ptk=r.jenis_ptk,
                operator_sekolah=r.operator_sekolah,
                ptk_induk=r.ptk_induk,
                departed=r.departed_at is not None,
                school_departed=schools[r.sekolah_id].departed_at is not None,
            )
            for r in rows
        ]
    )
    py_ptk = {
        (_norm(pid), jenjang, role, _norm(sid), level)
        for (pid, jenjang), (role, sid, level) in chosen.items()
    }
    # Not trivially equal: the roster has eligible and ineligible rows of every kind.
    assert len(py_students) == sum(
        len([g for g in rule[0]]) for progs in EXPECTED_STUDENTS.values() for rule in progs.values()
    )
    assert 0 < len(py_ptk) < len(rows)
    assert sql_students == py_students
    assert sql_ptk == py_ptk
