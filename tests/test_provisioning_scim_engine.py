"""A SCIM target through the provisioning engine and `akun provision`, against a real
scim2-server process: the account lifecycle, kill -9 mid-run then resume, a server without
PATCH, reconcile. (The client alone: test_provisioning_scim_client.py.)"""

import pytest
from django.db import connection

from akun.accounts import api as accounts
from akun.accounts.api import run_consumers
from akun.accounts.models import Account
from akun.provisioning import api as provisioning
from akun.provisioning.engine import Engine
from akun.provisioning.models import Provisioned
from akun.provisioning.reconcile import reconcile
from tests import builders as roster
from tests.provisioning_support import school_with_accounts
from tests.scim_server import config, scim_server

pytestmark = pytest.mark.django_db
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
TOKEN_ENV = "LMS_SCIM_TOKEN"  # the token-env name an admin would choose; not an Akun setting


@pytest.fixture
def server():
    with scim_server() as s:
        yield s


@pytest.fixture
def plain_server():
    with scim_server(config(patch=False, bulk=False)) as s:
        yield s


def add_scim_target(srv, monkeypatch, name="lms", **extra):
    monkeypatch.setenv(TOKEN_ENV, srv.token)
    provisioning.do_add_target(
        # A loaded machine (shared by many test runs) can keep scim2-server past 30 s.
        name,
        "scim",
        {"url": srv.url, "token_env": TOKEN_ENV, "timeout": 180, **extra},
        actor="test",
    )
    return name


def sync(target):
    run_consumers()
    return Engine(target).run(once=True)


def row(account, target="lms") -> Provisioned:
    return Provisioned.objects.get(target_id=target, account_id=account.pk)


def users(srv) -> dict[str, dict]:
    out = {}
    for u in srv.users():
        assert u["userName"] not in out, f"duplicate {u['userName']}"
        out[u["userName"]] = u
    return out


def members(srv, external_id) -> set[str]:
    g = next((g for g in srv.groups() if g.get("externalId") == external_id), None)
    return {m["value"] for m in (g or {}).get("members", [])}


def move(account, npsn, kode_wilayah="327301"):
    """Akun moves the account to another school (as the roster pass does)."""
    smp = roster.sekolah("SD", npsn=npsn, kode_wilayah=kode_wilayah, kab="Kota Bandung")
    sid = str(smp.sekolah_id) if connection.vendor == "postgresql" else smp.sekolah_id.hex
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE scim_move AS SELECT %s AS account_id, "
            + ("CAST(%s AS uuid)" if connection.vendor == "postgresql" else "%s")
            + " AS sekolah_id, 'peserta_didik' AS role, %s AS npsn, %s AS kode_wilayah",
            [account.pk, sid, npsn, kode_wilayah],
        )
    accounts.move_many("scim_move", actor="test")


@pytest.mark.parametrize("which", ["server", "plain_server"])
def test_lifecycle_issue_move_suspend_delete(which, request, monkeypatch):
    srv = request.getfixturevalue(which)
    sd, accs = school_with_accounts()
    ani = next(a for a in accs if a.nama == "Ani Lestari")
    budi = next(a for a in accs if a.nama == "Budi Santoso")
    target = add_scim_target(srv, monkeypatch)

    # Issued -> created, with the school group.
    r = sync(target)
    assert r.synced == len(accs) and r.failed == 0
    at = users(srv)
    mine = {a.user_id for a in accs}
    assert mine <= at.keys()
    for a in accs:
        u = at[a.user_id]
        assert row(a).state == "synced" and row(a).remote_id == u["id"]
        assert u["externalId"] == f"akun:{a.pk}" and u["active"] is True
    u = at[ani.user_id]
    assert u["name"]["givenName"] == "Ani" and u["name"]["familyName"] == "Lestari"
    assert u["userType"] == "peserta_didik"
    assert u[ENTERPRISE]["organization"] == sd.npsn
    assert u[ENTERPRISE]["division"] == f"/Akun/32 Jawa Barat/3204 Kab. Bandung/{sd.npsn}/siswa"
    assert members(srv, f"akun:sekolah:{sd.npsn}") == {row(a).remote_id for a in accs}
    status = provisioning.sync_status_of(ani.pk)
    assert [(s.kind, s.state) for s in status] == [("scim", "synced")]

    # Suspended -> active false; unsuspended -> active again.
    accounts.do_suspend_account(ani, actor="test", reason="uji")
    sync(target)
    assert users(srv)[ani.user_id]["active"] is False
    assert row(ani).state == "suspended"
    accounts.do_unsuspend_account(Account.objects.get(pk=ani.pk), actor="test", reason="uji")
    sync(target)
    assert users(srv)[ani.user_id]["active"] is True and row(ani).state == "synced"

    # Moved to another school: patched (or put) in place, and the group follows.
    new_npsn = "2020" + sd.npsn[4:]
    move(ani, new_npsn)
    run_consumers()
    assert row(ani).state == "pending"
    sync(target)
    u = users(srv)[ani.user_id]
    assert u["id"] == row(ani).remote_id and u[ENTERPRISE]["organization"] == new_npsn
    assert u[ENTERPRISE]["costCenter"] == "327301"
    assert row(ani).remote_id in members(srv, f"akun:sekolah:{new_npsn}")
    assert row(ani).remote_id not in members(srv, f"akun:sekolah:{sd.npsn}")

    # Deleted in Akun (after its grace period) -> deleted at the target, out of its group.
    accounts.do_deactivate_account(Account.objects.get(pk=budi.pk), actor="test", reason="lulus")
    accounts.do_delete_account(Account.objects.get(pk=budi.pk), actor="test", reason="lulus")
    budi_id = row(budi).remote_id
    sync(target)
    assert budi.user_id not in users(srv)
    assert row(budi).state == "deleted"
    assert budi_id not in members(srv, f"akun:sekolah:{sd.npsn}")
    assert len(mine & users(srv).keys()) == len(accs) - 1


@pytest.mark.django_db(transaction=True)
def test_add_and_run_from_the_console(server, run_akun):
    sd, accs = school_with_accounts(npsn="20105555")
    env = {"AKUN_LMS_TOKEN": server.token}
    bad = run_akun("provision", "add", "lms2", "--kind", "scim", "--url", "ftp://x", env=env)
    assert bad.returncode != 0 and "--url" in bad.stderr
    leak = run_akun(
        "provision", "add", "lms2", "--kind", "scim", "--url", server.url,
        "--config", '{"token": "s3cret"}', env=env,
    )  # fmt: skip
    assert leak.returncode != 0 and "--token-env" in leak.stderr
    added = run_akun(
        "provision", "add", "lms2", "--kind", "scim", "--url", server.url,
        "--token-env", "AKUN_LMS_TOKEN", env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert f"{len(accs)} accounts queued" in added.stdout
    ran = run_akun("provision", "run", "--target", "lms2", "--once", env=env)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert {a.user_id for a in accs} <= users(server).keys()
    assert all(row(a, "lms2").state == "synced" for a in accs)
    # Without the token in its environment the run does not send, and says why.
    ran = run_akun("provision", "run", "--target", "lms2", "--once", env={"AKUN_LMS_TOKEN": ""})
    assert ran.returncode != 0 and "AKUN_LMS_TOKEN" in ran.stderr


@pytest.mark.django_db(transaction=True)
def test_kill_9_mid_run_then_resume_no_duplicate(run_akun, monkeypatch):
    with scim_server() as srv:
        sd, accs = school_with_accounts([f"Siswa Nomor {c}" for c in "ABCDEFGHIJKLMNOPQRST"])
        add_scim_target(srv, monkeypatch, bulk_operations=4)
        env = {TOKEN_ENV: srv.token}
        killed = run_akun(
            "provision", "run", "--once", hook=("kill-scim-after-bulks", "2"), env=env
        )  # fmt: skip
        assert killed.returncode == -9, killed.stderr[-2000:]
        assert len(srv.users()) == 8  # two /Bulk of 4 done at the target, none recorded
        assert not Provisioned.objects.filter(state="synced").exists()
        resumed = run_akun("provision", "run", "--once", env=env)
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        at = users(srv)  # fails on a duplicate userName
        assert sorted(at) == sorted(a.user_id for a in accs)  # one each, none missing
        for a in accs:
            assert row(a).state == "synced" and row(a).remote_id == at[a.user_id]["id"]
        assert members(srv, f"akun:sekolah:{sd.npsn}") == {u["id"] for u in at.values()}


def test_reconcile_reports_and_fixes_drift(server, monkeypatch):
    sd, accs = school_with_accounts(npsn="20107777")
    target = add_scim_target(server, monkeypatch)
    r = sync(target)
    failed = Provisioned.objects.exclude(state="synced").values_list("reason", "detail")
    assert r.synced == len(accs), list(failed)
    gone, renamed = accs[1], accs[2]
    with server.http() as h:
        assert h.delete(f"/Users/{row(gone).remote_id}").status_code == 204
        u = h.get(f"/Users/{row(renamed).remote_id}").json()
        u["name"]["familyName"] = "Diganti"
        assert h.put(f"/Users/{u['id']}", json=u).status_code == 200
        schema = ["urn:ietf:params:scim:schemas:core:2.0:User"]
        h.post("/Users", json={"schemas": schema, "userName": "ghost@belajar.id",
                               "externalId": "akun:987654321", "active": True})  # fmt: skip
        h.post("/Users", json={"schemas": schema, "userName": "guru@lms.example",
                               "externalId": "lms:5", "active": True})  # fmt: skip
    d = reconcile(target)
    assert (d.missing, d.extra, d.differ) == (1, 1, 1), d.samples
    assert d.samples["extra"] == ["ghost@belajar.id"]
    d = reconcile(target, fix=True)
    assert d.fixed_suspended == 1
    sync(target)
    at = users(server)
    assert at["ghost@belajar.id"]["active"] is False  # suspended, never deleted
    assert at["guru@lms.example"]["active"] is True  # not ours: untouched
    assert at[gone.user_id]["id"] == row(gone).remote_id  # created again
    assert at[renamed.user_id]["name"]["familyName"] != "Diganti"
    d = reconcile(target)
    assert (d.missing, d.differ) == (0, 0)
