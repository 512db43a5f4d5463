"""The change stream: one way for every account change, single and bulk (TRANSITIONS, audit,
event, in-transaction subscribers), durable consumers (cursor, retries, status, pruning)."""

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from akun.accounts import api, stream
from akun.accounts.models import Account, AccountEvent, EventConsumer
from akun.audit.models import AuditEvent
from akun.core import clock
from akun.lifecycle import api as lifecycle
from tests import builders as roster
from tests.lifecycle_support import freeze, issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts():
    freeze("2021-03-01")
    sd = roster.sekolah("SD", npsn="20104321")
    for nama in ("Ani Lestari", "Budi Santoso", "Citra Dewi", "Dedi Kurnia"):
        roster.peserta_didik(sd, 5, nama=nama)
    issue()
    return list(Account.objects.order_by("pk"))


@pytest.fixture
def heard():
    """A dummy in-transaction subscriber: (kind, sorted account ids, count) per change."""
    got = []

    def handler(change):
        got.append((change.kind, sorted(change.account_ids()), change.count))

    off = api.subscribe(["suspended", "deactivated", "deleted", "unsuspended"], handler)
    yield got
    off()


def account_events() -> list[tuple[str, int]]:
    """(kind, account id) of every event, in order, one per account (a bulk row holds
    many)."""
    out = []
    for e in AccountEvent.objects.order_by("id"):
        ids = [e.account_id] if e.account_id is not None else e.account_ids.split(",")
        ids = [int(i) for i in ids]
        assert e.count == len(ids)
        out.extend((e.kind, i) for i in ids)
    return out


def events(account=None, kind=None):
    return [
        k
        for k, i in account_events()
        if (account is None or i == account.pk) and (kind is None or k == kind)
    ]


def test_issuance_writes_one_issued_event_per_account(accounts):
    assert sorted(i for _, i in account_events()) == [a.pk for a in accounts]
    assert set(events()) == {"issued"}
    assert AccountEvent.objects.count() == 1  # one statement, one event row


def test_single_path_checks_transitions_audits_and_writes_events(accounts):
    a = accounts[0]
    api.do_activate_account(a, raw_password="kuda-lari-cepat-9", actor="t")
    api.do_suspend_account(a, actor="t", reason="x")
    with pytest.raises(api.TransitionNotAllowed):
        api.do_suspend_account(a, actor="t", reason="twice")
    api.do_unsuspend_account(a, actor="t", reason="x")
    api.do_reissue_account(a, actor="t", reason="lost letter")
    api.do_deactivate_account(a, actor="t", reason="x")
    api.do_reactivate_account(a, actor="t", reason="x")
    api.do_delete_account(a, actor="t", reason="x")
    kinds = ["issued", "activated", "suspended", "unsuspended", "password_reset"]
    kinds += ["deactivated", "reactivated", "deleted"]
    assert events(a) == kinds
    audited = AuditEvent.objects.filter(object_id=a.user_id, action__startswith="accounts.")
    assert audited.count() == 7  # one per change; the refused one wrote nothing


def test_subscriber_hears_single_and_bulk_changes(accounts, heard):
    a, b, c, d = accounts
    api.do_suspend_account(a, actor="t", reason="single")
    assert heard == [("suspended", [a.pk], 1)]
    change = api.transition_many(
        "suspend", api.where("a.id IN (%(b)s, %(c)s)", {"b": b.pk, "c": c.pk}), actor="t"
    )
    assert change.count == 2
    assert heard[-1] == ("suspended", [b.pk, c.pk], 2)
    api.transition_many(
        "deactivate", api.rows_of("(SELECT id AS account_id FROM accounts_account)"), actor="t"
    )
    assert heard[-1] == ("deactivated", [a.pk, b.pk, c.pk, d.pk], 4)


def test_transition_many_applies_only_what_transitions_allows(accounts, heard):
    a, b, c, d = accounts
    api.do_deactivate_account(a, actor="t", reason="x")
    everyone = api.where("TRUE")
    change = api.transition_many("reactivate", everyone, actor="bulk", reason="r")
    assert change.count == 1 and change.by_province == {"32": 1}  # only the deactivated one
    assert heard == [("deactivated", [a.pk], 1)]  # reactivated: nobody subscribed
    assert api.transition_many("unsuspend", everyone, actor="bulk").count == 0
    row = AuditEvent.objects.get(action="accounts.reactivate")
    assert (row.actor, row.reason, row.object_id) == ("bulk", "r", a.user_id)
    assert (row.before, row.after) == ({"state": "deactivated"}, {"state": "issued"})
    assert (row.npsn, row.kode_wilayah) == ("20104321", accounts[0].sekolah.kode_wilayah)
    assert events(a) == ["issued", "deactivated", "reactivated"]
    assert events(b) == ["issued"]
    api.transition_many("delete", api.where("a.id = %(id)s", {"id": b.pk}), actor="t")
    gone = Account.objects.get(pk=b.pk)
    assert (gone.state, gone.nama, gone.person_id) == ("deleted", "", None)
    assert not gone.has_usable_password()
    assert api.transition_many("delete", everyone, actor="t").count == 3  # b not twice
    with pytest.raises(ValueError):
        api.transition_many("activate", everyone, actor="t")


@pytest.mark.usefixtures("lifecycle_settings")
def test_deadline_sweep_writes_an_event_per_account_and_tells_subscribers(accounts, heard):
    api.do_activate_account(accounts[0], raw_password="kuda-lari-cepat-9", actor="t")
    lifecycle.do_set_deadline(dt.date(2021, 6, 30), actor="admin")
    freeze("2021-07-01")
    assert lifecycle.deadline_sweep(actor="sweep").total("deactivate") == 3
    swept = [a.pk for a in accounts[1:]]
    assert sorted(i for k, i in account_events() if k == "deactivated") == swept
    # One change set per transaction of the sweep: together, exactly the swept accounts.
    assert {h[0] for h in heard} == {"deactivated"}
    assert sorted(i for h in heard for i in h[1]) == swept
    from akun.lifecycle.models import RunAccount

    assert RunAccount.objects.count() == 3  # the stamps, written with the change


@pytest.mark.usefixtures("lifecycle_settings")
def test_roster_departure_suspends_through_accounts(accounts, heard):
    lifecycle.roster_pass(actor="t")  # the first pass: nothing to do
    from akun.roster.models import PesertaDidik

    person = PesertaDidik.objects.get(peserta_didik_id=accounts[0].person_id)
    person.departed_at = clock.now()
    person.departed_run_id = 99
    person.save()
    lifecycle.roster_pass(actor="t", full=True)
    assert events(accounts[0]) == ["issued", "suspended"]
    assert heard[-1] == ("suspended", [accounts[0].pk], 1)
    assert AuditEvent.objects.filter(
        action="lifecycle.roster_schedule_deletion", object_id=accounts[0].user_id
    ).get().after == {"state": "suspended", "deletion": "scheduled"}


# --- durable consumers ------------------------------------------------------------------


@pytest.fixture
def consumer():
    seen, fail = [], []

    def handle(evs):
        if fail:
            raise RuntimeError(fail[0])
        seen.extend((e.kind, e.account_id) for e in evs)

    api.register_consumer("test.consumer", ["suspended", "deactivated"], handle, batch=2)
    yield seen, fail
    api.unregister_consumer("test.consumer")


def test_consumer_reads_its_kinds_in_order_retries_with_backoff_and_shows_failures(
    accounts, consumer
):
    seen, fail = consumer
    a, b, c, _ = accounts
    api.do_suspend_account(a, actor="t", reason="x")
    fail.append("directory down")
    run = stream.run_consumer("test.consumer")
    assert run.failed and seen == []
    state = EventConsumer.objects.get(name="test.consumer")
    assert state.failures == 1 and state.retry_at == clock.now() + stream.BACKOFF_FIRST
    suspension = AccountEvent.objects.get(kind="suspended")
    assert "directory down" in state.last_error and state.last_error_event == suspension.pk
    assert (state.cursor_xid, state.cursor_id) < (suspension.xid, suspension.pk)
    assert stream.run_consumer("test.consumer").waiting  # backoff: not yet
    out = io.StringIO()
    call_command("events", "status", stdout=out)
    text = out.getvalue()
    assert "test.consumer: lag 1 events" in text and "FAILING: 1 in a row" in text
    assert "RuntimeError: directory down" in text
    assert (
        stream.backoff(3) == 4 * stream.BACKOFF_FIRST and stream.backoff(30) == stream.BACKOFF_MAX
    )

    fail.clear()
    clock.freeze(clock.now() + stream.BACKOFF_FIRST)
    api.do_deactivate_account(b, actor="t", reason="x")
    api.do_deactivate_account(c, actor="t", reason="x")
    run = stream.run_consumer("test.consumer")
    assert not run.failed and run.handled == 3
    assert seen == [("suspended", a.pk), ("deactivated", b.pk), ("deactivated", c.pk)]
    state.refresh_from_db()
    assert (state.failures, state.retry_at, state.handled) == (0, None, 3)
    assert stream.run_consumer("test.consumer").handled == 0  # acknowledged: not again
    out = io.StringIO()
    call_command("events", "status", stdout=out)
    assert "test.consumer: lag 0 events" in out.getvalue()
    assert "FAILING" not in out.getvalue()


def test_events_are_pruned_once_every_consumer_has_passed_them_and_retention(
    accounts, consumer, settings, monkeypatch
):
    settings.AKUN_EVENTS_RETENTION_DAYS = 7
    # Only this test's consumer (the apps' own, e.g. provisioning's, have their own tests).
    monkeypatch.setattr(stream, "_consumers", {"test.consumer": stream._consumers["test.consumer"]})
    assert stream.prune() == 0  # the consumer has not started: nothing goes
    stream.run_consumer("test.consumer")
    api.do_suspend_account(accounts[0], actor="t", reason="x")  # not yet consumed
    assert stream.prune() == 0  # too young
    clock.freeze(clock.now() + dt.timedelta(days=8))
    assert stream.prune() == 4  # the issued events (one row); not the suspension
    assert events() == ["suspended"]
    stream.run_consumer("test.consumer")
    assert stream.prune() == 1 and events() == []


def test_no_sql_outside_accounts_and_audit_writes_their_tables():
    """A grep: account state, the audit table and the event table are written only by the
    accounts and audit apps (every other app goes through accounts.api / audit.api)."""
    root = Path(__file__).resolve().parent.parent / "akun"
    account = r"(accounts_account\b|\{(q\.)?ACCOUNT\})"
    writes = [
        re.compile(r"INSERT\s+INTO\s+(audit_auditevent|accounts_accountevent)", re.I),
        re.compile(r"UPDATE\s+" + account + r".{0,120}?SET\s+(\{_?[A-Z]+\}|state\b)", re.I | re.S),
        re.compile(r"\.update\(\s*state\s*=", re.I),
        re.compile(r"DELETE\s+FROM\s+(audit_auditevent|accounts_accountevent)", re.I),
    ]
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(("accounts/", "audit/")) or "/migrations/" in rel:
            continue
        text = path.read_text()
        for pattern in writes:
            for m in pattern.finditer(text):
                offenders.append(f"{rel}: {m.group(0)[:80]!r}")
    assert offenders == []


def test_the_grep_finds_a_hand_written_state_update():
    account = r"(accounts_account\b|\{(q\.)?ACCOUNT\})"
    pattern = re.compile(
        r"UPDATE\s+" + account + r".{0,120}?SET\s+(\{_?[A-Z]+\}|state\b)", re.I | re.S
    )
    assert pattern.search("cur.execute(f\"UPDATE {q.ACCOUNT} SET state = 'deactivated'\")")
    assert pattern.search('"UPDATE accounts_account "\n "SET state = %s"')
    assert connection.vendor in ("sqlite", "postgresql")


def test_audit_actions_are_one_enum_with_the_old_values(accounts):
    from akun.audit.api import Action, record

    assert Action.LIFECYCLE_DELETE == "lifecycle.delete"  # the stored strings, unchanged
    assert AuditEvent.objects.filter(action=Action.ACCOUNTS_ISSUE).exists()
    record(Action.ACCOUNTS_EXPORT, actor="t")
    with pytest.raises(ValueError, match="unknown audit action"):
        record("accounts.somethin_else", actor="t")


def test_read_gives_one_event_per_account_and_whole_bulk_rows(accounts):
    a, b, c, _ = accounts
    for account in (a, b, c):
        api.do_suspend_account(account, actor="t", reason="x")
    with connection.cursor() as cur:
        first = stream.read(cur, (0, 0), 2)
        assert [e.kind for e in first] == ["issued"] * 4  # one row of 4: whole
        assert len({e.id for e in first}) == 1
        last = first[-1]
        rest = stream.read(cur, (last.xid, last.id), 2)
        assert [(e.kind, e.account_id) for e in rest] == [("suspended", a.pk), ("suspended", b.pk)]
        more = stream.read(cur, (rest[-1].xid, rest[-1].id), 2)
        assert [(e.kind, e.account_id) for e in more] == [("suspended", c.pk)]


def test_identity_changes_write_their_events(accounts):
    from akun.identity import actions as identity
    from akun.identity import terms

    a = accounts[0]
    identity.do_accept_terms(a, terms.TERMS[-1].version, actor="self")
    identity.do_activate_account(a, "kuda-lari-cepat-9", actor="self")
    identity.do_change_password(a, "gajah-biru-terbang-7", actor="self")
    reset = "reset with a code"  # as identity's reset view says
    identity.do_change_password(a, "ikan-hijau-berenang-5", actor="self", reason=reset)
    identity.do_set_recovery_contact(a, "email", "ani@example.id", actor="self")
    identity.do_sign_out_everywhere(a, actor="self")
    assert events(a) == [
        "issued",
        "terms_accepted",
        "activated",
        "password_changed",
        "password_reset",
        "profile_changed",
        "signed_out",
    ]


def test_a_staff_account_is_issued_with_its_event():
    from akun.portal import actions as portal

    admin, _password = portal.do_create_admin(nama="Admin Nasional", region="nasional", actor="t")
    assert events(admin) == ["issued", "password_reset"]  # the new initial password
