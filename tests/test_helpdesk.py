"""Butuh Bantuan: each category's answer from the account's state (and what it never
reveals), report numbers, look-up, queues by region, escalation, every agent action's audit
row, the operator filing for a student, statistics and hostile input."""

import json
import re

import pytest
from django.core import mail
from django.test import Client

from akun.audit.models import AuditEvent
from akun.core import clock
from akun.core.sms import sms_outbox_path
from akun.helpdesk import actions, limits, numbers
from akun.helpdesk.models import Message, Report, RosterCorrection, SelfAnswer
from akun.identity import throttle
from akun.provisioning.models import Provisioned, Target
from tests import builders
from tests import helpdesk_support as hs
from tests import portal_support as ps

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _outbox(settings, tmp_path):
    settings.VAR_DIR = tmp_path  # the SMS outbox


@pytest.fixture
def w():
    return hs.world()


def _sms():
    path = sms_outbox_path()
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _ask(client, who, category, **details):
    return client.post("/bantuan/", {"step": "answer", "who": who, "category": category, **details})


def _answer_text(response) -> str:
    html = response.content.decode()
    m = re.search(r'<div class="card" id="help-answer">(.*?)<form', html, re.S)
    assert m, html[-2000:]
    return re.sub(r"\s+", " ", m.group(1))


STUDENT = {"npsn": "20400001", "tanggal_lahir": "2013-01-02"}


# --- Answers before filing --------------------------------------------------------------------


def test_account_issued_is_answered_with_how_to_activate(w):
    r = _ask(Client(), "student", "account", nama="Siti Nurhaliza", **STUDENT)
    text = _answer_text(r)
    assert "sitinurhaliza7@sd.belajar.test" in text
    assert "belum diaktifkan" in text and "kata sandi awal" in text
    assert "tidak terkunci" in text
    sa = SelfAnswer.objects.get()
    assert sa.outcome == "state_issued" and sa.kode_wilayah == "320412" and sa.report is None


def test_account_deactivated_at_the_deadline_says_how_to_reactivate(w):
    text = _answer_text(_ask(Client(), "student", "account", nama="Dewi Lestari", **STUDENT))
    assert "dewilestari2@sd.belajar.test" in text
    assert "dinonaktifkan" in text and "mengaktifkannya kembali" in text


def test_no_account_gets_the_eligibility_explanation(w):
    from tests import builders

    builders.peserta_didik(w["a"], grade=4, nama="Rina Wati", tanggal_lahir=hs.DOB)
    text = _answer_text(_ask(Client(), "student", "account", nama="Rina Wati", **STUDENT))
    assert "kelas 4" in text  # accounts.explain: grade 4 is not eligible yet
    assert SelfAnswer.objects.get().outcome == "no_account"


def test_no_proof_reveals_nothing(w):
    """A wrong birth date: the same answer as for nobody at all; no user ID, no state."""
    r = _ask(
        Client(),
        "student",
        "account",
        nama="Siti Nurhaliza",
        npsn="20400001",
        tanggal_lahir="2013-01-03",
    )
    text = _answer_text(r)
    r2 = _ask(
        Client(),
        "student",
        "account",
        nama="Tidak Ada Orang",
        npsn="20400001",
        tanggal_lahir="2013-01-03",
    )
    assert text == _answer_text(r2)
    assert "sitinurhaliza7" not in r.content.decode()
    # A user ID typed without proof gets only its lock, exactly as an unknown one does.
    r3 = _ask(Client(), "other", "account", user_id="sitinurhaliza7@sd.belajar.test")
    r4 = _ask(Client(), "other", "account", user_id="takada99@sd.belajar.test")
    t3, t4 = _answer_text(r3), _answer_text(r4)
    assert t3.replace("sitinurhaliza7", "X") == t4.replace("takada99", "X")
    assert "belum diaktifkan" not in t3


def test_lock_state_in_minutes(w):
    uid = w["active"].user_id
    for _ in range(throttle.ACCOUNT.lock_after):
        throttle.fail([(throttle.account_key(uid), throttle.ACCOUNT)])
    clock.freeze(clock.now() + clock.dt.timedelta(minutes=3))
    text = _answer_text(_ask(Client(), "student", "account", nama="Budi Santoso", **STUDENT))
    assert "terkunci 12 menit lagi" in text
    # The same lock for an unknown user ID typed by anyone: nothing told about existence.
    for _ in range(throttle.ACCOUNT.lock_after):
        throttle.fail([(throttle.account_key("takada99@sd.belajar.test"), throttle.ACCOUNT)])
    text = _answer_text(_ask(Client(), "other", "other", user_id="takada99@sd.belajar.test"))
    assert "terkunci 15 menit lagi" in text


def test_google_sync_state_and_reason(w):
    text = _answer_text(_ask(Client(), "student", "google", nama="Budi Santoso", **STUDENT))
    assert "tidak dijadwalkan ke Google Workspace" in text
    t = Target.objects.create(name="google", kind="google", created_at=clock.now())
    Provisioned.objects.create(
        target=t,
        account_id=w["active"].pk,
        state="failed",
        reason="name_rejected",
        changed_at=clock.now(),
    )
    text = _answer_text(_ask(Client(), "student", "google", nama="Budi Santoso", **STUDENT))
    assert "Google Workspace: belum tersinkron: nama ditolak Google" in text


def test_lms_answer_for_active_and_issued(w):
    text = _answer_text(_ask(Client(), "student", "lms", nama="Budi Santoso", **STUDENT))
    assert "rombel" in text
    text = _answer_text(_ask(Client(), "student", "lms", nama="Siti Nurhaliza", **STUDENT))
    assert "Aktifkan akun Anda dulu" in text


def test_other_service_gets_a_canned_answer_and_the_report_is_closed(
    w, django_capture_on_commit_callbacks
):
    c = Client()
    r = _ask(c, "student", "other_service", service="pip")
    assert "pip.kemdikbud.go.id" in _answer_text(r)
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(
            "/bantuan/",
            {
                "step": "file",
                "who": "student",
                "category": "other_service",
                "service": "pip",
                "nama": "Siti",
                "contact_email": "s@x.id",
                "description": "beasiswa saya",
            },
        )
    report = Report.objects.get()
    assert report.state == "closed" and report.first_answer_at is not None
    assert any("pip.kemdikbud.go.id" in m.body for m in mail.outbox)
    assert report.display_number in r.content.decode()


def test_signed_in_person_is_answered_about_their_own_account(w):
    c = Client()
    c.post("/masuk", {"user_id": w["active"].user_id, "password": builders.PASSWORD})
    r = c.get("/akun-saya")
    assert 'href="/bantuan/"' in r.content.decode()
    text = _answer_text(_ask(c, "student", "account"))
    assert "budisantoso3@sd.belajar.test" in text and "aktif" in text


def test_helped_files_nothing_and_counts_as_answered_before_filing(w):
    c = Client()
    _ask(c, "student", "account", nama="Budi Santoso", **STUDENT)
    r = c.post("/bantuan/terjawab")
    assert r.status_code == 200 and not Report.objects.exists()
    from akun.helpdesk import stats

    assert stats.figures("3204").answered_before_filing == 1.0


def test_butuh_bantuan_link_on_public_pages():
    for path in ("/masuk", "/cek-akun", "/reset-kata-sandi", "/bantuan/lacak"):
        assert 'id="butuh-bantuan" href' in Client().get(path).content.decode() or (
            'href="/bantuan/" id="butuh-bantuan"' in Client().get(path).content.decode()
        )


# --- Filing and the number -------------------------------------------------------------------


def _file(c, email="siti.n@gmail.com", phone=""):
    _ask(c, "student", "account", nama="Siti Nurhaliza", **STUDENT)
    return c.post(
        "/bantuan/",
        {
            "step": "file",
            "who": "student",
            "category": "account",
            "nama": "Siti Nurhaliza",
            **STUDENT,
            "contact_email": email,
            "contact_phone": phone,
            "description": "Tidak bisa masuk",
        },
    )


def test_filing_after_the_answer_gives_a_number_by_email(w, django_capture_on_commit_callbacks):
    c = Client()
    with django_capture_on_commit_callbacks(execute=True):
        r = _file(c)
    report = Report.objects.get()
    assert numbers.is_valid(report.number)
    assert report.display_number in r.content.decode()
    assert report.account_id == w["issued"].pk and report.verified == "roster"
    assert report.kode_wilayah == "320412" and report.level == "regency"
    assert SelfAnswer.objects.get().report == report
    (m,) = mail.outbox
    assert report.display_number in m.subject and report.display_number in m.body
    assert (
        m.extra_headers["Message-ID"]
        == report.messages.get(kind="system", message_id__isnull=False).message_id
    )
    assert AuditEvent.objects.filter(
        action="helpdesk.file_report", object_id=report.number, kode_wilayah="320412"
    ).exists()


def test_filing_with_a_phone_only_sends_the_number_by_sms(w, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _file(Client(), email="", phone="+62 812-3456-7890")
    report = Report.objects.get()
    (sms,) = _sms()
    assert sms["to"] == "081234567890" and report.display_number in sms["text"]


def test_filing_without_the_answer_in_the_session_is_refused(w):
    r = Client().post(
        "/bantuan/",
        {
            "step": "file",
            "who": "student",
            "category": "account",
            "nama": "X",
            **STUDENT,
            "contact_email": "a@b.id",
            "description": "x",
        },
    )
    assert r.status_code == 200 and not Report.objects.exists()


def test_numbers_are_unique_checked_and_sayable():
    drawn = {numbers.new_number() for _ in range(20000)}
    assert len(drawn) == 20000 and all(numbers.is_valid(n) for n in drawn)
    n = next(iter(drawn))
    for i in range(8):  # every single wrong symbol is caught
        for c in numbers.ALPHABET:
            if c != n[i]:
                assert not numbers.is_valid(n[:i] + c + n[i + 1 :])
    for i in range(7):  # every swap of two different neighbours too
        if n[i] != n[i + 1]:
            assert not numbers.is_valid(n[:i] + n[i + 1] + n[i] + n[i + 2 :])
    assert numbers.parse(f"#{n[:4].lower()}-{n[4:]}") == n
    assert numbers.parse(f" {n[:4]} {n[4:]} ") == n
    for bad in ("", "#0000-0000", "X" * 41, n[:7], "\x00" + n):
        assert numbers.parse(bad) == ""
    assert not set("01ILOU") & set(numbers.ALPHABET)


def test_a_taken_number_is_drawn_again(w, monkeypatch):
    first = hs.report_for(w["issued"])
    drawn = iter([first.number, first.number, numbers.new_number()])
    monkeypatch.setattr(numbers, "new_number", lambda: next(drawn))
    second = hs.report_for(w["active"])
    assert second.number != first.number and Report.objects.count() == 2


def test_lookup_by_number_and_contact(w):
    report = hs.report_for(w["issued"], phone="081234567890")
    c = Client()
    r = c.post(
        "/bantuan/lacak", {"number": report.display_number.lower(), "contact": "SITI.N@gmail.com"}
    )
    assert r.status_code == 302 and r["Location"].endswith(f"/lacak/{report.number}")
    page = c.get(r["Location"]).content.decode()
    assert "Saya tidak bisa masuk." in page
    # The phone works too; a wrong contact or number is one answer.
    c2 = Client()
    assert (
        c2.post(
            "/bantuan/lacak", {"number": report.number, "contact": "0812-3456-7890"}
        ).status_code
        == 302
    )
    other = Client()
    bad1 = other.post("/bantuan/lacak", {"number": report.number, "contact": "x@y.id"})
    n = numbers.new_number()
    bad2 = other.post("/bantuan/lacak", {"number": n, "contact": "siti.n@gmail.com"})
    assert bad1.status_code == bad2.status_code == 200
    assert bad1.content.decode().count("alert bad") == 1
    # The tracking page is only for a session that looked it up.
    assert other.get(f"/bantuan/lacak/{report.number}").status_code == 302


def test_lookup_is_rate_limited_per_number(w):
    report = hs.report_for(w["issued"])
    for i in range(limits.LOOKUP_PER_NUMBER.count):
        c = Client(REMOTE_ADDR=f"10.0.0.{i + 1}")
        assert (
            c.post("/bantuan/lacak", {"number": report.number, "contact": "x@y.id"}).status_code
            == 200
        )
    c = Client(REMOTE_ADDR="10.0.1.1")
    r = c.post("/bantuan/lacak", {"number": report.number, "contact": "siti.n@gmail.com"})
    assert r.status_code == 429


def test_filing_is_rate_limited_per_contact(w):
    for i in range(limits.FILE_PER_CONTACT.count):
        assert Client(REMOTE_ADDR=f"10.0.0.{i + 1}").post("/bantuan/") is not None
        _file(Client(REMOTE_ADDR=f"10.0.0.{i + 1}"))
    assert Report.objects.count() == limits.FILE_PER_CONTACT.count
    r = _file(Client(REMOTE_ADDR="10.0.9.9"))
    assert r.status_code == 429 and Report.objects.count() == limits.FILE_PER_CONTACT.count


def test_person_adds_to_the_report_from_the_tracking_page(w):
    report = hs.report_for(w["issued"])
    actions.do_set_state(report, "waiting_person", by=hs.agent("3204"))
    c = Client()
    c.post("/bantuan/lacak", {"number": report.number, "contact": "siti.n@gmail.com"})
    r = c.post(f"/bantuan/lacak/{report.number}", {"body": "Sudah saya coba lagi."})
    assert r.status_code == 302
    report.refresh_from_db()
    assert report.state == "new" and report.messages.filter(body="Sudah saya coba lagi.").exists()


# --- Agents: scoping, escalation, actions -----------------------------------------------------


def _agent_client(account):
    c = Client()
    ps.sign_in(c, account)
    return c


def test_queue_scoping_by_region(w):
    mine = hs.report_for(w["issued"])
    theirs = hs.report_for(w["other"], email="agus@x.id")
    a3204 = hs.agent("3204", nama="Agen Bandung")
    c = _agent_client(a3204)
    assert c.get(f"/bantuan/agen/laporan/{mine.number}").status_code == 200
    assert c.get(f"/bantuan/agen/laporan/{theirs.number}").status_code == 404
    queue = c.get("/bantuan/agen/").content.decode()
    assert mine.display_number in queue and theirs.display_number not in queue
    with pytest.raises(actions.HelpdeskError):
        actions.do_reply(theirs, "halo", by=a3204)
    national = hs.agent("nasional", nama="Agen Pusat")
    cn = _agent_client(national)
    assert cn.get(f"/bantuan/agen/laporan/{theirs.number}").status_code == 200
    # A dinas admin without the helpdesk role has no desk.
    plain = ps.dinas("3204", nama="Admin Biasa")
    assert _agent_client(plain).get("/bantuan/agen/").status_code == 403
    # Anonymous: to the sign-in page.
    assert Client().get(f"/bantuan/agen/laporan/{mine.number}").status_code == 302


def test_escalation_regency_province_nation(w):
    report = hs.report_for(w["issued"])
    regency, province = hs.agent("3204", nama="Agen Kab"), hs.agent("32", nama="Agen Prov")
    national = hs.agent("nasional", nama="Agen Nas")
    in_queue = lambda a: Report.objects.filter(  # noqa: E731
        hs.actions.agents.desk_of(a).queue(), pk=report.pk
    ).exists()
    assert in_queue(regency) and not in_queue(province) and not in_queue(national)
    actions.do_escalate(report, by=regency, reason="butuh data provinsi")
    report.refresh_from_db()
    assert report.level == "province" and in_queue(province) and not in_queue(regency)
    actions.do_escalate(report, by=province, reason="kasus nasional")
    report.refresh_from_db()
    assert report.level == "national" and in_queue(national) and not in_queue(province)
    with pytest.raises(actions.HelpdeskError):
        actions.do_escalate(report, by=national, reason="lagi")
    rows = AuditEvent.objects.filter(action="helpdesk.escalate", object_id=report.number)
    assert [(r.before, r.after) for r in rows.order_by("id")] == [
        ({"level": "regency"}, {"level": "province"}),
        ({"level": "province"}, {"level": "national"}),
    ]


def _audited(report, action, actor):
    return AuditEvent.objects.filter(
        action=action, object_id=report.number, actor=actor, npsn=report.npsn
    ).count()


def test_each_agent_action_through_the_report_screen_writes_its_audit_row(
    w, django_capture_on_commit_callbacks
):
    report = hs.report_for(w["issued"], verified="")
    agent = hs.agent("3204")
    helper = hs.agent("3204", nama="Agen Dua")
    c = _agent_client(agent)
    url = f"/bantuan/agen/laporan/{report.number}"
    page = c.get(url).content.decode()
    assert (
        "S*** N***" in page
        and "00******78" in page
        and "Siti Nurhaliza"
        not in page.split('id="report-facts"')[1].split("</dl>")[0].replace(report.nama, "")
    )
    steps = [
        ({"action": "note", "note-body": "cek dulu"}, "helpdesk.note"),
        ({"action": "assign", "assign-user_id": helper.user_id}, "helpdesk.assign"),
        ({"action": "state", "state-state": "waiting_school"}, "helpdesk.set_state"),
        (
            {"action": "verify", "verify-how": "telepon balik ke nomor sekolah"},
            "helpdesk.verify_person",
        ),
        ({"action": "resend"}, "helpdesk.resend_activation"),
        ({"action": "reset", "reset-reason": "lupa kata sandi awal"}, "helpdesk.reset_password"),
        (
            {
                "action": "correction",
                "correction-field": "nama",
                "correction-proposed": "Siti N.",
                "correction-note": "",
            },
            "helpdesk.roster_correction",
        ),
        (
            {
                "action": "reply",
                "reply-canned": "activate",
                "reply-body": "",
                "reply-state": "waiting_person",
            },
            "helpdesk.reply",
        ),
        ({"action": "link", "link-user_id": w["active"].user_id}, "helpdesk.link_account"),
    ]
    for data, action in steps:
        with django_capture_on_commit_callbacks(execute=True):
            r = c.post(url, data)
        assert r.status_code == 302, (action, r.content[:300])
        assert _audited(report, action, agent.user_id) == 1, action
    report.refresh_from_db()
    assert report.assigned_to_id == helper.pk and report.first_answer_at is not None
    assert report.state == "waiting_person" and report.account_id == w["active"].pk
    # Linking another account masks again until verified.
    assert report.verified == ""
    # The reset went through the portal's policy: the account is issued with a new password,
    # audited by accounts' reissue too.
    w["issued"].refresh_from_db()
    assert w["issued"].state == "issued"
    assert AuditEvent.objects.filter(
        action="accounts.reissue", object_id=w["issued"].user_id, actor=agent.user_id
    ).exists()
    # Retrying a sync: the linked account's failed Google row goes out again, first in line.
    target = Target.objects.create(name="google", kind="google", created_at=clock.now())
    row = Provisioned.objects.create(
        target=target, account_id=w["active"].pk, state="failed", reason="quota",
        priority=Provisioned.Priority.FILL, not_before=clock.now(), changed_at=clock.now(),
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(url, {"action": "retry"})
    assert r.status_code == 302
    assert _audited(report, "helpdesk.retry_sync", agent.user_id) == 1
    row.refresh_from_db()
    assert row.state == "pending" and row.priority == Provisioned.Priority.URGENT
    # The canned reply went to the person, threaded after the confirmation.
    reply = [m for m in mail.outbox if "slip" in m.body][-1]
    assert reply.extra_headers["In-Reply-To"]
    assert reply.to == ["siti.n@gmail.com"] and report.display_number in reply.subject


def test_actions_on_unverified_person_are_refused(w):
    report = hs.report_for(w["issued"], verified="")
    agent = hs.agent("3204")
    for act in (actions.do_resend_activation,):
        with pytest.raises(actions.HelpdeskError):
            act(report, by=agent)
    with pytest.raises(actions.HelpdeskError):
        actions.do_reset_password(report, by=agent, reason="x")


def test_operator_files_for_a_student_who_is_told_by_sms(w, django_capture_on_commit_callbacks):
    c = _agent_client(w["op"])
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(
            "/bantuan/agen/lapor-untuk-siswa",
            {
                "nisn": "0012345678",
                "category": "account",
                "phone": "0812 1111 2222",
                "description": "Siswa lupa kata sandi awal",
            },
        )
    report = Report.objects.get()
    assert r.status_code == 302 and r["Location"].endswith(report.number)
    assert report.filed_by == w["op"].user_id and report.verified == "school"
    assert report.account_id == w["issued"].pk and not report.contact_email
    (sms,) = _sms()
    assert sms["to"] == "081211112222" and report.display_number in sms["text"]
    assert AuditEvent.objects.filter(
        action="helpdesk.file_report", actor=w["op"].user_id, npsn="20400001"
    ).exists()
    # The operator sees it (without the agents' internal notes); another school's does not.
    agent = hs.agent("3204")
    actions.do_add_note(report, "catatan internal agen", by=agent)
    page = c.get(f"/bantuan/agen/laporan/{report.number}").content.decode()
    assert "Siswa lupa kata sandi awal" in page and "catatan internal agen" not in page
    assert _agent_client(w["op_b"]).get(f"/bantuan/agen/laporan/{report.number}").status_code == 404
    # A NISN of another school is refused.
    r = c.post(
        "/bantuan/agen/lapor-untuk-siswa",
        {"nisn": "0087654321", "category": "account", "phone": "081211112222", "description": "x"},
    )
    assert r.status_code == 200 and Report.objects.count() == 1
    # The agent's reply reaches the student by SMS.
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_reply(report, "Kata sandi baru ada pada operator.", by=agent)
    assert "Kata sandi baru ada pada operator." in _sms()[-1]["text"]


def test_operator_marks_a_roster_correction_done(w):
    report = hs.report_for(w["issued"])
    agent = hs.agent("3204")
    correction = actions.do_file_roster_correction(
        report, by=agent, field="tanggal_lahir", proposed="2013-02-01"
    )
    report.refresh_from_db()
    assert report.state == "waiting_school"
    c = _agent_client(w["op"])
    assert "tanggal_lahir" in c.get(f"/bantuan/agen/laporan/{report.number}").content.decode()
    # Agent-only actions are forbidden to the operator.
    r = c.post(f"/bantuan/agen/laporan/{report.number}", {"action": "note", "note-body": "x"})
    assert r.status_code == 403
    r = c.post(
        f"/bantuan/agen/laporan/{report.number}", {"action": "done", "correction": correction.pk}
    )
    assert r.status_code == 302
    correction.refresh_from_db()
    report.refresh_from_db()
    assert correction.done_by == w["op"].user_id and report.state == "new"
    assert _audited(report, "helpdesk.roster_correction_done", w["op"].user_id) == 1
    assert RosterCorrection.objects.count() == 1


def test_grant_is_delegated_within_ones_region(w):
    province = hs.agent("32", nama="Agen Prov")
    fresh = ps.dinas("3301", nama="Admin Cilacap")
    with pytest.raises(actions.HelpdeskError):
        actions.do_grant_agent(fresh, region="3301", actor=province.user_id, granted_by=province)
    other = ps.dinas("3204", nama="Admin Bandung")
    actions.do_grant_agent(other, region="3204", actor=province.user_id, granted_by=province)
    with pytest.raises(actions.HelpdeskError):  # a student account cannot be an agent
        actions.do_grant_agent(w["active"], region="3204", actor="cli")


@pytest.mark.django_db(transaction=True)
def test_grant_cli(w, run_akun):
    admin = ps.dinas("3204", nama="Admin Baru")
    r = run_akun("helpdesk", "grant", admin.user_id, "--region", "3204")
    assert r.returncode == 0, r.stderr
    from akun.helpdesk.models import Agent

    assert Agent.objects.filter(account=admin, kode_wilayah="3204").exists()


# --- Statistics -------------------------------------------------------------------------------


def test_statistics_page_and_svg_charts(w):
    agent = hs.agent("3204")
    r1 = hs.report_for(w["issued"])
    hs.report_for(w["active"], email="budi@x.id", category="google")
    hs.report_for(w["other"], email="agus@x.id")
    clock.freeze(clock.now() + clock.dt.timedelta(hours=2))
    actions.do_reply(r1, "jawaban", by=agent)
    for filed in (r1, None):
        sa = actions.do_record_self_answer(
            who="student", category="account", kode_wilayah="320412", outcome="state_active"
        )
        SelfAnswer.objects.filter(pk=sa.pk).update(report=filed)
    c = _agent_client(agent)
    page = c.get("/bantuan/agen/statistik/3204").content.decode()
    assert page.count("<svg") == 4
    assert re.search(r'id="stat-reports">2<', page)  # 3301's report is not counted
    assert 'id="stat-first-answer">2,0' in page or 'id="stat-first-answer">2.0' in page
    assert 'id="stat-before-filing">50%' in page  # one of two answers was not filed
    assert c.get("/bantuan/agen/statistik/3301").status_code == 404
    svg = c.get("/bantuan/statistik/3204/kategori.svg")
    assert svg["Content-Type"].startswith("image/svg+xml") and b"<rect" in svg.content
    # The portal's regional page shows them to the region's admins.
    admin = ps.dinas("3204", nama="Admin Dinas")
    ca = _agent_client(admin)
    assert (
        "/bantuan/statistik/3204/kategori.svg" in ca.get("/operator/wilayah/3204/").content.decode()
    )
    assert ca.get("/bantuan/statistik/3204/minggu.svg").status_code == 200
    assert ca.get("/bantuan/statistik/3301/minggu.svg").status_code == 404
    assert Client().get("/bantuan/statistik/3204/minggu.svg").status_code == 403


# --- Hostile input ----------------------------------------------------------------------------


def test_hostile_form_input(w):
    c = Client()
    r = c.post(
        "/bantuan/",
        {"step": "answer", "who": "student", "category": "account", "nama": "Siti\x00", **STUDENT},
    )
    assert r.status_code == 400
    r = c.generic(
        "POST",
        "/bantuan/",
        b"step=answer&who=student&category=account&nama=%ff%fe",
        content_type="application/x-www-form-urlencoded",
    )
    assert r.status_code == 400
    r = c.post("/bantuan/", {"step": "answer", "who": "<script>", "category": "account"})
    assert r.status_code == 200 and "<script>" not in r.content.decode()
    _ask(c, "student", "account", nama="Siti Nurhaliza", **STUDENT)
    r = c.post(
        "/bantuan/",
        {
            "step": "file",
            "who": "student",
            "category": "account",
            "nama": "Siti Nurhaliza",
            **STUDENT,
            "contact_email": "a@b.id",
            "description": "x" * 4001,
        },
    )
    assert r.status_code in (200, 400) and not Report.objects.exists()
    r = c.post(
        "/bantuan/",
        {
            "step": "file",
            "who": "student",
            "category": "account",
            "nama": "<b>Siti</b>",
            **STUDENT,
            "contact_email": "not-an-email",
            "description": "x",
        },
    )
    assert not Report.objects.exists()
    r = c.post("/bantuan/lacak", {"number": "#" + "Z" * 30, "contact": "a@b.id"})
    assert r.status_code == 200
    assert c.get("/bantuan/lacak/ZZZZZZZZ").status_code == 302


def test_markup_in_a_report_is_shown_as_text(w):
    report = hs.report_for(w["issued"], description='<img src=x onerror="alert(1)">')
    c = _agent_client(hs.agent("3204"))
    page = c.get(f"/bantuan/agen/laporan/{report.number}").content.decode()
    assert "<img src=x" not in page and "&lt;img src=x" in page
    assert Message.objects.filter(report=report, kind="person").exists()


def test_the_screen_shows_how_the_account_looks_to_learning_platforms(w):
    """OneRoster visibility on the agent's screen: not listed before the projection has the
    account; then its status, class and enrollments, and which platforms see its school (a
    platform granted another school or province is not named)."""
    from akun.oneroster import project
    from tests.oneroster_support import platform

    report = hs.report_for(w["active"])
    c = _agent_client(hs.agent("3204"))
    url = f"/bantuan/agen/laporan/{report.number}"

    def line():
        page = c.get(url).content.decode()
        m = re.search(r'<dd class="oneroster">(.*?)</dd>', page, re.S)
        assert m, page[-2000:]
        return re.sub(r"\s+", " ", m.group(1))

    assert "tidak tercantum" in line()  # Indonesian, the default
    project.refresh()
    text = line()
    assert "active" in text and "student" in text and "1 keanggotaan kelas" in text
    assert "belum ada platform pembelajaran" in text
    platform(["20400001"], name="Rumah Belajar")
    platform(["32"], name="Kelas Jabar")
    platform(["33"], name="LMS Jateng")
    platform(["20400002"], name="LMS Cilacap")
    text = line()
    assert "terlihat oleh Kelas Jabar, Rumah Belajar" in text
    assert "Jateng" not in text and "Cilacap" not in text
