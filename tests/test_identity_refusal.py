"""Sign-in refusals of suspended accounts: why (lifecycle's notice), the appeal, and nothing
revealed without the right password."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from akun.audit.models import AuditEvent
from akun.core import clock
from akun.identity import flow
from akun.lifecycle import api as lifecycle_api
from akun.lifecycle.models import DeletionSchedule, MisuseCase
from tests import builders

pytestmark = pytest.mark.django_db

PW = builders.PASSWORD


@pytest.fixture
def teacher():
    return builders.staff(builders.school())


def sign_in(client, user_id, password, lang="id"):
    return client.post(
        reverse("identity:signin"),
        {"user_id": user_id, "password": password},
        HTTP_ACCEPT_LANGUAGE=lang,
    )


def english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/masuk"})


def suspend(account, category="crypto_mining"):
    return lifecycle_api.do_suspend_for_misuse(
        account, category=category, evidence="server logs, 3 May", actor="admin1"
    )


def test_misuse_suspension_shows_the_category_and_takes_an_appeal(client, teacher):
    case = suspend(teacher)
    r = sign_in(client, teacher.user_id, PW)
    assert r.status_code == 200
    body = r.content.decode()
    assert 'id="suspension"' in body
    assert "Penambangan mata uang kripto" in body or "kripto" in body.lower()
    assert 'name="text"' in body and reverse("identity:appeal") in body
    assert "_auth_user_id" not in client.session  # no session: only the appeal is reachable
    assert client.get(reverse("identity:akun_saya")).status_code == 302
    assert client.get(reverse("identity:terms")).status_code == 302
    assert client.get(reverse("identity:new_password")).status_code == 302

    r = client.post(reverse("identity:appeal"), {"text": ""})
    assert r.status_code == 200 and 'name="text"' in r.content.decode()
    assert MisuseCase.objects.get(pk=case.pk).status == "suspended"

    r = client.post(reverse("identity:appeal"), {"text": "Itu bukan saya, laptop sekolah."})
    assert r.status_code == 200 and 'id="appeal-received"' in r.content.decode()
    case.refresh_from_db()
    assert case.status == "appealed" and case.appeal_text == "Itu bukan saya, laptop sekolah."
    ev = AuditEvent.objects.get(action="lifecycle.misuse_appeal", object_id=teacher.user_id)
    assert ev.actor == teacher.user_id
    # The pending marker is gone: a second post goes back to sign-in.
    assert flow.PENDING not in client.session
    assert client.post(reverse("identity:appeal"), {"text": "lagi"})["Location"] == reverse(
        "identity:signin"
    )

    # Next sign-in: the appeal is pending, no second form.
    body = sign_in(client, teacher.user_id, PW).content.decode()
    assert 'id="appeal-pending"' in body and 'name="text"' not in body


def test_misuse_notice_in_english(client, teacher):
    suspend(teacher, "copyright")
    english(client)
    body = sign_in(client, teacher.user_id, PW).content.decode()
    assert "Copyright infringement" in body
    assert "for a breach of the terms of use" in body
    assert "Send the appeal" in body


def test_misuse_notice_in_indonesian(client, teacher):
    suspend(teacher, "copyright")
    body = sign_in(client, teacher.user_id, PW).content.decode()
    with translation.override("id"):
        label = str(lifecycle_api.CATEGORIES["copyright"])
    assert label in body and label != "Copyright infringement"
    assert "Kirim banding" in body and "ketentuan penggunaan" in body


def test_wrong_password_reveals_nothing(client, teacher):
    suspend(teacher)
    r = sign_in(client, teacher.user_id, "not the password at all")
    body = r.content.decode()
    unknown = sign_in(client, "nobody@guru.belajar.test", "not the password at all")
    assert r.status_code == unknown.status_code == 200
    assert 'id="suspension"' not in body and "kripto" not in body.lower()
    assert 'name="text"' not in body
    assert flow.PENDING not in client.session

    def alert(content):
        text = content.decode()
        return text[text.index('role="alert"') :].split("</div>")[0]

    assert alert(r.content) == alert(unknown.content)
    # And the appeal page needs the password first.
    assert client.post(reverse("identity:appeal"), {"text": "x"})["Location"] == reverse(
        "identity:signin"
    )
    assert not MisuseCase.objects.filter(status="appealed").exists()


def test_deletion_path_shows_the_date_and_move_your_data(client, teacher):
    from akun.accounts.api import do_suspend_account

    do_suspend_account(teacher, actor="lifecycle", reason="departed")
    clock.freeze(clock.now())
    DeletionSchedule.objects.create(
        account_id=teacher.pk,
        reason="departed",
        created_at=clock.now(),
        suspended=True,
        prior_state="active",
        notice_at=clock.now(),
        delete_on=dt.date(2031, 8, 17),
    )
    body = sign_in(client, teacher.user_id, PW).content.decode()
    assert 'id="deletion"' in body
    assert "17 Agustus 2031" in body and "Pindahkan data" in body
    assert 'name="text"' not in body  # no appeal on the deletion path
    english(client)
    body = sign_in(client, teacher.user_id, PW).content.decode()
    assert "17 August 2031" in body and "Move your data" in body


def test_suspended_without_a_case_gets_the_plain_refusal(client, teacher):
    from akun.accounts.api import do_suspend_account

    do_suspend_account(teacher, actor="admin", reason="helpdesk")
    body = sign_in(client, teacher.user_id, PW).content.decode()
    assert 'role="alert"' in body and 'name="text"' not in body
    assert 'id="suspension"' not in body and 'id="deletion"' not in body


def test_appeal_after_decision_is_refused(client, teacher):
    suspend(teacher)
    sign_in(client, teacher.user_id, PW)
    # Meanwhile the helpdesk sent the appeal and an admin rejected it.
    lifecycle_api.do_submit_appeal(teacher, text="via helpdesk", actor="helpdesk")
    lifecycle_api.do_decide_appeal(teacher, reinstate=False, note="evidence clear", actor="a")
    r = client.post(reverse("identity:appeal"), {"text": "again"})
    assert r["Location"] == reverse("identity:signin")
    teacher.refresh_from_db()
    assert teacher.state == "deactivated"
