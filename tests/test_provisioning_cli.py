"""`akun provision` from the console (real subprocesses against the test database and the
Google stand-in) and the background worker (`akun worker`) sending on its own."""

import json

import pytest

from akun.accounts import api as accounts
from akun.accounts.models import Account
from akun.audit.models import AuditEvent
from akun.provisioning.models import Provisioned, Target
from tests.provisioning_support import school_with_accounts, target_config, users_at

NAMES = ("Ani Lestari", "Budi Santoso", "Citra", "Dedi Kurnia", "Eka Putri", "Fajar")


@pytest.mark.django_db(transaction=True)
def test_the_console_commands(google_standin, tmp_path, run_akun):
    sd, accs = school_with_accounts(NAMES)
    config = json.dumps(target_config(google_standin, tmp_path))
    added = run_akun("provision", "add", "google", "--kind", "google", "--config", config,
                     "--actor", "ops")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert f"{len(accs)} accounts queued" in added.stdout
    audit = AuditEvent.objects.get(action="provisioning.add_target")
    assert audit.actor == "ops" and "key_file" not in json.dumps(audit.after)
    again = run_akun("provision", "add", "google", "--config", config)
    assert again.returncode != 0 and "exists already" in again.stderr
    bad = run_akun("provision", "add", "x", "--config", "[1, 2]")
    assert bad.returncode != 0 and "JSON object" in bad.stderr

    listed = run_akun("provision", "targets")
    assert "google" in listed.stdout and "belajar.test" in listed.stdout

    run = run_akun("provision", "run", "--once")
    assert run.returncode == 0, run.stderr
    assert f"google: {len(accs)} synced" in run.stdout
    assert "sent" in run.stderr  # the progress line (not a terminal: plain lines)
    assert len(users_at(google_standin)) == len(accs)

    status = run_akun("provision", "status", "--json")
    assert json.loads(status.stdout)["google"]["states"] == {"synced": len(accs)}

    Provisioned.objects.filter(account_id=accs[0].pk).update(
        state="failed", reason="name_rejected", detail="Invalid Given/Family Name"
    )
    text = run_akun("provision", "status").stdout
    assert "nama ditolak Google" in text
    retried = run_akun("provision", "retry", "--account", str(accs[0].pk), "--actor", "hd")
    assert "1 accounts queued again" in retried.stdout
    assert Provisioned.objects.get(account_id=accs[0].pk).state == "pending"

    rec = run_akun("provision", "reconcile", "--json")
    assert rec.returncode == 0, rec.stderr
    drift = json.loads(rec.stdout)
    assert (drift["missing"], drift["extra"]) == (0, 0) and drift["listed"] == len(accs)

    Target.objects.filter(pk="google").update(held_reason="uji")
    held = run_akun("provision", "run", "--once")
    assert "DITAHAN" in held.stdout and "akun provision release google" in held.stdout
    released = run_akun("provision", "release", "google", "--by", "kepala.dinas")
    assert released.returncode == 0, released.stderr
    assert Target.objects.get(pk="google").held_reason == ""
    assert AuditEvent.objects.filter(action="provisioning.release",
                                     actor="cli:kepala.dinas").exists()  # fmt: skip
    missing = run_akun("provision", "release", "nope", "--by", "x")
    assert missing.returncode != 0 and "No target" in missing.stderr


@pytest.mark.django_db(transaction=True)
def test_akun_worker_sends_on_its_own(google_standin, tmp_path, run_akun):
    """The one process a small installation runs: the change stream's consumer queues the
    work and the worker's task sends it."""
    from akun.provisioning import api as provisioning

    sd, accs = school_with_accounts(NAMES[:3])
    provisioning.do_add_target("google", "google", target_config(google_standin, tmp_path),
                               actor="test", fill=False)  # fmt: skip
    out = run_akun("worker", "--batch", timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    # The issued events became rows, the task sent them.
    assert set(users_at(google_standin)) == {a.user_id for a in accs}
    ani = Account.objects.get(pk=accs[1].pk)
    accounts.do_suspend_account(ani, actor="test", reason="uji")
    out = run_akun("worker", "--batch", timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert google_standin.stored_user(ani.user_id)["suspended"] is True
