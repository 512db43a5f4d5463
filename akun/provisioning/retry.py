"""The retry action (operator portal, `akun provision retry`).

h4's minimal version, for the status pages: h3's engine brings its own do_retry_sync with
this signature into api.py; at the merge, keep that one and delete this module."""

from django.db import transaction

from akun.accounts import api as accounts_api
from akun.audit.api import Action, record
from akun.core import clock
from akun.provisioning.models import Provisioned
from akun.roster.api import Sekolah


@transaction.atomic
def do_retry_sync(account_ids=None, *, actor: str, target=None, sekolah_id=None) -> int:
    """Failed accounts go back to the urgent queue (no backoff, attempts from 0); one audit
    row. Narrowed to `account_ids`, a target, a school. Returns how many."""
    qs = Provisioned.objects.filter(state=Provisioned.State.FAILED, target__enabled=True)
    if account_ids is not None:
        qs = qs.filter(account_id__in=[int(i) for i in account_ids])
    if target is not None:
        qs = qs.filter(target_id=getattr(target, "pk", target))
    if sekolah_id is not None:
        qs = qs.filter(
            account_id__in=accounts_api.Account.objects.filter(sekolah_id=sekolah_id).values("pk")
        )
    n = qs.update(
        state=Provisioned.State.PENDING,
        priority=Provisioned.Priority.URGENT,
        attempts=0,
        not_before=None,
        reason="",
        detail="",
        changed_at=clock.now(),
    )
    if n:
        sekolah = Sekolah.objects.filter(pk=sekolah_id).first() if sekolah_id else None
        record(
            Action.PROVISIONING_RETRY,
            actor=actor,
            object_type="provisioning",
            object_id=str(getattr(target, "pk", target) or "*"),
            after={"accounts": n},
            npsn=sekolah.npsn if sekolah else "",
            kode_wilayah=sekolah.kode_wilayah if sekolah else "",
        )
    return n
