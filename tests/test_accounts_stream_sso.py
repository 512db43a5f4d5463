"""Bulk changes and SSO: after a bulk suspension, deactivation or deletion (roster pass,
deadline sweep, deletions) no refresh token of those accounts works, and an in-transaction
subscriber hears the whole set -- the hook that revocation plugs into."""

import pytest

from akun.accounts import api
from tests.test_sso_token_grants import _fresh, issue, refresh, student, web  # noqa: F401

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
