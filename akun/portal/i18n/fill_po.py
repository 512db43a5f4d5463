"""Fill akun/portal/locale/id's django.po with the Indonesian of the portal's strings.

  cd akun/portal && django-admin makemessages -l id -l en --no-obsolete
  python akun/portal/i18n/fill_po.py && msgfmt each django.po (or akun compilemessages)

The translations live here, keyed by the English text, so re-extraction keeps them."""

from pathlib import Path

from akun.core.fill_po import main

ID = {
    "No roster row of this person at this school.": "Tidak ada data orang ini di sekolah ini "
    "dalam Dapodik.",
    "No NISN in the roster: search by the student's NIK.": "Tidak ada NISN di Dapodik: cari "
    "dengan NIK peserta didik.",
    "All roles": "Semua peran",
    "Students": "Peserta didik",
    "Teachers": "Guru",
    "Heads and operators": "Kepala sekolah dan operator",
    "School admins": "Admin sekolah",
    "All states": "Semua status",
    "issued": "diterbitkan",
    "active": "aktif",
    "suspended": "ditangguhkan",
    "deactivated": "dinonaktifkan",
    "deleted": "dihapus",
    "Teachers and staff (PTK)": "Guru dan tenaga kependidikan (PTK)",
    "Code from your authenticator app": "Kode dari aplikasi autentikator",
    "Recovery code": "Kode pemulihan",
    "Search name, NISN, NUPTK or user ID": "Cari nama, NISN, NUPTK atau ID pengguna",
    "Role": "Peran",
    "Class": "Rombel",
    "State": "Status",
    "All classes": "Semua rombel",
    "Who": "Siapa",
    "Whole school": "Seluruh sekolah",
    "Yes, give this person a new initial password": "Ya, beri orang ini kata sandi awal baru",
    "Name, NISN, NUPTK or NIK": "Nama, NISN, NUPTK atau NIK",
    "Your session has expired. Please sign in again.": "Sesi Anda telah berakhir. Silakan "
    "masuk lagi.",
    "Account slips": "Slip akun",
    "Learning account": "Akun belajar",
    "User ID": "ID pengguna",
    "Initial password": "Kata sandi awal",
    "Sign in at": "Masuk di",
    "Change the password at the first sign-in. Keep this slip private.": "Ganti kata sandi saat "
    "pertama masuk. Jangan perlihatkan slip ini kepada orang lain.",
    "No accounts with an initial password.": "Tidak ada akun dengan kata sandi awal.",
    "Portal": "Portal",
    "Home": "Beranda",
    "Accounts": "Akun",
    "Download accounts": "Unduh Akun",
    "Why no account?": "Kenapa tidak ada akun?",
    "Log": "Log",
    "Region": "Wilayah",
    "Security": "Keamanan",
    "Operator portal": "Portal operator",
    "My account": "Akun Saya",
    "Sign out": "Keluar",
    "Pages": "Halaman",
    "Previous": "Sebelumnya",
    "Page %(n)s of %(total)s": "Halaman %(n)s dari %(total)s",
    "Next": "Berikutnya",
    "Admins": "Admin",
    "Issued": "Diterbitkan",
    "Activated": "Diaktifkan",
    "Reset password": "Atur ulang kata sandi",
    "The person gets a new initial password, shown to you once and included in the next "
    "download. The account goes back to 'issued': they sign in with the new password and "
    "activate again. Their current sessions end.": "Orang ini mendapat kata sandi awal baru, "
    "ditampilkan kepada Anda sekali dan ikut dalam unduhan berikutnya. Akun kembali berstatus "
    "'diterbitkan': ia masuk dengan kata sandi baru dan mengaktifkan akun lagi. Sesi yang "
    "sedang berjalan berakhir.",
    "This account is not issued or active: its password cannot be reset here. Ask your "
    "regional admin or the helpdesk.": "Akun ini tidak berstatus diterbitkan atau aktif: kata "
    "sandinya tidak dapat direset di sini. Hubungi admin wilayah atau helpdesk.",
    "Why does this person have this account?": "Kenapa orang ini mendapat akun ini?",
    "Search": "Cari",
    "%(n)s account": "%(n)s akun",
    "No account matches.": "Tidak ada akun yang cocok.",
    "Activity log": "Log aktivitas",
    "Downloads, resets, sign-ins and account changes in your area.": "Unduhan, reset, "
    "aktivitas masuk dan perubahan akun di wilayah Anda.",
    "by": "oleh",
    "Nothing recorded yet.": "Belum ada catatan.",
    "The files hold initial passwords: keep them safe, hand each slip only to its owner. Every "
    "download is recorded.": "Berkas ini berisi kata sandi awal: simpan dengan aman, berikan "
    "setiap slip hanya kepada pemiliknya. Setiap unduhan dicatat.",
    "Download CSV": "Unduh CSV",
    "Print slips (PDF)": "Cetak slip (PDF)",
    "CSV: every account with its state, the initial password for accounts not yet activated "
    "(opens in Excel). Slips: one per person with an initial password, ten per A4 page, with "
    "cut lines and a QR code of the sign-in address.": "CSV: semua akun dengan statusnya, dan "
    "kata sandi awal untuk akun yang belum diaktifkan (dapat dibuka di Excel). Slip: satu per "
    "orang yang memiliki kata sandi awal, sepuluh per halaman A4, dengan garis potong dan kode "
    "QR alamat masuk.",
    "Your schools": "Sekolah Anda",
    "Your regions": "Wilayah Anda",
    "Indonesia (national)": "Indonesia (nasional)",
    "Second step of sign-in": "Langkah kedua untuk masuk",
    "Enter the code from your authenticator app": "Masukkan kode dari aplikasi autentikator",
    "Set up your authenticator app": "Siapkan aplikasi autentikator",
    "Operator and admin accounts need a second step at every sign-in: a 6-digit code from an "
    "authenticator app on your phone (for example Google Authenticator, Microsoft "
    "Authenticator, Aegis or FreeOTP).": "Akun operator dan admin memerlukan langkah kedua "
    "setiap kali masuk: kode 6 angka dari aplikasi autentikator di ponsel Anda (misalnya "
    "Google Authenticator, Microsoft Authenticator, Aegis atau FreeOTP).",
    "Open the app and add an account by scanning this QR code.": "Buka aplikasi dan tambahkan "
    "akun dengan memindai kode QR ini.",
    "Type the 6-digit code the app shows, below.": "Ketik kode 6 angka yang ditampilkan "
    "aplikasi di bawah ini.",
    "Cannot scan? Enter this key in the app by hand:": "Tidak bisa memindai? Masukkan kunci ini "
    "secara manual di aplikasi:",
    "Continue": "Lanjut",
    "Confirm and continue": "Konfirmasi dan lanjut",
    "Lost your phone? Use a recovery code": "Ponsel hilang? Gunakan kode pemulihan",
    "Use recovery code": "Gunakan kode pemulihan",
    "No recovery codes left? Ask your regional admin or the helpdesk to reset your second "
    "step.": "Kode pemulihan habis? Minta admin wilayah atau helpdesk mereset langkah kedua Anda.",
    "Recovery codes": "Kode pemulihan",
    "Your recovery codes": "Kode pemulihan Anda",
    "Your authenticator app is set up.": "Aplikasi autentikator Anda sudah siap.",
    "If you lose your phone, each of these codes lets you sign in once. Write them down or "
    "print this page and keep it somewhere safe. They are shown only now.": "Jika ponsel Anda "
    "hilang, setiap kode ini dapat dipakai sekali untuk masuk. Catat atau cetak halaman ini "
    "dan simpan di tempat aman. Kode hanya ditampilkan sekarang.",
    "I have saved them: continue": "Sudah saya simpan: lanjut",
    "Up one level": "Naik satu tingkat",
    "schools": "sekolah",
    "accounts": "akun",
    "activated": "teraktivasi",
    "Provinces": "Provinsi",
    "Regencies and cities": "Kabupaten dan kota",
    "Schools": "Sekolah",
    "Download this table (CSV)": "Unduh tabel ini (CSV)",
    "No schools.": "Tidak ada sekolah.",
    "New initial password": "Kata sandi awal baru",
    "The password has been reset. The account is issued again and must be activated.": "Kata "
    "sandi sudah direset. Akun kembali berstatus diterbitkan dan harus diaktifkan lagi.",
    "Name": "Nama",
    "Shown only now. It is also in the next download (CSV and slips) until the person "
    "activates the account.": "Hanya ditampilkan sekarang. Kata sandi ini juga ada di unduhan "
    "berikutnya (CSV dan slip) sampai akun diaktifkan.",
    "Done": "Selesai",
    "activation deadline": "batas waktu aktivasi",
    "%(n)s day left": "%(n)s hari lagi",
    "passed": "sudah lewat",
    "%(n)s not activated": "%(n)s belum diaktifkan",
    "Accounts by role and state": "Akun menurut peran dan status",
    "Total": "Jumlah",
    "Activation rate: active accounts among issued and active ones. An issued account has not "
    "signed in yet: hand out its slip.": "Tingkat aktivasi: akun aktif di antara akun yang "
    "diterbitkan dan aktif. Akun berstatus diterbitkan belum pernah masuk: bagikan slipnya.",
    "Not yet activated": "Belum diaktifkan",
    "You have %(n)s unused recovery code.": "Anda memiliki %(n)s kode pemulihan yang belum "
    "dipakai.",
    "Make new recovery codes (the old ones stop working)": "Buat kode pemulihan baru (kode lama "
    "tidak berlaku lagi)",
    "Signed in on a computer you do not trust, or lost a device? Sign out of every session.": ""
    "Pernah masuk di komputer yang tidak Anda percayai, atau kehilangan perangkat? Keluar dari "
    "semua sesi.",
    "Sign out everywhere (all devices)": "Keluar dari semua perangkat",
    "Explain": "Jelaskan",
    "Nobody with that name or number in this school's roster. Check the spelling, or the data "
    "in Dapodik.": "Tidak ada orang dengan nama atau nomor itu di data sekolah ini. Periksa "
    "ejaannya, atau data di Dapodik.",
    "That code is not right. Check the time on your phone and try again.": "Kode itu tidak "
    "benar. Periksa jam di ponsel Anda lalu coba lagi.",
    "Tick the box to confirm the reset.": "Centang kotak untuk memastikan reset.",
    "This account is %(state)s: its password cannot be reset here.": "Akun ini berstatus "
    "%(state)s: kata sandinya tidak dapat direset di sini.",
    "Code": "Kode",
    "Too many wrong codes. Wait %(n)d second and try again.": "Terlalu banyak kode salah. "
    "Tunggu %(n)d detik lalu coba lagi.",
    "Too many wrong codes: the second step of this account is locked for %(n)d minute. Try "
    "again later, or ask your regional admin or the helpdesk.": "Terlalu banyak kode salah: "
    "langkah kedua akun ini dikunci selama %(n)d menit. Coba lagi nanti, atau hubungi admin "
    "dinas atau helpdesk.",
    "Activation rate": "Tingkat aktivasi",
    "This account is outside your schools and regions.": "Akun ini berada di luar sekolah dan "
    "wilayah Anda.",
    "Only the regional admin (dinas) can reset the password of a head of school or a school "
    "operator.": "Hanya admin dinas yang dapat mereset kata sandi kepala sekolah atau operator "
    "sekolah.",
    "This account's password cannot be reset here.": "Kata sandi akun ini tidak dapat direset di "
    "sini.",
    "Give the reason for this reset.": "Tuliskan alasan reset ini.",
    "The reason contains a null character.": "Alasan berisi karakter null.",
    "The reason is longer than %(n)d characters.": "Alasan lebih panjang dari %(n)d karakter.",
    "Reason (kept in the audit log)": "Alasan (disimpan di log audit)",
    "The person is told of the reset by e-mail and SMS on the contacts on record.": "Orang ini "
    "diberi tahu tentang reset ini lewat e-mail dan SMS ke kontak yang tercatat.",
    "A head of school or school operator: only the regional admin may reset, and the reason is "
    "kept in the audit log.": "Kepala sekolah atau operator sekolah: hanya admin dinas yang "
    "boleh mereset, dan alasannya disimpan di log audit.",
    "Your learning account password was reset": "Kata sandi akun belajar Anda direset",
    "The password of your learning account %(user_id)s at %(school)s was reset on %(date)s by "
    "%(by)s. The account is back to 'issued': it needs a new initial password, and every "
    "session on it has ended.": "Kata sandi akun belajar %(user_id)s di %(school)s direset pada "
    "%(date)s oleh %(by)s. Akun kembali berstatus 'diterbitkan': perlu kata sandi awal baru, dan "
    "semua sesinya telah berakhir.",
    "If you did not ask for this, tell your head of school or the regional education office "
    "(dinas) at once.": "Jika Anda tidak memintanya, segera beri tahu kepala sekolah atau dinas "
    "pendidikan.",
    "Learning account %(user_id)s: password reset on %(date)s by %(by)s. Not you? Tell your head "
    "of school or the dinas.": "Akun belajar %(user_id)s: kata sandi direset pada %(date)s oleh "
    "%(by)s. Bukan Anda? Beri tahu kepala sekolah atau dinas.",
}


if __name__ == "__main__":
    main(ID, Path(__file__).resolve().parents[1] / "locale/id/LC_MESSAGES/django.po")
