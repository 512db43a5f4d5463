"""Deletion notices by SMS to a verified recovery phone, through identity's sender
(akun.identity.api.send_sms): once each, Indonesian then English, and the phone forgotten
with the account."""

import datetime as dt
import json

import pytest

from akun.core import clock
from akun.identity import actions as identity_actions
from akun.identity import api as identity_api
from akun.lifecycle import api as lifecycle_api
from akun.lifecycle.models import DeletionSchedule, Notice
from tests import builders
from tests.lifecycle_support import at

pytestmark = pytest.mark.django_db

SENT: list[tuple[str, str]] = []


class Collect:
    def send(self, to, text):
        SENT.append((to, text))


class Broken:
    def send(self, to, text):
        raise ConnectionError("gateway down")


@pytest.fixture
def sms(lifecycle_settings):
    SENT.clear()
    lifecycle_settings.AKUN_SMS_SENDER = "tests.test_lifecycle_sms.Collect"
    return SENT


def scheduled(account, reason="departed"):
    return DeletionSchedule.objects.create(
        account_id=account.pk,
        reason=reason,
        created_at=clock.now(),
        suspended=False,
        prior_state="active",
    )


def test_notice_and_reminders_go_by_sms_once_to_a_verified_phone(sms):
    clock.freeze(at("2025-03-01"))
    school = builders.school()
    verified = builders.staff(school)
    identity_actions.do_set_recovery_contact(verified, "phone", "081234567890", actor="self")
    unverified = builders.staff(
        school, nama="Budi Santoso", local_part="budisantoso", email="b@x.id"
    )
    type(unverified).objects.filter(pk=unverified.pk).update(recovery_phone="081299998888")
    ds = scheduled(verified)
    scheduled(unverified)

    lifecycle_api.send_notices(actor="test")
    assert [to for to, _ in sms] == ["081234567890"]
    text = sms[0][1]
    ds.refresh_from_db()
    assert ds.delete_on == dt.date(2025, 3, 31)
    assert text.index("DIHAPUS pada 31 Maret 2025") < text.index("DELETED on 31 March 2025")
    assert "Pindahkan data" in text and "Move your data" in text
    assert verified.user_id in text and "PENGINGAT" not in text
    n = Notice.objects.get(recipient="sms")
    assert n.kind == "notice" and n.sent_at is not None and n.address == "081234567890"

    # Twice, or late: nothing new.
    lifecycle_api.send_notices(actor="test")
    assert len(sms) == 1

    clock.freeze(at("2025-03-28"))  # 3 days before
    lifecycle_api.send_notices(actor="test")
    assert len(sms) == 2 and sms[1][1].startswith("PENGINGAT:") and "REMINDER:" in sms[1][1]
    lifecycle_api.send_notices(actor="test")
    assert len(sms) == 2

    clock.freeze(at("2025-03-31"))
    lifecycle_api.run_deletions(actor="test")
    assert set(Notice.objects.filter(recipient="sms").values_list("address", flat=True)) == {""}


def test_a_failed_sms_is_not_marked_sent(sms, lifecycle_settings):
    clock.freeze(at("2025-03-01"))
    teacher = builders.staff(builders.school())
    identity_actions.do_set_recovery_contact(teacher, "phone", "081234567890", actor="self")
    scheduled(teacher, reason="inactive")
    lifecycle_settings.AKUN_SMS_SENDER = "tests.test_lifecycle_sms.Broken"
    lifecycle_api.send_notices(actor="test")
    n = Notice.objects.get(recipient="sms")
    assert n.sent_at is None and n.claimed_at is not None
    # The e-mail went (to the account) regardless.
    assert Notice.objects.get(recipient="account").sent_at is not None
    # After the claim goes stale, the working sender delivers it, once.
    lifecycle_settings.AKUN_SMS_SENDER = "tests.test_lifecycle_sms.Collect"
    clock.freeze(at("2025-03-01", 14))
    lifecycle_api.send_notices(actor="test")
    lifecycle_api.send_notices(actor="test")
    assert [to for to, _ in sms] == ["081234567890"]
    assert "tidak dipakai" in sms[0][1] and "Sign in once to cancel" in sms[0][1]


def test_identity_api_send_sms_default_file_outbox(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    if hasattr(settings, "AKUN_SMS_SENDER"):
        del settings.AKUN_SMS_SENDER
    identity_api.send_sms("081234567890", "halo")
    line = json.loads(identity_api.sms_outbox_path().read_text().splitlines()[-1])
    assert line["to"] == "081234567890" and line["text"] == "halo"
