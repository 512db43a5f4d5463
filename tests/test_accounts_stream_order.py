"""The late-commit trap (PostgreSQL): a transaction that took a lower event id but commits
after a higher one has been read. Two real connections (threads); the consumer reads in
between. A reader keeping `id > cursor` (or (xid, id) without the horizon) would move past
the late event and never see it."""

import threading

import pytest
from django.db import connection, transaction

from akun.accounts import api, stream
from akun.accounts.models import AccountEvent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def consumer():
    seen = []
    api.register_consumer("test.order", ["profile_changed"], lambda evs: seen.extend(evs))
    yield seen
    api.unregister_consumer("test.order")


def test_an_event_committed_late_is_not_skipped(consumer):
    # profile_changed: no in-transaction subscriber acts on it (the ids name no account).
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: id order is commit order")
    first_wrote, release, errors = threading.Event(), threading.Event(), []

    def in_thread(work):
        def run():
            try:
                work()
            except Exception as e:  # reported by the main thread
                errors.append(e)
                first_wrote.set()
            finally:
                connection.close()

        return threading.Thread(target=run)

    def started_first_commits_last():
        with transaction.atomic():
            api.record_event("profile_changed", 1001, actor="t1")
            first_wrote.set()
            assert release.wait(60)

    def started_second_commits_first():
        with transaction.atomic():
            api.record_event("profile_changed", 1002, actor="t2")

    t1 = in_thread(started_first_commits_last)
    t1.start()
    assert first_wrote.wait(60)
    t2 = in_thread(started_second_commits_first)
    t2.start()
    t2.join(60)
    try:
        assert errors == []
        # In between: only the second event is visible, with the higher id.
        visible = list(AccountEvent.objects.values_list("account_id", "id"))
        assert [a for a, _ in visible] == [1002]
        naive_cursor = visible[0][1]
        stream.run_consumer("test.order")
        assert consumer == []  # the horizon waits for the first transaction
    finally:
        release.set()
        t1.join(60)
    assert errors == []
    late = AccountEvent.objects.get(account_id=1001)
    assert late.id < naive_cursor  # the trap: a naive `id > cursor` reader has passed it
    stream.run_consumer("test.order")
    assert [e.account_id for e in consumer] == [1001, 1002]
    assert stream.run_consumer("test.order").handled == 0
