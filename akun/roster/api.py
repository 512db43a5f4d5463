"""What other apps may use of the roster (OEP-49): its records and the import entry points."""

from akun.roster.fields import nik_hash
from akun.roster.models import ImportRun, PesertaDidik, Ptk, Sekolah
from akun.roster.signals import roster_imported
from akun.roster.vocab import (
    JENIS_PTK_KEPALA,
    JENIS_PTK_PENDIDIK,
    PROVINSI,
    SCHOOL_FORMS_EARLY_CHILDHOOD,
)

# For set-based SQL in other apps (accounts' eligibility and issuance, lifecycle's passes).
SEKOLAH_TABLE = Sekolah._meta.db_table
PESERTA_DIDIK_TABLE = PesertaDidik._meta.db_table
PTK_TABLE = Ptk._meta.db_table

__all__ = [
    "JENIS_PTK_KEPALA",
    "JENIS_PTK_PENDIDIK",
    "PESERTA_DIDIK_TABLE",
    "PROVINSI",
    "PTK_TABLE",
    "SCHOOL_FORMS_EARLY_CHILDHOOD",
    "SEKOLAH_TABLE",
    "ImportRun",
    "PesertaDidik",
    "Ptk",
    "Sekolah",
    "nik_hash",
    "roster_imported",
]
