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
from akun.roster.sql import (
    changed_after_sql,
    in_roster_sql,
    join_sekolah,
    people_estimate,
    person_key_ranges,
    peserta_didik_sql,
    province_sql,
    ptk_sql,
    school_batches,
    school_province_sql,
    schools_changed_sql,
    sekolah_sql,
    touched_people_sql,
)
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

# The export's files and columns, for the synthetic roster generator (akun.synthetic).
__all__ = [
    "COLUMNS",
    "PESERTA_DIDIK_COLUMNS",
    "PTK_COLUMNS",
    "SEKOLAH_COLUMNS",
    "JENIS_PTK_KEPALA",
    "JENIS_PTK_PENDIDIK",
    "PROVINSI",
    "SCHOOL_FORMS_EARLY_CHILDHOOD",
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
    # SQL fragments for other apps' set-based statements (akun.roster.sql)
    "changed_after_sql",
    "in_roster_sql",
    "join_sekolah",
    "people_estimate",
    "person_key_ranges",
    "school_batches",
    "peserta_didik_sql",
    "province_sql",
    "ptk_sql",
    "school_province_sql",
    "schools_changed_sql",
    "sekolah_sql",
    "touched_people_sql",
]
