"""Small hand-made Dapodik snapshots for import tests."""

import csv
import uuid
from pathlib import Path

from akun.roster.vocab import PESERTA_DIDIK_COLUMNS as PD_COLS
from akun.roster.vocab import PTK_COLUMNS as PTK_COLS
from akun.roster.vocab import SEKOLAH_COLUMNS as SEKOLAH_COLS


def uid(n: int) -> str:
    return str(uuid.UUID(int=n, version=4))


class Snapshot:
    """A mutable snapshot: lists of dict rows, written as CSV files on demand."""

    def __init__(self, schools=3, students_per_school=10, ptk_per_school=3, province="32"):
        self.sekolah, self.peserta_didik, self.ptk = [], [], []
        n = 0
        for s in range(schools):
            sid = uid(1000 + s)
            prov = province if s % 2 == 0 else "33"
            self.sekolah.append(
                {
                    "sekolah_id": sid,
                    "npsn": f"{20100000 + s:08d}",
                    "nama": f"SD NEGERI {s + 1} CONTOH",
                    "bentuk_pendidikan": "SD",
                    "status_sekolah": "Negeri",
                    "kode_wilayah": f"{prov}0412",
                    "kabupaten_kota": "Kab. Bandung",
                    "provinsi": "Prov. Jawa Barat",
                }
            )
            for i in range(students_per_school):
                n += 1
                self.peserta_didik.append(
                    {
                        "peserta_didik_id": uid(100000 + n),
                        "nisn": f"{n:010d}",
                        "nik": f"3204{n:012d}",
                        "nama": f"Siswa Nomor {n}",
                        "jenis_kelamin": "L" if n % 2 else "P",
                        "tempat_lahir": "Bandung",
                        "tanggal_lahir": "2014-03-09",
                        "sekolah_id": sid,
                        "tingkat_pendidikan": str(1 + i % 6),
                        "program": "reguler",
                        "rombel": f"{1 + i % 6}A",
                    }
                )
            for j in range(ptk_per_school):
                n += 1
                self.ptk.append(
                    {
                        "ptk_id": uid(500000 + n),
                        "nuptk": f"{n:016d}",
                        "nip": "",
                        "nik": f"3204{n:012d}",
                        "nama": f"Guru Nomor {n}",
                        "gelar_depan": "",
                        "gelar_belakang": "S.Pd.",
                        "jenis_kelamin": "P",
                        "tanggal_lahir": "1985-01-31",
                        "email": "",
                        "no_hp": "081234567890",
                        "sekolah_id": sid,
                        "jenis_ptk": "Kepala Sekolah" if j == 0 else "Guru Kelas",
                        "ptk_induk": "1",
                        "operator_sekolah": "1" if j == 1 else "0",
                    }
                )

    @property
    def record_count(self) -> int:
        return len(self.sekolah) + len(self.peserta_didik) + len(self.ptk)

    def write(self, directory: Path, *, delimiter=",", encoding="utf-8") -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        for name, cols, rows in (
            ("sekolah.csv", SEKOLAH_COLS, self.sekolah),
            ("peserta_didik.csv", PD_COLS, self.peserta_didik),
            ("ptk.csv", PTK_COLS, self.ptk),
        ):
            with (directory / name).open("w", newline="", encoding=encoding) as f:
                w = csv.DictWriter(f, fieldnames=cols, delimiter=delimiter)
                w.writeheader()
                w.writerows(rows)
        return directory
