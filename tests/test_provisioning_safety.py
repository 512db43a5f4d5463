"""Provisioning when things go wrong, against the Google stand-in: quota refusals and 5xx
backed off per call, a connection dropped mid-batch, kill -9 mid-batch then resume (no
duplicate, nothing lost), the shared rate budget, the safety stop, reconcile."""

import pytest
from django.db import connection

from akun.accounts import api as accounts
from akun.accounts.api import run_consumers
from akun.accounts.models import Account
from akun.audit.models import AuditEvent
from akun.provisioning import api as provisioning
from akun.provisioning.engine import Engine
from akun.provisioning.google import GoogleClient
from akun.provisioning.models import Provisioned, Target
from akun.provisioning.quota import Bucket
from akun.provisioning.reconcile import reconcile
from tests.provisioning_support import add_target, row, school_with_accounts, users_at

pytestmark = pytest.mark.django_db

NAMES = ("Ani Lestari", "Budi Santoso", "Citra", "Dedi Kurnia", "Eka Putri", "Fajar")


def sync(target, **kw):
    run_consumers()
    return Engine(target, **kw).run(once=True)


def test_quota_refusals_are_backed_off_per_call_with_jitter(google_standin, tmp_path):
    sd, accs = school_with_accounts(NAMES)
    target = add_target(google_standin, tmp_path)
    run_consumers()
    slept = []
    client = GoogleClient(target, sleep=slept.append)
    client.ensure_schema()  # so that the faults fall on the users' batch
    client.ensure_org_units({"/Akun/32 Jawa Barat/3204 Kab. Bandung/20104321/siswa",
                             "/Akun/32 Jawa Barat/3204 Kab. Bandung/20104321/guru"})  # fmt: skip
    google_standin.set_faults("quota=next:3,backend=next:2")
    r = Engine(target, client=client).run(once=True)
    assert r.synced == len(accs) and r.failed == 0 and r.waiting == 0
    stats = google_standin.stats()
    assert stats["faults_fired"] == {"quota": 3, "backend": 2}
    assert client.refused == 3
    # Exponential with jitter: attempt k waits between base*2^k/2 and base*2^k.
    base = 0.01
    assert len(slept) == 1 and base / 2 <= slept[0] <= base  # one batch, one round of retries
    assert google_standin.stats()["batches"] >= 2
    assert len(users_at(google_standin)) == len(accs)


def test_quota_that_does_not_clear_leaves_the_rows_waiting_with_a_reason(google_standin, tmp_path):
    sd, accs = school_with_accounts(NAMES[:2])
    target = add_target(google_standin, tmp_path)
    run_consumers()
    google_standin.set_faults("quota=1.0")
    r = Engine(target, client=GoogleClient(target, sleep=lambda s: None)).run(once=True)
    assert r.waiting >= 1 and r.synced == 0
    p = Provisioned.objects.filter(target=target).exclude(reason="queued").first()
    assert p.state == "pending" and p.reason == "quota" and p.not_before is not None
    status = provisioning.sync_status_of(p.account_id)[0]
    assert status.text.startswith("menunggu kuota")
    google_standin.set_faults(None)
    assert sync(target).rows == 0  # its backoff is not over: nothing hammers the target
    assert provisioning.do_retry_sync(actor="test") == len(accs)
    assert sync(target).synced == len(accs)


def test_a_connection_dropped_mid_batch_is_sent_again_without_duplicates(google_standin, tmp_path):
    sd, accs = school_with_accounts(NAMES)
    target = add_target(google_standin, tmp_path, batch_calls=3)
    run_consumers()
    google_standin.set_faults("drop_mid=next:1,drop_after=next:1")
    r = Engine(target, client=GoogleClient(target, sleep=lambda s: None)).run(once=True)
    assert r.synced == len(accs) and r.failed == 0
    users = users_at(google_standin)
    assert sorted(users) == sorted(a.user_id for a in accs)
    for a in accs:
        assert row(a).remote_id == users[a.user_id]["id"]


@pytest.mark.django_db(transaction=True)
def test_kill_9_mid_batch_then_resume_no_duplicate_nothing_lost(google_standin, tmp_path, run_akun):
    sd, accs = school_with_accounts([f"Siswa Nomor {c}" for c in "ABCDEFGHIJKLMNOPQRST"])
    add_target(google_standin, tmp_path, batch_calls=4)
    killed = run_akun(
        "provision", "run", "--once", hook=("kill-provision-after-requests", "2"), timeout=120
    )
    assert killed.returncode == -9, killed.stderr[-2000:]
    created = google_standin.stats()["users"]
    assert created == 8  # two batches of 4 done at the target; Akun recorded none of them
    assert not Provisioned.objects.filter(state="synced").exists()
    resumed = run_akun("provision", "run", "--once", timeout=120)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    users = users_at(google_standin)
    assert sorted(users) == sorted(a.user_id for a in accs)  # one each, none missing
    for a in accs:
        p = row(a)
        assert p.state == "synced" and p.remote_id == users[a.user_id]["id"]
    stats = google_standin.stats()
    # Those created before the kill were found (409), adopted and patched: never twice.
    assert stats["by_method"].get("directory.users.get") == created
    assert stats["by_method"].get("directory.users.insert") == len(accs) + created


@pytest.mark.parametrize("use_redis", [False, True])
def test_the_rate_budget_is_shared_by_every_worker(use_redis, settings):
    url = "redis://127.0.0.1:6379/3" if use_redis else ""
    a = Bucket("shared-test", 600, redis_url=url)  # 9.8 calls a second
    b = Bucket("shared-test", 600, redis_url=url)
    a.reset()
    got_a, _ = a._try(100)
    assert got_a == 0  # a new bucket starts empty: no burst past the quota
    import time

    time.sleep(0.5)
    got_a, _ = a._try(100)
    got_b, _ = b._try(100)
    # Half a second of refill, taken by the first; the second finds the bucket empty.
    assert 3 <= got_a <= 6 and got_b <= 1
    start = time.monotonic()
    assert a.take(10) == 10 and b.take(10) == 10
    assert time.monotonic() - start >= 1.5  # 20 calls at 9.8 a second
    a.penalise(1.0)
    assert b._try(5)[0] == 0  # refused for quota: everyone waits
    a.reset()


def test_safety_stop_holds_the_target_until_an_admin_releases_it(
    google_standin, tmp_path, settings
):
    settings.AKUN_PROVISION_SAFETY_MIN = 1
    settings.AKUN_PROVISION_MAX_SHARE = 0.3
    sd, accs = school_with_accounts(NAMES)
    target = add_target(google_standin, tmp_path)
    sync(target)
    victims = [a for a in accs if a.role == "peserta_didik"][:3]  # 3 of 7: over 30%
    for a in victims:
        accounts.do_suspend_account(a, actor="test", reason="uji")
    fresh = Account.objects.get(pk=[a for a in accs if a not in victims][0].pk)
    accounts.do_suspend_account(fresh, actor="test", reason="uji")  # a 4th
    r = sync(target)
    assert r.held and r.rows == 0
    target.refresh_from_db()
    assert "4 akun" in target.held_reason and target.held_at is not None
    assert AuditEvent.objects.filter(action="provisioning.hold").count() == 1
    assert all(not google_standin.stored_user(a.user_id)["suspended"] for a in victims)
    assert sync(target).held  # still held: nothing goes, not even other changes
    assert provisioning.do_release_target("google", actor="cli:kepala") == 4
    assert AuditEvent.objects.filter(action="provisioning.release", actor="cli:kepala").exists()
    r = sync(target)
    assert r.suspended == 4 and not r.held
    assert all(google_standin.stored_user(a.user_id)["suspended"] for a in victims)
    sync(target)  # the next run's check finds none waiting: the allowance is used up
    assert Target.objects.get(pk="google").allowed_removals == 0


def test_reconcile_reports_drift_and_fix_corrects_it(google_standin, tmp_path):
    sd, accs = school_with_accounts(NAMES)
    target = add_target(google_standin, tmp_path)
    sync(target)
    directory = google_standin.directory()
    ani = next(a for a in accs if a.nama == "Ani Lestari")
    budi = next(a for a in accs if a.nama == "Budi Santoso")
    directory.users().patch(userKey=ani.user_id, body={"name": {"givenName": "Anu"}}).execute()
    directory.users().delete(userKey=budi.user_id).execute()
    assert google_standin.seed([
        {"primaryEmail": "penyusup1@sd.belajar.test", "password": "rahasia-sekolah",
         "name": {"givenName": "Pe", "familyName": "Nyusup"},
         "orgUnitPath": "/Akun/32 Jawa Barat"},
        {"primaryEmail": "tu@belajar.test", "password": "rahasia-sekolah",
         "name": {"givenName": "Tata", "familyName": "Usaha"}, "orgUnitPath": "/Staf"},
    ])["failed"] == []  # fmt: skip
    outsider = google_standin.stored_user("tu@belajar.test")
    d = reconcile(target)
    assert (d.missing, d.extra, d.differ) == (1, 1, 1)
    assert d.unmanaged == 1 and d.listed == len(accs)
    assert d.samples["missing"] == [budi.user_id]
    assert d.samples["extra"] == ["penyusup1@sd.belajar.test"]
    assert d.samples["differ"] == [f"{ani.user_id}: name"]
    assert not AuditEvent.objects.filter(action="provisioning.reconcile_fix").exists()
    d = reconcile(target, fix=True)
    assert d.fixed_queued == 2 and d.fixed_suspended == 1
    assert google_standin.stored_user("penyusup1@sd.belajar.test")["suspended"] is True
    sync(target)
    assert google_standin.stored_user(ani.user_id)["name"]["givenName"] == "Ani"
    assert google_standin.stored_user(budi.user_id) is not None
    d = reconcile(target)
    assert (d.missing, d.differ) == (0, 0)
    assert d.extra == 1  # suspended, never deleted
    assert google_standin.stored_user("tu@belajar.test") == outsider  # never touched
    assert AuditEvent.objects.filter(action="provisioning.reconcile_fix").count() == 1


def test_personal_fields_leave_only_when_the_setting_says(google_standin, tmp_path, settings):
    settings.AKUN_PROVISION_PERSONAL_FIELDS = ["nisn"]
    sd, accs = school_with_accounts(("Ani Lestari",), teacher="")
    target = add_target(google_standin, tmp_path)
    sync(target)
    u = google_standin.stored_user(accs[0].user_id)
    from akun.roster.api import PesertaDidik

    nisn = PesertaDidik.objects.get(peserta_didik_id=accs[0].person_id).nisn
    assert u["customSchemas"]["Akun"]["nisn"] == nisn
    assert "tanggal_lahir" not in u["customSchemas"]["Akun"]
    assert connection.vendor in ("sqlite", "postgresql")
