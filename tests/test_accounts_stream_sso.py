"""Bulk changes and SSO: after a bulk suspension, deactivation or deletion (roster pass,
deadline sweep, deletions) no refresh token of those accounts works, and an in-transaction
subscriber hears the whole set -- the hook that revocation plugs into."""

import pytest

from akun.accounts import api
from tests.test_sso_token_grants import issue, refresh, web  # noqa: F401 - web is a fixture

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("verb", ["suspend", "deactivate", "delete"])
def test_no_refresh_token_works_after_a_bulk_change(client, student, web, verb):  # noqa: F811
    svc, secret = web
    token = issue(svc.application, student)
    heard = []
    ended = [api.EventKind.SUSPENDED, api.EventKind.DEACTIVATED, api.EventKind.DELETED]
    off = api.subscribe(ended, lambda change: heard.append(change.account_ids()))
    try:
        change = api.transition_many(
            verb, api.where("a.id = %(id)s", {"id": student.pk}), actor="bulk", reason="uji"
        )
    finally:
        off()
    assert change.count == 1 and heard == [[student.pk]]
    assert refresh(client, svc, secret, token).status_code == 400


def _pair(app, user, n):
    """An access + refresh token pair (with an ID token) of `user` at `app`."""
    import datetime as dt
    import uuid

    from django.utils import timezone
    from oauth2_provider.models import AccessToken, IDToken, RefreshToken

    soon = timezone.now() + dt.timedelta(hours=1)
    idt = IDToken.objects.create(user=user, application=app, jti=uuid.uuid4(), expires=soon)
    at = AccessToken.objects.create(
        user=user, application=app, token=f"at-{n}", scope="openid", expires=soon, id_token=idt
    )
    RefreshToken.objects.create(
        user=user, application=app, token=f"rt-{n}", access_token=at, token_family=uuid.uuid4()
    )
    return f"rt-{n}"


def _two_students(student):
    from tests import builders

    other = builders.student(
        student.sekolah, nama="Siti Aminah", local_part="sitiaminah3", state="active"
    )
    return [student, other]


@pytest.mark.parametrize("verb", ["suspend", "deactivate", "delete"])
def test_a_bulk_change_revokes_every_grant_of_its_set(client, student, web, verb):  # noqa: F811
    """More than one account: the set-based path (revoke_grants_of_accounts) runs, and the
    tokens are gone or revoked, not only refused by the state check."""
    from oauth2_provider.models import AccessToken, IDToken, RefreshToken

    svc, secret = web
    people = _two_students(student)
    tokens = [_pair(svc.application, p, i) for i, p in enumerate(people)]
    ids = [p.pk for p in people]
    change = api.transition_many(
        verb, api.where("a.id IN (%(a)s, %(b)s)", {"a": ids[0], "b": ids[1]}), actor="bulk"
    )
    assert change.count == 2
    assert not AccessToken.objects.filter(user_id__in=ids).exists()
    assert not IDToken.objects.filter(user_id__in=ids).exists()
    live = RefreshToken.objects.filter(user_id__in=ids, revoked__isnull=True)
    assert not live.exists() and RefreshToken.objects.filter(user_id__in=ids).count() == 2
    for token in tokens:
        assert refresh(client, svc, secret, token).status_code == 400


def test_a_bulk_way_back_ends_sessions_and_grants_of_its_set(client, student, web):  # noqa: F811
    """Back from a bulk suspension (the roster pass's unsuspend): a session or token from
    before must not revive, so every account of the set gets a new session generation."""
    from oauth2_provider.models import RefreshToken

    from akun.identity.flow import current_generation

    svc, secret = web
    people = _two_students(student)
    ids = [p.pk for p in people]
    where = api.where("a.id IN (%(a)s, %(b)s)", {"a": ids[0], "b": ids[1]})
    api.transition_many("suspend", where, actor="bulk")
    # A token row left from before (as one written by a path that did not revoke).
    tokens = [_pair(svc.application, p, 10 + i) for i, p in enumerate(people)]
    before = [current_generation(p) for p in people]
    change = api.transition_many("unsuspend", where, actor="bulk")
    assert change.count == 2
    assert [current_generation(p) for p in people] == [g + 1 for g in before]
    assert not RefreshToken.objects.filter(user_id__in=ids, revoked__isnull=True).exists()
    for token in tokens:
        assert refresh(client, svc, secret, token).status_code == 400
