"""Misuse: suspension with category and evidence, what sign-in shows, appeal, decision."""

import pytest
from django.utils import translation

from akun.accounts.api import Account, TransitionNotAllowed, do_activate_account
from akun.audit.api import AuditEvent
from akun.core import clock
from akun.lifecycle import api
from tests import builders as roster
from tests.lifecycle_support import account_of, freeze, issue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lifecycle_settings")]


@pytest.fixture
def guru():
    freeze("2022-01-10")
    sma = roster.sekolah("SMA")
    p = roster.ptk(sma, "Guru Mapel", nama="Iwan Setiawan")
    issue()
    acct = account_of(p)
    do_activate_account(acct, raw_password="kuda-lari-cepat-9", actor="test")
    return Account.objects.get(pk=acct.pk)


def test_suspend_show_appeal_reinstate(guru):
    case = api.do_suspend_for_misuse(
        guru, category="crypto_mining", evidence="miner found in shared drive", actor="admin:x"
    )
    assert Account.objects.get(pk=guru.pk).state == "suspended"
    notice = api.signin_notice(Account.objects.get(pk=guru.pk))
    assert (notice.kind, notice.category, notice.can_appeal) == ("misuse", "crypto_mining", True)
    with translation.override("en"):
        assert api.signin_notice(guru).category_label == "Cryptocurrency mining"
    with translation.override("id"):
        assert api.signin_notice(guru).category_label == "Penambangan mata uang kripto"
    freeze("2022-01-11")
    api.do_submit_appeal(guru, text="It was a school project, not mining.", actor=guru.user_id)
    notice = api.signin_notice(guru)
    assert (notice.can_appeal, notice.appeal_pending) == (False, True)
    with pytest.raises(api.MisuseError):
        api.do_submit_appeal(guru, text="again", actor=guru.user_id)  # one appeal per case
    api.do_decide_appeal(guru, reinstate=True, note="checked: project", actor="admin:y")
    case.refresh_from_db()
    assert case.status == "reinstated" and case.decided_by == "admin:y"
    assert Account.objects.get(pk=guru.pk).state == "active"
    assert api.signin_notice(Account.objects.get(pk=guru.pk)) is None
    actions = list(
        AuditEvent.objects.filter(object_id=guru.user_id)
        .order_by("id")
        .values_list("action", "actor")
    )
    assert actions[-5:] == [
        ("accounts.suspend", "admin:x"),
        ("lifecycle.misuse_suspend", "admin:x"),
        ("lifecycle.misuse_appeal", guru.user_id),
        ("accounts.unsuspend", "admin:y"),
        ("lifecycle.misuse_decide", "admin:y"),
    ]
    ev = AuditEvent.objects.get(action="lifecycle.misuse_suspend")
    assert "miner found" in ev.reason and ev.after["category"] == "crypto_mining"


def test_appeal_rejected_deactivates(guru):
    api.do_suspend_for_misuse(guru, category="hate_sara", evidence="posts", actor="admin")
    with pytest.raises(api.MisuseError):
        api.do_decide_appeal(guru, reinstate=False, note="n", actor="admin")  # no appeal yet
    api.do_submit_appeal(guru, text="sorry", actor=guru.user_id)
    api.do_decide_appeal(guru, reinstate=False, note="repeated posts", actor="admin")
    assert Account.objects.get(pk=guru.pk).state == "deactivated"
    assert api.MisuseCase.objects.get().status == "deactivated"


def test_category_and_evidence_are_required(guru):
    with pytest.raises(api.MisuseError, match="unknown category"):
        api.do_suspend_for_misuse(guru, category="rude", evidence="x", actor="admin")
    with pytest.raises(api.MisuseError, match="evidence"):
        api.do_suspend_for_misuse(guru, category="commercial", evidence="  ", actor="admin")
    assert Account.objects.get(pk=guru.pk).state == "active"
    api.do_suspend_for_misuse(guru, category="commercial", evidence="ads", actor="admin")
    with pytest.raises(TransitionNotAllowed):
        api.do_suspend_for_misuse(guru, category="commercial", evidence="ads", actor="admin")
    assert api.MisuseCase.objects.count() == 1


def test_signin_notice_for_roster_suspension(guru):
    from akun.roster.api import Ptk

    Ptk.objects.filter(ptk_id=guru.person_id).update(departed_at=clock.now())
    api.roster_pass(actor="test")
    api.send_notices(actor="test")
    notice = api.signin_notice(Account.objects.get(pk=guru.pk))
    assert (notice.kind, notice.deletion_reason) == ("deletion", "departed")
    assert notice.delete_on is not None and not notice.can_appeal


@pytest.mark.django_db(transaction=True)
def test_cli_suspend_appeal_decide(guru, run_akun):
    uid = guru.user_id
    out = run_akun("lifecycle", "suspend", uid, "--category", "pornography", "--evidence", "e")
    assert out.returncode == 0, out.stderr
    bad = run_akun("lifecycle", "suspend", uid, "--category", "nope", "--evidence", "e")
    assert bad.returncode != 0 and "invalid choice" in bad.stderr
    out = run_akun("lifecycle", "decide", uid, "--reinstate", "--note", "n")
    assert out.returncode != 0 and "no appeal" in out.stderr
    assert run_akun("lifecycle", "appeal", uid, "--text", "not me").returncode == 0
    out = run_akun(
        "lifecycle", "decide", uid, "--deactivate", "--note", "confirmed", "--actor", "admin:z"
    )
    assert out.returncode == 0, out.stderr
    assert "deactivated" in out.stdout
    assert AuditEvent.objects.filter(action="lifecycle.misuse_decide", actor="admin:z").exists()
    out = run_akun("lifecycle", "reactivate", uid, "--reason", "second chance")
    assert out.returncode == 0, out.stderr
    assert "new initial password" in out.stdout
    assert Account.objects.get(pk=guru.pk).state == "issued"
