"""Fill akun/locale/id's django.po with the Indonesian of akun.identity's strings.

Run after `akun makemessages -l id -l en`, then `akun compilemessages`. Keeping the
translations here, keyed by the English text, survives re-extraction."""

from pathlib import Path

from akun.core.fill_po import main

ID = {
    "Learning account": "Akun belajar",
    "Terms of use": "Ketentuan penggunaan",
    "Check account": "Cek akun",
    "Forgot password": "Lupa kata sandi",
    "Your learning account code to reset the password: %(code)s. Valid %(min)d minutes. "
    "Do not give it to anyone.": "Kode akun belajar untuk mengatur ulang kata sandi: %(code)s. "
    "Berlaku %(min)d menit. Jangan berikan kepada siapa pun.",
    "Your learning account code to confirm this contact: %(code)s. Valid %(min)d minutes. "
    "Do not give it to anyone.": "Kode akun belajar untuk memastikan kontak ini: %(code)s. "
    "Berlaku %(min)d menit. Jangan berikan kepada siapa pun.",
    "Your learning account code": "Kode akun belajar Anda",
    "Birth date": "Tanggal lahir",
    "User ID": "ID pengguna",
    "Password": "Kata sandi",
    "I have read the terms of use and I accept them.": "Saya sudah membaca ketentuan "
    "penggunaan dan menyetujuinya.",
    "Tick the box to accept the terms of use.": "Centang kotak untuk menyetujui ketentuan "
    "penggunaan.",
    "New password": "Kata sandi baru",
    "New password again": "Ulangi kata sandi baru",
    "The two passwords differ. Type the same twice.": "Kedua kata sandi berbeda. Ketik yang "
    "sama dua kali.",
    "Current password": "Kata sandi saat ini",
    "Student": "Peserta didik",
    "Teacher or education staff (PTK)": "Pendidik atau tenaga kependidikan (PTK)",
    "I am a": "Saya",
    "School NPSN": "NPSN sekolah",
    "The NPSN has 8 digits.": "NPSN terdiri dari 8 angka.",
    "Full name as in Dapodik": "Nama lengkap sesuai Dapodik",
    "School name": "Nama sekolah",
    "Regency, city or province (optional)": "Kabupaten, kota, atau provinsi (boleh kosong)",
    "Full name": "Nama lengkap",
    "E-mail or mobile number to reach you": "Email atau nomor HP yang bisa dihubungi",
    "The helpdesk answers you here.": "Helpdesk akan menjawab ke sini.",
    "Anything else we should know (optional)": "Keterangan lain (boleh kosong)",
    "Send the code to": "Kirim kode ke",
    "Code": "Kode",
    "The code has 6 digits.": "Kode terdiri dari 6 angka.",
    "Recovery e-mail": "Email pemulihan",
    "Recovery mobile number": "Nomor HP pemulihan",
    "Enter an Indonesian mobile number, such as 081234567890.": "Masukkan nomor HP Indonesia, "
    "misalnya 081234567890.",
    "No school with NPSN %(npsn)s is in the roster.": "Tidak ada sekolah dengan NPSN %(npsn)s "
    "di data Dapodik.",
    "Nobody with this name and birth date is in the roster of this school. Check that the "
    "name is written exactly as in Dapodik and the birth date is right; if the data in "
    "Dapodik is wrong, your school operator can correct it.": "Tidak ada data dengan nama dan "
    "tanggal lahir ini di sekolah tersebut. Pastikan nama ditulis persis seperti di Dapodik dan "
    "tanggal lahir benar; jika data di Dapodik salah, operator sekolah dapat memperbaikinya.",
    "You are in the roster but have no account yet. Accounts are issued only to those "
    "eligible (students of certain grades, teachers, heads of school and school operators), "
    "some days after the school's data reaches Dapodik.": "Data Anda ada di Dapodik, tetapi "
    "belum ada akun. Akun hanya diterbitkan bagi yang berhak (peserta didik kelas tertentu, "
    "pendidik, kepala sekolah, dan operator sekolah), beberapa hari setelah data sekolah masuk "
    "ke Dapodik.",
    "issued, not yet activated": "diterbitkan, belum diaktifkan",
    "active": "aktif",
    "suspended": "ditangguhkan",
    "deactivated": "dinonaktifkan",
    "deleted": "dihapus",
    "Terms of use, version %(version)s.": "Ketentuan penggunaan, versi %(version)s.",
    "My account": "Akun Saya",
    "Name": "Nama",
    "School": "Sekolah",
    "Role": "Peran",
    "Teacher": "Pendidik",
    "Head of school or school operator": "Kepala sekolah atau operator sekolah",
    "Regional or national admin": "Admin daerah atau pusat",
    "State": "Status",
    "Password and recovery": "Kata sandi dan pemulihan",
    "none": "belum ada",
    "change": "ubah",
    "add": "tambah",
    "Recovery phone": "HP pemulihan",
    "With a recovery contact you can reset a forgotten password yourself.": "Dengan kontak "
    "pemulihan, Anda bisa mengatur ulang sendiri kata sandi yang terlupa.",
    "Change password": "Ubah kata sandi",
    "Services you have signed in to": "Layanan yang pernah Anda masuki",
    "Service": "Layanan",
    "Last sign-in": "Terakhir masuk",
    "You have not signed in to any service with this account yet.": "Belum pernah masuk ke "
    "layanan mana pun dengan akun ini.",
    "Sessions": "Sesi",
    "Sign out": "Keluar",
    "Sign out everywhere (all devices)": "Keluar dari semua perangkat",
    "Check your account": "Cek akun Anda",
    "Your account": "Akun Anda",
    "Lost the password from your slip? Ask your school operator, or reset it if you have a "
    "contact on record.": "Kehilangan kata sandi dari kertas akun? Tanyakan ke operator "
    "sekolah, atau atur ulang jika ada kontak yang tercatat.",
    "Sign in": "Masuk",
    "No account found": "Akun tidak ditemukan",
    "Request an account": "Ajukan permintaan akun",
    "Find my school's NPSN": "Cari NPSN sekolah saya",
    "Check": "Cek",
    "Save password": "Simpan kata sandi",
    "Back to My account": "Kembali ke Akun Saya",
    "Recovery contact": "Kontak pemulihan",
    "We send a code to confirm it is yours.": "Kami mengirim kode untuk memastikan kontak ini "
    "milik Anda.",
    "Send code": "Kirim kode",
    "Enter the code": "Masukkan kode",
    "We sent a 6-digit code to %(masked)s. It is valid for 15 minutes.": "Kami telah mengirim "
    "kode 6 angka ke %(masked)s. Kode berlaku 15 menit.",
    "Confirm": "Konfirmasi",
    "Choose a new password": "Buat kata sandi baru",
    "Step 2 of 2: your own password": "Langkah 2 dari 2: kata sandi Anda sendiri",
    "The password on your slip stops working now. Choose one only you know.": "Kata sandi di "
    "kertas akun tidak berlaku lagi setelah ini. Buat kata sandi yang hanya Anda ketahui.",
    "Choose a new password only you know.": "Buat kata sandi baru yang hanya Anda ketahui.",
    "Tip: a few words you will remember, such as “kopi pagi di teras rumah”, make a strong "
    "password.": "Tips: beberapa kata yang mudah Anda ingat, misalnya “kopi pagi di teras "
    "rumah”, menjadi kata sandi yang kuat.",
    "Search": "Cari",
    "No school found. Try part of the name, or leave the region empty.": "Sekolah tidak "
    "ditemukan. Coba sebagian nama saja, atau kosongkan wilayah.",
    "Back to Check account": "Kembali ke Cek Akun",
    "The helpdesk looks into your request and answers at the contact you give.": "Helpdesk "
    "akan memeriksa permintaan Anda dan menjawab ke kontak yang Anda berikan.",
    "Send request": "Kirim permintaan",
    "Request sent": "Permintaan terkirim",
    "Thank you. The helpdesk will answer at the contact you gave.": "Terima kasih. Helpdesk "
    "akan menjawab ke kontak yang Anda berikan.",
    "Continue": "Lanjut",
    "Send a new code": "Kirim kode baru",
    "Reset password": "Atur ulang kata sandi",
    "Where should we send the code?": "Ke mana kode dikirim?",
    "Reset your password": "Atur ulang kata sandi Anda",
    "There is no e-mail or phone on record for this account. Ask your school operator for a "
    "new password.": "Tidak ada email atau nomor HP yang tercatat untuk akun ini. Mintalah "
    "kata sandi baru kepada operator sekolah.",
    "There is no e-mail or phone on record for this account. Ask your school operator or the "
    "helpdesk for a new password.": "Tidak ada email atau nomor HP yang tercatat untuk akun "
    "ini. Mintalah kata sandi baru kepada operator sekolah atau helpdesk.",
    "Don't know your user ID? Check your account": "Tidak tahu ID pengguna? Cek akun Anda",
    "Sign in to your learning account": "Masuk ke akun belajar",
    "First time? Use the user ID and the password on the slip from your school.": "Pertama "
    "kali? Gunakan ID pengguna dan kata sandi di kertas akun dari sekolah.",
    "Forgot password?": "Lupa kata sandi?",
    "Step 1 of 2: terms of use": "Langkah 1 dari 2: ketentuan penggunaan",
    "The terms of use have changed. Read and accept them to continue.": "Ketentuan penggunaan "
    "telah berubah. Baca dan setujui untuk melanjutkan.",
    'Account <span class="userid">%(user_id)s</span>. By using it you agree:': "Akun "
    '<span class="userid">%(user_id)s</span>. Dengan menggunakannya Anda setuju:',
    "Accept and continue": "Setuju dan lanjutkan",
    "Use this learning account for learning and teaching only.": "Gunakan akun belajar ini "
    "hanya untuk kegiatan belajar dan mengajar.",
    "Do not use it for commercial purposes.": "Dilarang digunakan untuk tujuan komersial.",
    "Do not use it for cryptocurrency mining.": "Dilarang digunakan untuk menambang mata uang "
    "kripto.",
    "Do not use it for pornography.": "Dilarang digunakan untuk pornografi.",
    "Do not misuse sensitive or personal data.": "Dilarang menyalahgunakan data sensitif atau "
    "data pribadi.",
    "Do not use it for any activity against the law.": "Dilarang digunakan untuk kegiatan yang "
    "melanggar hukum.",
    "Do not use it for hate speech or content attacking ethnicity, religion, race or group "
    "(SARA).": "Dilarang digunakan untuk ujaran kebencian atau konten SARA (suku, agama, ras, "
    "dan antargolongan).",
    "Do not infringe copyright.": "Dilarang melanggar hak cipta.",
    "Misuse of the account leads to its deactivation.": "Penyalahgunaan akun berakibat akun "
    "dinonaktifkan.",
    "Use at least %(min)d character: add more; a few words make a strong, easy-to-remember "
    "password.": "Gunakan paling sedikit %(min)d karakter: tambahkan lagi; beberapa kata "
    "membuat kata sandi yang kuat dan mudah diingat.",
    "Use at most %(max)d characters.": "Gunakan paling banyak %(max)d karakter.",
    "At least %(min)d characters; any characters, spaces included.": "Paling sedikit %(min)d "
    "karakter; boleh karakter apa pun, termasuk spasi.",
    "This is the password from your account slip. Choose a new one of your own.": "Ini kata "
    "sandi dari kertas akun Anda. Buat kata sandi baru milik Anda sendiri.",
    "Not the password on your account slip.": "Bukan kata sandi di kertas akun.",
    "Do not use your user ID in your password. Choose other words.": "Jangan gunakan ID "
    "pengguna di kata sandi. Pilih kata lain.",
    "Do not use your name or part of it in your password. Choose other words.": "Jangan "
    "gunakan nama Anda atau bagiannya di kata sandi. Pilih kata lain.",
    "Do not use your birth date in your password. Choose something else.": "Jangan gunakan "
    "tanggal lahir di kata sandi. Pilih yang lain.",
    "Not your user ID, your name or your birth date.": "Bukan ID pengguna, nama, atau tanggal "
    "lahir Anda.",
    "This password is one of the most common ones and easy to guess. Add words or choose a "
    "phrase only you would think of.": "Kata sandi ini termasuk yang paling umum dan mudah "
    "ditebak. Tambahkan kata atau pilih kalimat yang hanya terpikir oleh Anda.",
    "Not a common password such as 12345678 or bismillah.": "Bukan kata sandi umum seperti "
    "12345678 atau bismillah.",
    "Too many failed attempts: sign-in is locked for %(n)d minute. Try again later, or reset "
    "your password.": "Terlalu banyak percobaan gagal: masuk dikunci selama %(n)d menit. Coba "
    "lagi nanti, atau atur ulang kata sandi.",
    "Too many failed attempts. Wait %(n)d second and try again.": "Terlalu banyak percobaan "
    "gagal. Tunggu %(n)d detik lalu coba lagi.",
    "This account is suspended and cannot sign in. Ask your school operator, or the helpdesk, "
    "what to do.": "Akun ini ditangguhkan dan tidak bisa masuk. Tanyakan kepada operator "
    "sekolah atau helpdesk apa yang perlu dilakukan.",
    "This account has been deactivated and cannot sign in. Ask your school operator, or the "
    "helpdesk, whether it can be reactivated.": "Akun ini telah dinonaktifkan dan tidak bisa "
    "masuk. Tanyakan kepada operator sekolah atau helpdesk apakah akun bisa diaktifkan kembali.",
    "This account can no longer be used. Ask your school operator, or the helpdesk, for "
    "help.": "Akun ini tidak dapat digunakan lagi. Mintalah bantuan operator sekolah atau "
    "helpdesk.",
    "The user ID or the password is wrong. Check both and try again.": "ID pengguna atau kata "
    "sandi salah. Periksa keduanya lalu coba lagi.",
    "Enter your user ID and your password.": "Masukkan ID pengguna dan kata sandi Anda.",
    "You have signed out.": "Anda telah keluar.",
    "Your account is active. Welcome!": "Akun Anda sudah aktif. Selamat datang!",
    "Your password has been changed.": "Kata sandi Anda telah diubah.",
    "Too many lookups from your connection. Wait %(n)d second and try again.": "Terlalu banyak "
    "pencarian dari koneksi Anda. Tunggu %(n)d detik lalu coba lagi.",
    "Too many requests from your connection. Try again later.": "Terlalu banyak permintaan "
    "dari koneksi Anda. Coba lagi nanti.",
    "No account matches this user ID and birth date. Check both.": "Tidak ada akun yang cocok "
    "dengan ID pengguna dan tanggal lahir ini. Periksa keduanya.",
    "E-mail to %(c)s": "Email ke %(c)s",
    "SMS to %(c)s": "SMS ke %(c)s",
    "The code is wrong. %(n)d try left.": "Kode salah. Sisa %(n)d kali percobaan.",
    "The code has expired (it is valid 15 minutes). Ask for a new code.": "Kode sudah "
    "kedaluwarsa (berlaku 15 menit). Minta kode baru.",
    "This code can no longer be used (too many tries). Ask for a new code.": "Kode ini tidak "
    "dapat digunakan lagi (terlalu banyak percobaan). Minta kode baru.",
    "The current password is wrong.": "Kata sandi saat ini salah.",
    "You have signed out of all sessions, on every device.": "Anda telah keluar dari semua "
    "sesi, di semua perangkat.",
    "The contact is confirmed and saved.": "Kontak sudah dikonfirmasi dan disimpan.",
    "Cek Akun is receiving very many requests right now, so it is paused for a while to "
    "protect students' data. Please try again in about %(n)d minute. Your school operator can "
    "also tell you your user ID.": "Cek Akun sedang menerima sangat banyak permintaan, jadi "
    "dihentikan sementara untuk melindungi data peserta didik. Silakan coba lagi dalam sekitar "
    "%(n)d menit. Operator sekolah Anda juga dapat memberi tahu ID pengguna Anda.",
    "There have been too many lookups for this school today, so Cek Akun is paused for it to "
    "protect its students' data. Please try again tomorrow, or ask your school operator: they "
    "can see your user ID.": "Sudah terlalu banyak pencarian untuk sekolah ini hari ini, jadi "
    "Cek Akun dihentikan sementara untuk sekolah ini demi melindungi data peserta didiknya. "
    "Silakan coba lagi besok, atau tanyakan kepada operator sekolah Anda: mereka dapat melihat "
    "ID pengguna Anda.",
    "Password reset is receiving very many requests right now, so it is paused for a while. "
    "Please try again in about %(n)d minute, or ask your school operator to reset your "
    "password.": "Reset kata sandi sedang menerima sangat banyak permintaan, jadi dihentikan "
    "sementara. Silakan coba lagi dalam sekitar %(n)d menit, atau minta operator sekolah Anda "
    "mengatur ulang kata sandi Anda.",
    "There have been too many attempts for accounts of this school today, so password reset is "
    "paused for them. Please try again tomorrow, or ask your school operator to reset your "
    "password.": "Sudah terlalu banyak percobaan untuk akun sekolah ini hari ini, jadi reset "
    "kata sandi dihentikan sementara untuk akun-akun tersebut. Silakan coba lagi besok, atau "
    "minta operator sekolah Anda mengatur ulang kata sandi Anda.",
    # akun.core.middleware: refused request parameters
    "The parameter “%(name)s” contains a NUL character.": "Parameter “%(name)s” berisi "
    "karakter NUL.",
    "The parameter “%(name)s” is not valid UTF-8.": "Parameter “%(name)s” bukan UTF-8 yang sah.",
    "The parameter “%(name)s” is longer than %(limit)d characters.": "Parameter “%(name)s” "
    "lebih panjang dari %(limit)d karakter.",
}


if __name__ == "__main__":
    main(ID, Path(__file__).resolve().parents[2] / "locale/id/LC_MESSAGES/django.po")
