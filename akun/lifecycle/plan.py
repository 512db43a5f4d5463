"""`akun lifecycle plan`: what the next run of each rule would do, per province, without
doing it (each rule's dry run: the same SQL, counting instead of changing)."""

from django.db import connection

from akun.lifecycle import deadlines, deletion, roster_pass, safety
from akun.lifecycle import sqlutil as q
from akun.lifecycle.base import RuleResult

# Parts of a rule that deactivate or delete (or start the deletion path): the safety stop
# counts these.
GATED = {
    "deadline": ("deactivate",),
    "roster": tuple(f"schedule_{r}" for r in roster_pass.ROSTER_REASONS),
    "inactivity": ("schedule_inactive",),
}


def plan() -> list[RuleResult]:
    return [
        deadlines.sweep(actor="plan", dry_run=True),
        roster_pass.roster_pass(actor="plan", dry_run=True),
        deletion.inactivity_sweep(actor="plan", dry_run=True),
        deletion.send_notices(actor="plan", dry_run=True),
        deletion.run_deletions(actor="plan", dry_run=True),
    ]


def would_hold(result: RuleResult, totals: dict[str, int]) -> list[str]:
    per_prov: dict[str, int] = {}
    for (what, prov), n in result.counts.items():
        if what in GATED.get(result.rule, ()):
            per_prov[prov] = per_prov.get(prov, 0) + n
    return sorted(p for p, n in per_prov.items() if safety.over_share(n, totals.get(p, 0)))


def province_totals() -> dict[str, int]:
    with connection.cursor() as cur:
        return q.province_totals(cur)
