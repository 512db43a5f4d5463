"""What every rule returns, and its Run row."""

from collections import Counter
from dataclasses import dataclass, field

from akun.audit import api as audit
from akun.core import clock
from akun.lifecycle.models import Run


@dataclass
class RuleResult:
    rule: str
    dry_run: bool = False
    counts: Counter = field(default_factory=Counter)  # (what, province) -> accounts
    held: list[str] = field(default_factory=list)  # provinces left alone by the safety stop
    run_id: int | None = None

    def add(self, what: str, per_province: dict[str, int]) -> None:
        for prov, n in per_province.items():
            if n:
                self.counts[(what, prov)] += n

    def total(self, what: str) -> int:
        return sum(n for (w, _), n in self.counts.items() if w == what)

    def as_dict(self) -> dict:
        return {f"{w}/{p}": n for (w, p), n in sorted(self.counts.items())}


def start_run(rule: str, actor: str) -> Run:
    return Run.objects.create(rule=rule, actor=actor, started_at=clock.now())


def finish_run(run: Run, result: RuleResult, *, actor: str, reason: str = "") -> None:
    run.finished_at = clock.now()
    run.counts = result.as_dict()
    run.held = sorted(result.held)
    run.save(update_fields=["finished_at", "counts", "held"])
    result.run_id = run.pk
    if result.counts or result.held:
        audit.record(
            f"lifecycle.run.{result.rule}",
            actor=actor,
            object_type="lifecycle_run",
            object_id=run.pk,
            reason=reason,
            after={"counts": run.counts, "held": run.held},
        )
