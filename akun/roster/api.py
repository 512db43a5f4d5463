"""What other apps may use of the roster (OEP-49): its records and the import entry points."""

from akun.roster.fields import nik_hash
from akun.roster.models import ImportRun, PesertaDidik, Ptk, Sekolah
from akun.roster.signals import roster_imported
from akun.roster.vocab import COLUMNS, PESERTA_DIDIK_COLUMNS, PROVINSI, PTK_COLUMNS, SEKOLAH_COLUMNS

__all__ = ["nik_hash", "ImportRun", "PesertaDidik", "Ptk", "Sekolah", "PROVINSI", "roster_imported"]
# The export's files and columns, for the synthetic roster generator (akun.synthetic).
__all__ += ["COLUMNS", "SEKOLAH_COLUMNS", "PESERTA_DIDIK_COLUMNS", "PTK_COLUMNS"]
