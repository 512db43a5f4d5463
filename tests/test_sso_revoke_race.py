"""revoke_account_grants against a refresh grant in flight (PostgreSQL: SQLite lets one
writer at a time, so there is no race to lose there).

A thief who holds a stolen refresh token and refreshes in a loop must not keep a pair when
the owner signs out everywhere: a rotation that holds the old token's row while the grants
are revoked makes its new pair visible only after the revocation's statement began."""

import datetime as dt
import threading
import time
import uuid

import pytest
from django.db import connection, transaction
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken

from akun.sso import actions
from akun.sso import api as sso_api
from tests import builders
from tests.sso_support import CALLBACK

pytestmark = pytest.mark.django_db(transaction=True)


def pair(app, user, tag, family):
    at = AccessToken.objects.create(
        user=user,
        application=app,
        token=f"at-{tag}",
        scope="openid",
        expires=timezone.now() + dt.timedelta(hours=1),
    )
    rt = RefreshToken.objects.create(
        user=user, application=app, token=f"rt-{tag}", access_token=at, token_family=family
    )
    return at, rt


def backends_waiting_for_a_lock() -> int:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cur.fetchone()[0]


def test_a_rotation_in_flight_keeps_no_live_pair():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: a rotation cannot be in flight")
    student = builders.student(builders.school(), state="active", password="teh manis di sore hari")
    svc, _ = actions.do_add_oidc_service("Kelas Maya", redirect_uris=[CALLBACK], actor="t")
    app, family = svc.application, uuid.uuid4()
    old_at, old_rt = pair(app, student, "old", family)
    holding, commit = threading.Event(), threading.Event()
    made, errors = {}, []

    def rotate():
        """The refresh grant's rotation, paused before its commit."""
        try:
            with transaction.atomic():
                rt = RefreshToken.objects.select_for_update().get(pk=old_rt.pk)
                rt.revoked, rt.access_token = timezone.now(), None
                rt.save()
                AccessToken.objects.filter(pk=old_at.pk).delete()
                made["at"], made["rt"] = pair(app, student, "new", family)
                holding.set()
                assert commit.wait(60)
        except Exception as e:  # reported below, in the test's thread
            errors.append(e)
            holding.set()
        finally:
            connection.close()

    def revoke():
        try:
            sso_api.revoke_account_grants(student.pk, reason="sign out everywhere")
        except Exception as e:
            errors.append(e)
        finally:
            connection.close()

    rotation = threading.Thread(target=rotate)
    rotation.start()
    assert holding.wait(60) and not errors
    revocation = threading.Thread(target=revoke)
    revocation.start()
    for _ in range(6000):  # until the revocation waits for the rotation's row lock
        if backends_waiting_for_a_lock() or not revocation.is_alive():
            break
        time.sleep(0.01)
    commit.set()
    rotation.join(60)
    revocation.join(60)
    assert not errors, errors
    assert not AccessToken.objects.filter(pk=made["at"].pk).exists()
    assert RefreshToken.objects.get(pk=made["rt"].pk).revoked is not None
    assert not RefreshToken.objects.filter(user=student, revoked__isnull=True).exists()
