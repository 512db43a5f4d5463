"""The deadline sweep on PostgreSQL walks the accounts table by ranges of pages, in rounds by
line pointer (so that the new row versions fit their pages: HOT updates); the result is
that of one UPDATE, also for rows that the walk missed."""

import datetime as dt

import pytest
from django.db import connection

from akun.accounts.api import Account, do_activate_account
from akun.lifecycle import api, deadlines
from akun.lifecycle.models import RunAccount
from tests import builders as roster
from tests.lifecycle_support import account_of, freeze, issue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lifecycle_settings")]


def test_rounds_follow_the_share_to_change():
    assert [deadlines.rounds_for(s) for s in (0, 0.1, 0.2, 0.21, 0.4, 0.6, 1.0)] == [
        1, 1, 1, 2, 2, 3, 5,
    ]  # fmt: skip


@pytest.fixture
def school():
    """30 students issued on 1 March 2021, 6 of them activated; deadline 30 June."""
    freeze("2021-03-01")
    sd = roster.sekolah("SD")
    pupils = [roster.peserta_didik(sd, 5, nama=f"Murid {i}") for i in range(30)]
    issue()
    accounts = [account_of(p) for p in pupils]
    for a in accounts[::5]:
        do_activate_account(a, raw_password="kuda-lari-cepat-9", actor="test")
    api.do_set_deadline(dt.date(2021, 6, 30), actor="admin")
    freeze("2021-07-01", 1)
    return accounts


def states(accounts):
    return [Account.objects.get(pk=a.pk).state for a in accounts]


def test_small_batches_and_rounds_change_exactly_the_issued_accounts(school):
    result = api.deadline_sweep(actor="test", batch_rows=3)
    assert result.total("deactivate") == 24
    want = ["active" if i % 5 == 0 else "deactivated" for i in range(30)]
    assert states(school) == want
    assert RunAccount.objects.count() == 24  # one stamp each
    assert api.deadline_sweep(actor="test").total("deactivate") == 0  # safe to run twice


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the page walk is PostgreSQL's")
def test_rows_the_walk_missed_are_taken_by_the_last_update(school, monkeypatch):
    # As if a concurrent update had moved rows behind the walk: it sees no pages at all.
    monkeypatch.setattr(deadlines, "_physical_batches", lambda batch_rows: [])
    result = api.deadline_sweep(actor="test")
    assert result.total("deactivate") == 24
    assert states(school).count("deactivated") == 24
    assert RunAccount.objects.count() == 24
