"""Deltas (`dateLastModified>'...'`) stay exact through the change stream and the roster:
a new rombel, a move to another school, a departure; and an unchanged object never shows up
again."""

import datetime as dt

import pytest

from akun.accounts.api import Account, do_deactivate_account, issue_accounts, run_consumers
from akun.core import clock
from akun.lifecycle import api as lifecycle
from akun.oneroster import project
from akun.oneroster.models import OrEnrollment, OrUser
from akun.oneroster.receivers import CONSUMER
from akun.roster.api import ImportRun
from tests import builders
from tests.oneroster_support import get, make_world, platform, reset_caches, token

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh(settings):
    settings.AKUN_LIFECYCLE_MAX_SHARE = 1.0
    reset_caches()
    yield
    reset_caches()


def _since(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _delta(client, tok, path, t):
    r = get(client, tok, path, filter=f"dateLastModified>'{_since(t)}'", limit=1000)
    assert r.status_code == 200, r.content
    return r.json()


def _consume():
    from akun.accounts.models import EventConsumer

    runs = [r for r in run_consumers() if r.name == CONSUMER]
    assert runs and not runs[0].failed, EventConsumer.objects.get(name=CONSUMER).last_error


def _later(minutes):
    clock.freeze(clock.now() + dt.timedelta(minutes=minutes))
    return clock.now()


def test_nothing_changed_means_an_empty_delta(client):
    make_world()
    _consume()  # the world's issuance events: nothing new for the projection
    cid, secret = platform(["20104321"])
    tok = token(client, cid, secret)
    t = _later(1)
    _later(1)
    project.refresh()  # a full pass over unchanged data
    for path, key in (("/users", "users"), ("/enrollments", "enrollments"), ("/orgs", "orgs")):
        assert _delta(client, tok, path, t)[key] == []


def test_new_rombel_moves_the_enrollment(client):
    w = make_world()
    cid, secret = platform(["20104321"])
    tok = token(client, cid, secret)
    t = _later(5)
    _later(1)
    # The next import puts siti0 in 5B: no account changes, the import's refresh sees it.
    pd = builders.PesertaDidik.objects.get(peserta_didik_id=w.students[0].person_id)
    run = ImportRun.objects.create(started_at=clock.now(), source="x", actor="t")
    pd.rombel, pd.changed_run_id = "5B", run.pk
    pd.save()
    project.refresh_after_import(run.pk)
    users = _delta(client, tok, "/users", t)["users"]
    assert [u["sourcedId"] for u in users] == ["siti0"]
    enr = {
        e["class"]["sourcedId"]: e["status"]
        for e in _delta(client, tok, "/enrollments", t)["enrollments"]
    }
    five_b = project.class_sid("20104321", 5, "5B")
    five_a = project.class_sid("20104321", 5, "5A")
    assert enr == {five_a: "tobedeleted", five_b: "active"}
    r = get(client, tok, "/users/siti0/classes")
    assert [c["sourcedId"] for c in r.json()["classes"]] == [five_b]
    # 5A still has siti1: it stays active, and is not in the delta.
    assert five_a not in {c["sourcedId"] for c in _delta(client, tok, "/classes", t)["classes"]}


def test_departure_through_the_change_stream(client):
    w = make_world()
    _consume()
    cid, secret = platform(["20104321"])
    tok = token(client, cid, secret)
    t = _later(5)
    _later(1)
    do_deactivate_account(w.students[3], actor="t", reason="lulus")  # the only one in 6A
    _consume()
    users = _delta(client, tok, "/users", t)["users"]
    assert [(u["sourcedId"], u["status"]) for u in users] == [("siti3", "tobedeleted")]
    enr = _delta(client, tok, "/enrollments", t)["enrollments"]
    assert [(e["user"]["sourcedId"], e["status"]) for e in enr] == [("siti3", "tobedeleted")]
    classes = _delta(client, tok, "/classes", t)["classes"]
    assert [(c["classCode"], c["status"]) for c in classes] == [("6A", "tobedeleted")]
    assert u_at(users[0]) > t
    # Run again (at-least-once): nothing new.
    t2 = _later(5)
    EventConsumerReset.rewind()
    _consume()
    assert _delta(client, tok, "/users", t2)["users"] == []


def u_at(obj) -> dt.datetime:
    return dt.datetime.fromisoformat(obj["dateLastModified"].replace("Z", "+00:00"))


class EventConsumerReset:
    @staticmethod
    def rewind():
        from akun.accounts.models import EventConsumer

        EventConsumer.objects.filter(name=CONSUMER).update(cursor_xid=0, cursor_id=0)


def test_move_to_another_school_through_the_roster_pass(client):
    # Accounts issued as in production, so that the roster pass knows them.
    a_school = builders.sekolah("SD", npsn="20104321", nama="SD NEGERI 1 CIBODAS")
    b_school = builders.sekolah("SD", npsn="20109999", nama="SD NEGERI 9 CIBODAS")
    pupil = builders.peserta_didik(a_school, 5, rombel="5A", nama="Kartika Sari")
    builders.peserta_didik(a_school, 5, rombel="5A", nama="Joko Widodo")
    issue_accounts(actor="test")
    _consume()
    sid = Account.objects.get(person_id=pupil.peserta_didik_id).local_part
    a, a_secret = platform(["20104321"], name="LMS A")
    b, b_secret = platform(["20109999"], name="LMS B")
    tok_a = token(client, a, a_secret)
    tok_b = token(client, b, b_secret)
    t = _later(5)
    _later(1)
    pupil.sekolah_id, pupil.rombel = b_school.sekolah_id, "5C"
    pupil.save()
    lifecycle.roster_pass(actor="test")  # a move within the level: MOVED
    _consume()
    user = OrUser.objects.get(sourced_id=sid)
    assert user.npsn == "20109999" and user.school_sourced_id == "npsn-20109999"
    # School A: the enrollment at A's class is gone (tobedeleted) in its delta.
    enr_a = _delta(client, tok_a, "/enrollments", t)["enrollments"]
    assert [(e["user"]["sourcedId"], e["status"]) for e in enr_a] == [(sid, "tobedeleted")]
    assert get(client, tok_a, f"/users/{sid}").status_code == 404
    # School B: a new user, a new class, a new enrollment.
    users_b = _delta(client, tok_b, "/users", t)["users"]
    assert [u["sourcedId"] for u in users_b] == [sid]
    enr_b = _delta(client, tok_b, "/enrollments", t)["enrollments"]
    assert [e["status"] for e in enr_b] == ["active"]
    classes_b = _delta(client, tok_b, "/classes", t)["classes"]
    assert [(c["classCode"], c["status"]) for c in classes_b] == [("5C", "active")]
    assert OrEnrollment.objects.filter(user_sourced_id=sid).count() == 2
