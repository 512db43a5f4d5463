"""Builders for provisioning tests: targets and sync rows, made directly."""

from akun.core import clock
from akun.provisioning.models import Provisioned, Target


def target(name="google", *, password_sync=False, enabled=True, **config):
    return Target.objects.create(
        name=name,
        kind=Target.Kind.GOOGLE,
        enabled=enabled,
        config={"domain": "belajar.test", "password_sync": password_sync, **config},
        created_at=clock.now(),
    )


def provisioned(t, account, state="synced", *, reason="", detail="", synced=True, **extra):
    now = clock.now()
    return Provisioned.objects.create(
        target=t,
        account_id=account.pk,
        state=state,
        reason=reason,
        detail=detail,
        remote_id=f"g-{account.pk}" if state != "pending" else "",
        changed_at=now,
        last_synced_at=now if synced else None,
        **extra,
    )
