"""Issue 12.3: who may reset whose password, enforced on the server for the page, the POST and
the CLI (`akun admins reset-password`).

- a student: the school operator (or head) may reset;
- a teacher: the operator may reset; the teacher is told on their contacts, old sessions die;
- the head and the operators: only a regional admin whose region covers the school, with a
  reason, which the audit log keeps; they are told too.
"""

import datetime as dt
import json
import re
import uuid

import pytest
from django.core import mail
from django.test import Client

from akun.accounts.api import get_initial_password
from akun.accounts.models import Account
from akun.audit.models import AuditEvent
from akun.core.sms import sms_outbox_path
from akun.roster.models import Ptk
from tests import builders
from tests import portal_support as ps

pytestmark = pytest.mark.django_db

NPSN = "20100001"
REASON = "Kepala sekolah lupa kata sandi; tiket helpdesk #4512, identitas dicek lewat telepon"


def _staff(sekolah, local, nama, *, kepala=False):
    """A head of school (kepala) or another school operator: role tenaga_kependidikan."""
    pid = uuid.uuid4()
    builders.ptk(
        sekolah,
        "Kepala Sekolah" if kepala else "Guru Kelas",
        ptk_id=pid,
        nama=nama,
        operator=not kepala,
        tanggal_lahir=dt.date(1980, 5, 6),
    )
    acc = builders.account(local, "ptk", pid, "tenaga_kependidikan", sekolah, nama, state="active")
    acc.jenjang = "SD"
    acc.save(update_fields=["jenjang"])
    return acc


@pytest.fixture
def world(settings, tmp_path):
    settings.VAR_DIR = tmp_path  # the SMS outbox
    a = builders.school(NPSN, kode_wilayah="320412", nama="SD NEGERI 1 CIBODAS")
    builders.school(
        "33010001", kode_wilayah="330101", nama="SD NEGERI 1 CILACAP", kab="Kab. Cilacap"
    )
    op = builders.operator(a)
    teacher = builders.teacher(a)
    teacher.recovery_email = "guru.satu@gmail.com"
    teacher.recovery_email_verified_at = teacher.issued_at
    teacher.recovery_phone = "081234567890"
    teacher.recovery_phone_verified_at = teacher.issued_at
    teacher.save()
    Ptk.objects.filter(ptk_id=teacher.person_id).update(email="guru1@sekolah.sch.id")
    return {
        "a": a,
        "op": op,
        "student": builders.student(a, "Budi Santoso", "budisantoso12", state="active"),
        "teacher": teacher,
        "head": _staff(a, "kepalasatu", "Kepala Satu", kepala=True),
        "op2": _staff(a, "operatordua", "Operator Dua"),
        "dinas": ps.dinas("3204", nama="Admin Dinas Bandung"),
        "far_dinas": ps.dinas("3301", nama="Admin Dinas Cilacap"),
    }


def _url(account):
    return f"/operator/sekolah/{NPSN}/akun/{account.pk}"


def _signed_in(world, who):
    client = Client()
    ps.sign_in(client, world[who])
    return client


def _password_of(response) -> str | None:
    m = re.search(r'id="new-password">([^<]+)<', response.content.decode())
    return m.group(1) if m else None


def _unchanged(account) -> bool:
    before = account.password
    account.refresh_from_db()
    return account.state == "active" and account.password == before


def _reissues(account):
    return AuditEvent.objects.filter(action="accounts.reissue", object_id=account.user_id)


@pytest.mark.parametrize(
    ("who", "target", "allowed"),
    [
        ("op", "student", True),
        ("op", "teacher", True),
        ("op", "head", False),
        ("op", "op2", False),
        ("op", "op", False),  # not even oneself: the head's and operators' rule
        ("dinas", "student", True),
        ("dinas", "teacher", True),
        ("dinas", "head", True),
        ("dinas", "op", True),
    ],
)
def test_who_may_reset_whom_on_the_page_and_the_post(world, who, target, allowed):
    client = _signed_in(world, who)
    account = world[target]
    staff = target in ("head", "op", "op2")
    page = client.get(_url(account)).content.decode()
    assert ('id="reset"' in page) == allowed
    assert ('name="reason"' in page) == (allowed and staff)
    data = {"confirm": "on", "reason": REASON}
    r = client.post(_url(account) + "/reset", data)
    if not allowed:
        assert r.status_code == 403
        assert _unchanged(account) and not _reissues(account).exists()
        assert "dinas" in r.content.decode()  # says who can
        return
    assert r.status_code == 200
    password = _password_of(r)
    account.refresh_from_db()
    assert account.state == "issued" and get_initial_password(account) == password
    event = _reissues(account).get()
    assert event.actor == world[who].user_id
    if staff:
        assert REASON in event.reason


@pytest.mark.parametrize(
    ("reason", "error"),
    [
        ("", "alasan"),
        ("   \t ", "alasan"),
        ("lupa\x00", "nul"),  # the form says null; the request filter NUL
        ("x" * 501, "500"),
    ],
)
def test_a_staff_reset_needs_a_reason(world, reason, error):
    client = _signed_in(world, "dinas")
    head = world["head"]
    r = client.post(_url(head) + "/reset", {"confirm": "on", "reason": reason})
    assert r.status_code in (200, 302, 400)
    assert _password_of(r) is None
    body = (r.content + client.get(_url(head)).content).decode().lower()
    assert error in body
    assert _unchanged(head) and not _reissues(head).exists()


def test_a_regional_admin_of_another_region_gets_404(world):
    client = _signed_in(world, "far_dinas")
    head = world["head"]
    assert client.get(_url(head)).status_code == 404
    assert (
        client.post(_url(head) + "/reset", {"confirm": "on", "reason": REASON}).status_code == 404
    )
    assert _unchanged(head)


def test_a_teacher_reset_notifies_the_teacher_on_their_contacts(
    world, django_capture_on_commit_callbacks
):
    teacher = world["teacher"]
    client = _signed_in(world, "op")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as sent_on_commit:
        r = client.post(_url(teacher) + "/reset", {"confirm": "on"})
    assert sent_on_commit  # after the reset is committed, not before
    password = _password_of(r)
    assert password
    to = sorted(a for m in mail.outbox for a in m.to)
    assert to == sorted(["guru.satu@gmail.com", "guru1@sekolah.sch.id", teacher.user_id])
    sms = [json.loads(line) for line in sms_outbox_path().read_text().splitlines()]
    assert [s["to"] for s in sms] == ["081234567890"]
    for text in [m.subject + m.body for m in mail.outbox] + [s["text"] for s in sms]:
        assert password not in text
        assert "Operator Sekolah" in text  # who did it
    body = mail.outbox[0].body
    assert "direset" in body and "was reset" in body  # Indonesian first, then English
    assert teacher.user_id in body and "SD NEGERI 1 CIBODAS" in body


def test_a_head_reset_by_the_regional_admin_notifies_the_head(
    world, django_capture_on_commit_callbacks
):
    head = world["head"]
    Ptk.objects.filter(ptk_id=head.person_id).update(email="kepala1@sekolah.sch.id")
    client = _signed_in(world, "dinas")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(_url(head) + "/reset", {"confirm": "on", "reason": REASON})
    password = _password_of(r)
    assert password
    to = sorted(a for m in mail.outbox for a in m.to)
    assert to == sorted(["kepala1@sekolah.sch.id", head.user_id])
    body = mail.outbox[0].body
    assert "Admin Dinas Bandung" in body and password not in body


def test_a_student_reset_sends_no_notice(world, django_capture_on_commit_callbacks):
    client = _signed_in(world, "op")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(_url(world["student"]) + "/reset", {"confirm": "on"})
    assert _password_of(r)
    assert mail.outbox == [] and not sms_outbox_path().exists()


def test_a_teacher_reset_ends_the_teachers_sessions(world):
    teacher = world["teacher"]
    teacher_client = Client()
    r = teacher_client.post("/masuk", {"user_id": teacher.user_id, "password": builders.PASSWORD})
    assert r.status_code == 302
    assert teacher_client.get("/akun-saya").status_code == 200
    r = _signed_in(world, "op").post(_url(teacher) + "/reset", {"confirm": "on"})
    assert _password_of(r)
    r = teacher_client.get("/akun-saya")
    assert r.status_code == 302 and r["Location"].startswith("/masuk")


@pytest.mark.django_db(transaction=True)
def test_the_cli_applies_the_same_policy(world, run_akun, tmp_path):
    head, student, op, dinas = world["head"], world["student"], world["op"], world["dinas"]

    def reset(user_id, *args):
        env = {"AKUN_VAR_DIR": str(tmp_path)}  # the SMS outbox
        return run_akun("admins", "reset-password", user_id, *args, env=env)

    r = reset(head.user_id, "--by", op.user_id, "--reason", REASON)
    assert r.returncode != 0 and "regional admin" in r.stderr
    assert _unchanged(head)
    r = reset(head.user_id, "--by", dinas.user_id)
    assert r.returncode != 0 and "--reason" in r.stderr
    r = reset(head.user_id, "--by", world["far_dinas"].user_id, "--reason", REASON)
    assert r.returncode != 0 and "outside" in r.stderr
    r = reset(head.user_id, "--by", "nobody@dinas.belajar.test", "--reason", REASON)
    assert r.returncode != 0 and "nobody@dinas.belajar.test" in r.stderr
    assert _unchanged(head) and not _reissues(head).exists()

    r = reset(head.user_id, "--by", dinas.user_id, "--reason", REASON)
    assert r.returncode == 0, r.stderr
    head.refresh_from_db()
    assert head.state == "issued" and get_initial_password(head) in r.stdout
    event = _reissues(head).get()
    assert event.actor == dinas.user_id and REASON in event.reason

    r = reset(student.user_id, "--by", op.user_id)
    assert r.returncode == 0, r.stderr
    student.refresh_from_db()
    assert student.state == "issued" and get_initial_password(student) in r.stdout
    assert not sms_outbox_path().exists()

    teacher = world["teacher"]
    r = reset(teacher.user_id, "--by", op.user_id)
    assert r.returncode == 0, r.stderr
    assert Account.objects.get(pk=teacher.pk).state == "issued"
    [sms] = [json.loads(line) for line in sms_outbox_path().read_text().splitlines()]
    assert sms["to"] == "081234567890" and "Operator Sekolah" in sms["text"]
