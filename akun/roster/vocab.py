"""Dapodik's vocabularies: the files and columns of an export, and the values a field may take."""

# The three files of a Dapodik export and their columns, in the export's order
# (../shared/dapodik-export.md). The generator writes these; the importer requires them.
SEKOLAH_COLUMNS = (
    "sekolah_id", "npsn", "nama", "bentuk_pendidikan", "status_sekolah", "kode_wilayah",
    "kabupaten_kota", "provinsi",
)  # fmt: skip
PESERTA_DIDIK_COLUMNS = (
    "peserta_didik_id", "nisn", "nik", "nama", "jenis_kelamin", "tempat_lahir",
    "tanggal_lahir", "sekolah_id", "tingkat_pendidikan", "program", "rombel",
)  # fmt: skip
PTK_COLUMNS = (
    "ptk_id", "nuptk", "nip", "nik", "nama", "gelar_depan", "gelar_belakang", "jenis_kelamin",
    "tanggal_lahir", "email", "no_hp", "sekolah_id", "jenis_ptk", "ptk_induk",
    "operator_sekolah",
)  # fmt: skip
COLUMNS = {
    "sekolah.csv": SEKOLAH_COLUMNS,
    "peserta_didik.csv": PESERTA_DIDIK_COLUMNS,
    "ptk.csv": PTK_COLUMNS,
}

# bentuk_pendidikan: forms of school.
SCHOOL_FORMS_PRIMARY_SECONDARY = {"SD", "SMP", "SMA", "SMK", "SLB", "SDLB", "SMPLB", "SMALB"}
SCHOOL_FORMS_EQUIVALENCY = {"PKBM", "SKB"}  # Paket A/B/C
SCHOOL_FORMS_EARLY_CHILDHOOD = {"TK", "KB", "TPA", "SPS"}
# Other forms Dapodik knows (religious, international, ...): read, never eligible by form.
SCHOOL_FORMS_OTHER = {"SPK", "SMTK", "SMAK", "SDTK", "SMPTK", "KURSUS", "TBM", "MI", "MTS", "MA"}
SCHOOL_FORMS = (
    SCHOOL_FORMS_PRIMARY_SECONDARY
    | SCHOOL_FORMS_EQUIVALENCY
    | SCHOOL_FORMS_EARLY_CHILDHOOD
    | SCHOOL_FORMS_OTHER
)

STATUS_SEKOLAH = {"negeri": "Negeri", "swasta": "Swasta"}

PROGRAMS = {"reguler", "paket_a", "paket_b", "paket_c"}

JENIS_KELAMIN = {"L", "P"}

# jenis_ptk: teachers (pendidik) and education staff (tenaga kependidikan).
JENIS_PTK_PENDIDIK = {
    "Guru Kelas",
    "Guru Mapel",
    "Guru BK",
    "Guru Inklusi",
    "Guru Pendamping",
    "Guru Pendamping Khusus",
    "Guru TIK",
    "Tutor",
    "Instruktur",
}
JENIS_PTK_KEPALA = "Kepala Sekolah"
JENIS_PTK_TENDIK = {
    JENIS_PTK_KEPALA,
    "Tenaga Administrasi Sekolah",
    "Tenaga Perpustakaan",
    "Laboran",
    "Penjaga Sekolah",
    "Petugas Keamanan",
    "Tenaga Kebersihan",
    "Pengemudi",
    "Pesuruh",
}
JENIS_PTK = JENIS_PTK_PENDIDIK | JENIS_PTK_TENDIK

# Kemendagri province codes (2 digits), as of Kepmendagri 100.1.1-6117/2022.
PROVINSI = {
    "11": "Aceh",
    "12": "Sumatera Utara",
    "13": "Sumatera Barat",
    "14": "Riau",
    "15": "Jambi",
    "16": "Sumatera Selatan",
    "17": "Bengkulu",
    "18": "Lampung",
    "19": "Kepulauan Bangka Belitung",
    "21": "Kepulauan Riau",
    "31": "DKI Jakarta",
    "32": "Jawa Barat",
    "33": "Jawa Tengah",
    "34": "DI Yogyakarta",
    "35": "Jawa Timur",
    "36": "Banten",
    "51": "Bali",
    "52": "Nusa Tenggara Barat",
    "53": "Nusa Tenggara Timur",
    "61": "Kalimantan Barat",
    "62": "Kalimantan Tengah",
    "63": "Kalimantan Selatan",
    "64": "Kalimantan Timur",
    "65": "Kalimantan Utara",
    "71": "Sulawesi Utara",
    "72": "Sulawesi Tengah",
    "73": "Sulawesi Selatan",
    "74": "Sulawesi Tenggara",
    "75": "Gorontalo",
    "76": "Sulawesi Barat",
    "81": "Maluku",
    "82": "Maluku Utara",
    "91": "Papua",
    "92": "Papua Barat",
    "93": "Papua Selatan",
    "94": "Papua Tengah",
    "95": "Papua Pegunungan",
    "96": "Papua Barat Daya",
}

# Which grades and programmes a school form teaches: (form, program) -> (lowest, highest grade).
# A student row outside these is rejected: the school form or the grade is wrong in Dapodik.
PAKET_GRADES = {"paket_a": (1, 6), "paket_b": (7, 9), "paket_c": (10, 12)}
GRADES_BY_FORM = {
    ("SD", "reguler"): (1, 6),
    ("SMP", "reguler"): (7, 9),
    ("SMA", "reguler"): (10, 12),
    ("SMK", "reguler"): (10, 13),
    ("SLB", "reguler"): (1, 12),
    ("SDLB", "reguler"): (1, 6),
    ("SMPLB", "reguler"): (7, 9),
    ("SMALB", "reguler"): (10, 12),
    **{
        (form, p): grades for form in SCHOOL_FORMS_EQUIVALENCY for p, grades in PAKET_GRADES.items()
    },
    **{(form, "reguler"): (1, 13) for form in SCHOOL_FORMS_OTHER},
    # Early-childhood forms have no graded students: no entry.
}
