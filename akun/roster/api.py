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

__all__ = [
    "JENIS_PTK_KEPALA",
    "JENIS_PTK_PENDIDIK",
    "PROVINSI",
    "SCHOOL_FORMS_EARLY_CHILDHOOD",
    "ImportRun",
    "PesertaDidik",
    "Ptk",
    "Sekolah",
    "nik_hash",
    "roster_imported",
]
