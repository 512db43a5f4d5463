"""What other apps may use of the roster (OEP-49): its records and the import entry points."""

from akun.roster.fields import nik_hash
from akun.roster.models import ImportRun, PesertaDidik, Ptk, RolloverWindow, Sekolah
from akun.roster.rollover import (
    GRADUATING_GRADES,
    LEVEL_CHANGES,
    RolloverError,
    do_close_rollover,
    do_open_rollover,
    graduation_sql,
    level_change_sql,
    open_window,
)
from akun.roster.signals import roster_imported
from akun.roster.vocab import (
    COLUMNS,
    JENIS_PTK_KEPALA,
    JENIS_PTK_PENDIDIK,
    PESERTA_DIDIK_COLUMNS,
    PROVINSI,
    PTK_COLUMNS,
    SCHOOL_FORMS_EARLY_CHILDHOOD,
    SEKOLAH_COLUMNS,
)

# For set-based SQL in other apps (accounts' eligibility and issuance, lifecycle's passes).
SEKOLAH_TABLE = Sekolah._meta.db_table
PESERTA_DIDIK_TABLE = PesertaDidik._meta.db_table
PTK_TABLE = Ptk._meta.db_table

# The export's files and columns, for the synthetic roster generator (akun.synthetic).
__all__ = [
    "COLUMNS",
    "PESERTA_DIDIK_COLUMNS",
    "PTK_COLUMNS",
    "SEKOLAH_COLUMNS",
    "JENIS_PTK_KEPALA",
    "JENIS_PTK_PENDIDIK",
    "PESERTA_DIDIK_TABLE",
    "PROVINSI",
    "PTK_TABLE",
    "SCHOOL_FORMS_EARLY_CHILDHOOD",
    "SEKOLAH_TABLE",
    "GRADUATING_GRADES",
    "ImportRun",
    "LEVEL_CHANGES",
    "RolloverError",
    "RolloverWindow",
    "do_close_rollover",
    "do_open_rollover",
    "graduation_sql",
    "level_change_sql",
    "open_window",
    "PesertaDidik",
    "Ptk",
    "Sekolah",
    "nik_hash",
    "roster_imported",
]
