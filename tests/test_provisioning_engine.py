"""The provisioning engine against the Google stand-in (standins/google), through the
product's own client (google-auth, google-api-python-client): the lifecycle mapping, what is
sent, batches, priorities, 409 adoption and refusal, unmanaged users untouched, retry."""

import pytest
from django.db import connection

from akun.accounts import api as accounts
from akun.accounts.api import run_consumers
from akun.accounts.models import Account
from akun.audit.models import AuditEvent
from akun.provisioning import api as provisioning
from akun.provisioning.engine import Engine
from akun.provisioning.models import Provisioned
from tests import builders as roster
from tests.provisioning_support import add_target, row, school_with_accounts, users_at

pytestmark = pytest.mark.django_db


def by_name(accs, nama):
    return next(a for a in accs if a.nama == nama)


def sync(target, **kw):
    run_consumers()
    return Engine(target, **kw).run(once=True)


def test_issued_accounts_are_created_with_the_fields_docs_promise(google_standin, tmp_path):
    sd, accs = school_with_accounts(("Ani Lestari", "Sukarno"))
    target = add_target(google_standin, tmp_path)
    r = sync(target)
    assert r.synced == 3 and r.failed == 0
    users = users_at(google_standin)
    assert set(users) == {a.user_id for a in accs}
    ani = next(a for a in accs if a.nama == "Ani Lestari")
    u = users[ani.user_id]
    assert u["name"]["givenName"] == "Ani" and u["name"]["familyName"] == "Lestari"
    assert u["orgUnitPath"] == "/Akun/32 Jawa Barat/3204 Kab. Bandung/20104321/siswa"
    assert u["includeInGlobalAddressList"] is False  # a student: hidden from the GAL
    assert u["suspended"] is False
    schema = u["customSchemas"]["Akun"]
    assert schema["role"] == "peserta_didik" and schema["npsn"] == "20104321"
    assert schema["jenjang"] == ani.jenjang and schema["kode_wilayah"] == "320412"
    assert schema["akun_id"] == str(ani.pk)
    assert "nisn" not in schema and "tanggal_lahir" not in schema
    # One-word name: Google wants both parts.
    sukarno = next(a for a in accs if a.nama == "Sukarno")
    assert users[sukarno.user_id]["name"] == {
        **users[sukarno.user_id]["name"],
        "givenName": "Sukarno",
        "familyName": "Sukarno",
    }
    teacher = next(a for a in accs if a.role == "pendidik")
    assert users[teacher.user_id]["includeInGlobalAddressList"] is True
    assert users[teacher.user_id]["orgUnitPath"].endswith("/20104321/guru")
    p = row(ani)
    assert p.state == "synced" and p.remote_state == "active"
    assert p.remote_id == u["id"] and p.last_synced_at is not None
    assert provisioning.sync_status_of(ani.pk)[0].state == "synced"
    assert AuditEvent.objects.filter(action="provisioning.sync").exists()


def test_lifecycle_mapping_suspend_unsuspend_move_delete(google_standin, tmp_path):
    sd, accs = school_with_accounts()
    target = add_target(google_standin, tmp_path)
    sync(target)
    ani, budi = by_name(accs, "Ani Lestari"), by_name(accs, "Budi Santoso")
    accounts.do_suspend_account(ani, actor="test", reason="uji")
    assert row(ani).state == "synced"  # the consumer has not run yet
    sync(target)
    assert google_standin.stored_user(ani.user_id)["suspended"] is True
    assert row(ani).state == "suspended" and row(ani).remote_state == "suspended"
    accounts.do_unsuspend_account(Account.objects.get(pk=ani.pk), actor="test", reason="uji")
    sync(target)
    assert google_standin.stored_user(ani.user_id)["suspended"] is False
    assert row(ani).state == "synced"
    # Moved to another school (another regency): the org unit and the fields follow.
    smp = roster.sekolah("SD", npsn="20209999", kode_wilayah="327301", kab="Kota Bandung")
    sid = str(smp.sekolah_id) if connection.vendor == "postgresql" else smp.sekolah_id.hex
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE prov_move AS SELECT %s AS account_id, "
            + ("CAST(%s AS uuid)" if connection.vendor == "postgresql" else "%s")
            + " AS sekolah_id, "
            "'peserta_didik' AS role, '20209999' AS npsn, '327301' AS kode_wilayah",
            [ani.pk, sid],
        )
    accounts.move_many("prov_move", actor="test")
    assert row(ani).state == "synced"
    run_consumers()
    assert row(ani).state == "pending" and row(ani).priority == 1  # CHANGE
    sync(target)
    u = google_standin.stored_user(ani.user_id)
    assert u["orgUnitPath"] == "/Akun/32 Jawa Barat/3273 Kota Bandung/20209999/siswa"
    assert u["customSchemas"]["Akun"]["npsn"] == "20209999"
    assert u["id"] == row(ani).remote_id
    # Deleted in Akun (after its grace period): deleted at Google.
    budi = Account.objects.get(pk=budi.pk)
    accounts.do_deactivate_account(budi, actor="test", reason="lulus")
    accounts.do_delete_account(Account.objects.get(pk=budi.pk), actor="test", reason="lulus")
    sync(target)
    assert google_standin.stored_user(budi.user_id) is None
    assert row(budi).state == "deleted"
    assert len(users_at(google_standin)) == len(accs) - 1


def test_unmanaged_users_are_never_touched_and_a_conflict_is_refused(google_standin, tmp_path):
    sd, accs = school_with_accounts()
    ani = by_name(accs, "Ani Lestari")
    # A user the school made by hand at Google with Ani's address, outside Akun's org units.
    assert google_standin.seed([
        {"primaryEmail": ani.user_id, "name": {"givenName": "X", "familyName": "Y"},
         "orgUnitPath": "/Guru Lama", "password": "rahasia-sekolah"},
        {"primaryEmail": "kepala@belajar.test", "name": {"givenName": "K", "familyName": "S"},
         "orgUnitPath": "/", "password": "rahasia-sekolah"},
    ])["failed"] == []  # fmt: skip
    before = google_standin.stored_user(ani.user_id)
    other = google_standin.stored_user("kepala@belajar.test")
    target = add_target(google_standin, tmp_path)
    r = sync(target)
    assert r.failed == 1
    p = row(ani)
    assert p.state == "failed" and p.reason == "conflict" and p.remote_id == ""
    assert "tidak dikelola Akun" in provisioning.sync_status_of(ani.pk)[0].text
    assert google_standin.stored_user(ani.user_id) == before  # untouched
    assert google_standin.stored_user("kepala@belajar.test") == other
    # Nothing duplicated: one user per address.
    assert len(users_at(google_standin)) == len(accs) + 1


def test_a_409_on_a_user_that_is_ours_adopts_it(google_standin, tmp_path):
    sd, accs = school_with_accounts()
    ani = by_name(accs, "Ani Lestari")
    assert google_standin.seed([
        {"primaryEmail": ani.user_id, "name": {"givenName": "Lama", "familyName": "Sekali"},
         "orgUnitPath": "/Akun/lama", "password": "rahasia-sekolah"},
    ])["failed"] == []  # fmt: skip
    old_id = google_standin.stored_user(ani.user_id)["id"]
    target = add_target(google_standin, tmp_path)
    r = sync(target)
    assert r.failed == 0 and r.synced == len(accs)
    p = row(ani)
    assert p.state == "synced" and p.remote_id == old_id
    u = google_standin.stored_user(ani.user_id)
    assert u["id"] == old_id and u["name"]["givenName"] == "Ani"
    assert u["orgUnitPath"].endswith("/20104321/siswa")
    assert len(users_at(google_standin)) == len(accs)


def test_an_activation_goes_before_the_bulk_fill(google_standin, tmp_path):
    sd, accs = school_with_accounts(("Ani Lestari", "Budi Santoso", "Citra", "Dedi", "Eka"))
    target = add_target(google_standin, tmp_path)
    late = accs[-1]
    accounts.do_suspend_account(late, actor="test", reason="uji")  # URGENT
    run_consumers()
    order = []
    engine = Engine(target, batch=2, after_send=lambda rows: order.append([r[1] for r in rows]))
    engine.run(once=True)
    assert order[0][0] == late.pk  # first batch, first row
    assert sorted(sum(order, [])) == sorted(a.pk for a in accs)


def test_name_rule():
    from akun.provisioning.desired import split_name

    assert split_name("Sukarno", "x1") == ("Sukarno", "Sukarno")
    assert split_name("Siti Nurhaliza", "x1") == ("Siti", "Nurhaliza")
    assert split_name("Muhammad Rizky Pratama", "x1") == ("Muhammad Rizky", "Pratama")
    assert split_name("  I   Made <Wira>  ", "x1") == ("I Made", "Wira")
    assert split_name("", "budi12") == ("budi12", "budi12")
    assert split_name("===", "budi12") == ("budi12", "budi12")
    given, family = split_name("A" * 70 + " " + "B" * 70, "x")
    assert len(given) == 60 and len(family) == 60


def test_retry_sends_failed_accounts_again_first(google_standin, tmp_path):
    sd, accs = school_with_accounts()
    target = add_target(google_standin, tmp_path)
    run_consumers()  # the issued events: already queued by add_target
    Provisioned.objects.filter(account_id=accs[0].pk).update(
        state="failed", reason="target_error", not_before="2100-01-01T00:00:00Z"
    )
    Provisioned.objects.exclude(account_id=accs[0].pk).update(state="synced")
    assert sync(target).rows == 0  # its backoff is not over
    n = provisioning.do_retry_sync([accs[0].pk], actor="helpdesk:test")
    assert n == 1
    assert row(accs[0]).priority == 0
    assert sync(target).synced == 1
    assert AuditEvent.objects.filter(action="provisioning.retry", actor="helpdesk:test").exists()
