"""`akun roster import DIR`: apply a Dapodik snapshot to the roster, set-based and atomic.

1. Check the three files (present, readable, every column there) before touching anything.
2. Stream each file: check every field in Python, write good rows to a staging table (COPY on
   PostgreSQL; big files in two worker processes, see parallel.py), bad rows to the reject
   report.
3. In SQL: reject duplicate keys, NISN/NPSN shared by two records, unknown school references.
4. Compare staging with the roster by a hash of each row: added, changed, unchanged, departed.
   A record whose row was rejected is kept as it is, never marked departed.
5. Safety stop: too many departures platform-wide or in one province -> nothing applied.
6. Apply in the same transaction; a killed process leaves the previous roster.

run.py: RosterImport, which runs these steps (1 itself) in one transaction; specs.py: the files,
their columns and row parsers; staging.py: step 2; checks.py: step 3; apply.py: steps 4-6;
result.py: the counts and the problems that stop an import.
"""

from akun.roster.importing.result import (
    FileCounts,
    ImportProblem,
    ImportResult,
    SafetyStop,
    format_summary,
)
from akun.roster.importing.run import RosterImport
from akun.roster.importing.specs import PESERTA_DIDIK, PTK, SEKOLAH, SPECS
from akun.roster.importing.staging import Progress

__all__ = [
    "FileCounts",
    "ImportProblem",
    "ImportResult",
    "SafetyStop",
    "format_summary",
    "RosterImport",
    "PESERTA_DIDIK",
    "PTK",
    "SEKOLAH",
    "SPECS",
    "Progress",
]
