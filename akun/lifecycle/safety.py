"""The safety stop, as for the roster import: a run that would deactivate or delete (or put
on the deletion path) more than AKUN_LIFECYCLE_MAX_SHARE of one province's accounts does
nothing in that province and leaves a Hold; `akun lifecycle confirm HOLD` lets the next run
go ahead there, for at most the number of accounts that were confirmed."""

from dataclasses import dataclass, field

from django.db import transaction

from akun.audit import api as audit
from akun.audit.api import Action
from akun.core import clock
from akun.lifecycle import conf
from akun.lifecycle.models import Hold


@dataclass
class Gate:
    blocked: set[str] = field(default_factory=set)
    confirmed: list[int] = field(default_factory=list)  # holds this run goes ahead under

    def mark_used(self) -> None:
        if self.confirmed:
            Hold.objects.filter(pk__in=self.confirmed, status=Hold.Status.CONFIRMED).update(
                status=Hold.Status.USED, updated_at=clock.now()
            )


def over_share(n: int, total: int) -> bool:
    return n > 0 and (not total or n / total > conf.max_share())


def gate(rule: str, counts: dict[str, int], totals: dict[str, int], *, actor: str) -> Gate:
    """Which provinces this run must leave alone. Writes/refreshes a Hold for each."""
    result = Gate()
    now = clock.now()
    with transaction.atomic():
        for prov, n in sorted(counts.items()):
            total = totals.get(prov, 0)
            if not over_share(n, total):
                continue
            hold = (
                Hold.objects.select_for_update()
                .filter(rule=rule, kode_provinsi=prov, status__in=["held", "confirmed"])
                .first()
            )
            if hold and hold.status == Hold.Status.CONFIRMED and n <= hold.count:
                result.confirmed.append(hold.pk)
                continue
            result.blocked.add(prov)
            if hold:
                # More than was confirmed (or still unconfirmed): ask again with the new count.
                hold.status = Hold.Status.HELD
                hold.count, hold.total, hold.updated_at = n, total, now
                hold.save(update_fields=["status", "count", "total", "updated_at"])
                continue
            hold = Hold.objects.create(
                rule=rule,
                kode_provinsi=prov,
                count=n,
                total=total,
                created_at=now,
                updated_at=now,
            )
            audit.record(
                Action.LIFECYCLE_HOLD,
                actor=actor,
                object_type="lifecycle_hold",
                object_id=hold.pk,
                reason=(
                    f"{rule} would affect {n} of {total} accounts in province {prov}, more "
                    f"than {conf.max_share():.0%}; confirm with `akun lifecycle confirm {hold.pk}`"
                ),
                after={"rule": rule, "province": prov, "count": n, "total": total},
                kode_wilayah=prov,
            )
    return result


def do_confirm_hold(hold_id: int, *, actor: str, reason: str = "") -> Hold:
    with transaction.atomic():
        hold = Hold.objects.select_for_update().get(pk=hold_id)
        if hold.status != Hold.Status.HELD:
            raise ValueError(f"hold #{hold.pk} is {hold.status}, not held")
        hold.status = Hold.Status.CONFIRMED
        hold.confirmed_by, hold.confirmed_at = actor, clock.now()
        hold.updated_at = hold.confirmed_at
        hold.save()
        audit.record(
            Action.LIFECYCLE_CONFIRM,
            actor=actor,
            object_type="lifecycle_hold",
            object_id=hold.pk,
            reason=reason or f"confirmed: {hold.rule} may affect {hold.count} accounts",
            before={"status": "held"},
            after={"status": "confirmed", "rule": hold.rule, "count": hold.count},
            kode_wilayah=hold.kode_provinsi,
        )
    return hold
