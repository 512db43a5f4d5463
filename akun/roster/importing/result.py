"""What an import ends with: the counts per file, or the problem that stopped it."""

from dataclasses import dataclass, field
from pathlib import Path

from akun.roster.importing.specs import SPECS
from akun.roster.models import ImportRun


class ImportProblem(Exception):
    """The snapshot as a whole cannot be applied; the roster is unchanged."""

    exit_code = 2


class SafetyStop(ImportProblem):
    exit_code = 3


@dataclass
class FileCounts:
    rows: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    departed: int = 0
    rejected: int = 0

    def as_dict(self):
        return dict(self.__dict__)


@dataclass
class ImportResult:
    run: ImportRun
    counts: dict[str, FileCounts] = field(default_factory=dict)
    status: str = ""
    report_path: Path | None = None
    message: str = ""
    # Graduations not counted by the safety stop (an open rollover window).
    expected_departures: int = 0

    @property
    def total_rejected(self) -> int:
        return sum(c.rejected for c in self.counts.values())


def format_summary(result: ImportResult) -> str:
    lines = [
        f"{'file':<20}{'rows':>12}{'added':>12}{'changed':>12}{'unchanged':>12}"
        f"{'departed':>12}{'rejected':>12}"
    ]
    for spec in SPECS:
        c = result.counts[spec.kind]
        lines.append(
            f"{spec.name:<20}{c.rows:>12,}{c.added:>12,}{c.changed:>12,}{c.unchanged:>12,}"
            f"{c.departed:>12,}{c.rejected:>12,}"
        )
    return "\n".join(lines)
