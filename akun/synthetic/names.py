"""Indonesian personal names for synthetic rosters.

Styles differ by region: Javanese single names, Sundanese, Balinese birth-order names,
Batak and Karo clan names, Minahasa, NTT and Papuan Christian names, Arabic-Islamic names.
Common first names (Muhammad, Siti, Nur, Putri, ...) repeat a lot, as they do in Dapodik.
Every name is encodable in Windows-1252 (a few use ’ or é, which differ from UTF-8).
"""

from random import Random

# Names that are very common everywhere; listed twice or more to collide often.
_COMMON_L = (
    "Muhammad Muhammad Muhammad Ahmad Ahmad Agus Budi Andi Rizky Fajar Dimas Bayu "
    "Arif Hendra Yusuf Ilham Aditya Dwi Tri Eko Adi Wahyu Rudi Irfan Reza"
).split()
_COMMON_P = (
    "Siti Siti Siti Nur Nur Putri Putri Dewi Sri Sri Ayu Nurul Dian Fitri Rina "
    "Indah Wulan Sari Dwi Tri Eka Lestari Intan Anisa"
).split()

# Modern given names (students).
_MODERN_L = (
    "Rizki Aditya Farhan Daffa Naufal Arya Bima Galih Gilang Yoga Rehan Alif Akbar Fauzan "
    "Hafiz Raffi Rafa Dzaky Azka Kenzo Arkan Athaya Zidan Fathan Haikal Kevin Rangga Satria "
    "Bagas Fikri Dafa Ilyas Hanif Kahfi Raditya Alvaro Rayyan Abizar Fadhil Nabil Rasya "
    "Syahrul Taufik Zaki Yudha Dion Andika Rizal Pandu Dava"
).split()
_MODERN_P = (
    "Nabila Salsabila Aulia Zahra Aisyah Nadia Citra Kirana Alya Keysha Naura Azzahra Khansa "
    "Syifa Anindya Amelia Vania Tiara Cahaya Najwa Kayla Adinda Aqila Safira Nayla Rara "
    "Bunga Melati Shafa Hana Luthfia Marsha Nisa Febriani Rahma Annisa Dinda Laila Clarissa "
    "Jasmine Aurel Zaskia Kanaya Zivana Tsabita"
).split()

# Given names of adults (teachers and staff).
_DEWASA_L = (
    "Hendra Rudi Agus Budi Eko Joko Dedi Heri Yanto Iwan Andi Rahmat Syamsul Zulkifli Ridwan "
    "Darmawan Suryadi Anton Erwin Ferry Irwan Nasrul Amir Yusri Hasbi Hamdani Syafrizal"
).split()
_DEWASA_P = (
    "Sri Dewi Rina Yuli Endang Ratna Nurhayati Rosmawati Erni Yusnita Hasnah Lina Mariani "
    "Dahlia Zulaikha Yenni Nova Desi Lusi Sartika Rosdiana Nurlela Fitriani"
).split()

# Second parts of modern two- and three-word names.
_SECOND_L = (
    "Pratama Saputra Putra Ramadhan Maulana Firmansyah Nugroho Kurniawan Hidayat Setiawan "
    "Wijaya Kusuma Prasetyo Wibowo Hakim Fauzi Syahputra Rahman Akbar Alfarizi Al-Fatih "
    "Permana Santoso Gunawan Hermawan Febrian Aditama Mahendra Perdana Nur"
).split()
_SECOND_P = (
    "Putri Rahmawati Pratiwi Lestari Safitri Handayani Wulandari Anggraini Ramadhani "
    "Aprilia Oktaviani Permata Kusuma Maharani Azzahra Nur-Aini Fitriani Amalia Puspita "
    "Rahayu Septiani Khairunnisa Nuraini Salsabila Az-Zahra Febriyanti Cahyani"
).split()

# Older Javanese single-word names (teachers, staff, some students in villages).
_JAWA_L = (
    "Sukarno Wagiman Suparman Paijo Sutrisno Giyanto Mulyono Legiman Ngadiman Suwarno Slamet "
    "Tarno Jumadi Wakidi Sugiyono Sumarno Sutopo Wiyono Supardi Kasmadi Parjo Tukimin "
    "Sarwono Darmaji Margono Sunardi Subagyo Purwanto Hartono Sugeng Bambang Joko Teguh "
    "Haryanto Suroto Triyono Mujiono Rubiyanto"
).split()
_JAWA_P = (
    "Sumarni Tukiyem Parmi Sumini Sukinah Painem Tumini Sarmini Kasiyem Ngatini Sutarmi "
    "Yatmi Samini Darmi Sulastri Suyatmi Wartini Rusmiyati Sukarni Sriyani Endang Suparti "
    "Warsini Sumiyati Yuliati Rumini Purwanti Mujiati Kustini Setyowati"
).split()
# Older second parts (two-word adult names).
_OLD_SECOND_L = (
    "Sudarsono Santoso Susanto Suharto Hidayat Wibisono Prasetyo Setiadi Kusnadi Sutrisno "
    "Hermanto Suprapto Budiman Hartono Gunawan Rahmat Sudrajat Effendi Syahputra Saleh"
).split()
_OLD_SECOND_P = (
    "Wahyuni Rahayu Lestari Handayani Sulistyowati Wulandari Suryani Hartati Kurniasih "
    "Rahmawati Mulyani Susilowati Purwaningsih Haryati Yulianti Aminah Hasanah Nurhayati "
    "Nurjanah Marlina"
).split()

_SUNDA_L = "Asep Ujang Dadang Cecep Dedi Yayat Iwan Ade Aep Jajang Deden Engkus Usep".split()
_SUNDA_P = "Euis Imas Neneng Iis Entin Tati Cucu Eneng Yati Elis Nining Ai Enok".split()

_ISLAM_L = (
    "Abdul Rahman|Abdullah|Umar|Ali|Hasan|Husein|Ibrahim|Ismail|Zainal Abidin|Ma'ruf|"
    "Mu'min|Syafi'i|Nu'man|Ja'far|Mas'ud|Rif'at|Abdul Aziz|Luqman|Hamzah|Sholeh"
).split("|")
_ISLAM_P = (
    "Fatimah|Khadijah|Maryam|Zainab|Aminah|Ni'mah|Sa'adah|Ma'rifah|Qur'ani|Ruqayyah|"
    "Nur Hidayah|Siti Aminah|Halimah|Rabi'ah|Mu'awanah|Umi Kalsum"
).split("|")

_KRISTEN_L = (
    "Yohanes Paulus Petrus Yosef Agustinus Fransiskus Daniel Samuel Markus Stefanus Imanuel "
    "Yakobus Lukas Matius Simon Andreas Yohanis Elias Obed Marthen"
).split()
_KRISTEN_P = (
    "Maria Theresia Elisabeth Kristina Natalia Grace Yohana Magdalena Agustina Veronika "
    "Margaretha Debora Priskila Ester Ruth Yuliana Fransiska Angelina Sarah Martha"
).split()

_BATAK = (
    "Siregar Nasution Harahap Simanjuntak Sitompul Hutapea Sinaga Simatupang Pardede "
    "Panjaitan Situmorang Sihombing Lubis Tambunan Manurung Hutagalung Sitorus Silalahi "
    "Napitupulu Marpaung Pasaribu Hutabarat Damanik Saragih Purba Lumban-Tobing"
).split()
_KARO = "Ginting Sembiring Tarigan Perangin-angin Karo-Karo Sitepu Bangun Barus Sebayang".split()
_MINAHASA = (
    "Lumowa Sondakh Rumondor Wowor Pangemanan Tumbelaka Mandagi Kalalo Rondonuwu Lengkong "
    "Tumewu Sumual Mamahit Runtuwene Walangitan"
).split()
_NTT = "Fanggidae Manafe Ndun Bire Lado Nenabu Ratu Tefa Kolo Seran Bria Mau Lake Nubatonis".split()
_MALUKU = "Pattimura Sahetapy Latuconsina Tuhumury Pattiasina Matulessy Sahetapy-Engel".split()
_PAPUA = (
    "Wenda Kogoya Wonda Tabuni Rumbiak Mandowen Yikwa Wanimbo Rumaropen Kambu Mirino "
    "Wetipo Karubaba Rumbewas Ayomi Yoku"
).split()

_BALI_URUTAN = ("Wayan", "Putu", "Gede", "Made", "Kadek", "Nengah", "Nyoman", "Komang", "Ketut")
_BALI_URUTAN_P = tuple(u for u in _BALI_URUTAN if u != "Gede")
_BALI_KASTA_L = ("I Gusti Ngurah", "I Gusti Bagus", "Ida Bagus", "Anak Agung", "Cokorda")
_BALI_KASTA_P = ("I Gusti Ayu", "Ida Ayu", "Anak Agung Ayu", "Desak")
_BALI_NAMA_L = (
    "Suardana Sudiarta Ariana Wirawan Sukadana Astawa Mahendra Artawan Budiasa Darmawan "
    "Suparta Widnyana Adnyana Eka Saputra Arya Wiguna"
).split()
_BALI_NAMA_P = (
    "Sri Wahyuni|Ari Sasmita|Sukerti|Suciati|Dewi Lestari|Ayu Widiastuti|Purnamasari|"
    "Sekar Arum|Eka Yanti|Widyastuti|Candra Dewi|Sugiantari"
).split("|")

# Christian names with accents, common in Flores, Manado and Ambon.
_AKSEN_L = ("André", "René", "Josué")
_AKSEN_P = ("Renée", "Désiré", "Angélina")

# Provinces by naming style.
_JAWA_PROV = {"33", "34", "35"}
_SUNDA_PROV = {"32", "36"}
_BALI_PROV = {"51"}
_BATAK_PROV = {"12"}
_MINAHASA_PROV = {"71"}
_NTT_PROV = {"53"}
_MALUKU_PROV = {"81", "82"}
_PAPUA_PROV = {"91", "92", "93", "94", "95", "96"}


def _pick(rng: Random, seq):
    return seq[int(rng.random() * len(seq))]


def _generic(rng: Random, male: bool, adult: bool) -> str:
    r = rng.random()
    common, modern = (_COMMON_L, _MODERN_L) if male else (_COMMON_P, _MODERN_P)
    if adult:
        modern = _DEWASA_L if male else _DEWASA_P
    second = (
        (_OLD_SECOND_L if male else _OLD_SECOND_P) if adult else (_SECOND_L if male else _SECOND_P)
    )
    if r < 0.30:
        return f"{_pick(rng, common)} {_pick(rng, modern if not adult else second)}"
    if r < 0.50:
        return f"{_pick(rng, common)} {_pick(rng, modern)} {_pick(rng, second)}"
    if r < 0.65:
        return _pick(rng, _ISLAM_L if male else _ISLAM_P) + (
            "" if rng.random() < 0.5 else f" {_pick(rng, second)}"
        )
    if r < 0.72:
        return _pick(rng, modern)  # a single word
    return f"{_pick(rng, modern)} {_pick(rng, second)}"


def _jawa(rng: Random, male: bool, adult: bool) -> str:
    r = rng.random()
    single_share = 0.45 if adult else 0.12
    if r < single_share:
        return _pick(rng, _JAWA_L if male else _JAWA_P)
    if adult and r < single_share + 0.25:
        return f"{_pick(rng, _JAWA_L if male else _JAWA_P)} {_pick(rng, _OLD_SECOND_L if male else _OLD_SECOND_P)}"  # noqa: E501
    return _generic(rng, male, adult)


def _sunda(rng: Random, male: bool, adult: bool) -> str:
    if rng.random() < (0.35 if adult else 0.12):
        first = _pick(rng, _SUNDA_L if male else _SUNDA_P)
        return (
            first
            if rng.random() < 0.4
            else f"{first} {_pick(rng, _OLD_SECOND_L if male else _OLD_SECOND_P)}"
        )  # noqa: E501
    return _generic(rng, male, adult)


def _bali(rng: Random, male: bool, adult: bool) -> str:
    if rng.random() < 0.1:
        return _generic(rng, male, adult)
    given = _pick(rng, _BALI_NAMA_L if male else _BALI_NAMA_P)
    if rng.random() < 0.12:
        kasta = _pick(rng, _BALI_KASTA_L if male else _BALI_KASTA_P)
        return f"{kasta} {_pick(rng, _BALI_URUTAN)} {given}"
    if male:
        return f"I {_pick(rng, _BALI_URUTAN)} {given}"
    if rng.random() < 0.4:
        return f"Ni Luh {_pick(rng, ('Putu', 'Made', 'Ketut'))} {given}"
    return f"Ni {_pick(rng, _BALI_URUTAN_P)} {given}"


def _with_surname(rng: Random, male: bool, adult: bool, surnames, christian_share: float) -> str:
    if rng.random() < christian_share:
        first = _pick(rng, _KRISTEN_L if male else _KRISTEN_P)
        if rng.random() < 0.03:
            first = _pick(rng, _AKSEN_L if male else _AKSEN_P)
        if rng.random() < 0.3:
            first = f"{first} {_pick(rng, _MODERN_L if male else _MODERN_P)}"
    else:
        first = _pick(rng, _MODERN_L if male else _MODERN_P)
    return f"{first} {_pick(rng, surnames)}"


def nama_orang(rng: Random, kode_provinsi: str, male: bool, *, adult: bool) -> str:
    """A plausible full name for someone from this province, without titles."""
    if kode_provinsi in _JAWA_PROV:
        return _jawa(rng, male, adult)
    if kode_provinsi in _SUNDA_PROV:
        return _sunda(rng, male, adult)
    if kode_provinsi in _BALI_PROV:
        return _bali(rng, male, adult)
    if kode_provinsi in _BATAK_PROV:
        if rng.random() < 0.55:
            surnames = _KARO if rng.random() < 0.2 else _BATAK
            return _with_surname(rng, male, adult, surnames, 0.6)
        return _generic(rng, male, adult)
    if kode_provinsi in _MINAHASA_PROV and rng.random() < 0.6:
        return _with_surname(rng, male, adult, _MINAHASA, 0.9)
    if kode_provinsi in _NTT_PROV and rng.random() < 0.85:
        return _with_surname(rng, male, adult, _NTT, 0.95)
    if kode_provinsi in _MALUKU_PROV and rng.random() < 0.5:
        return _with_surname(rng, male, adult, _MALUKU, 0.8)
    if kode_provinsi in _PAPUA_PROV and rng.random() < 0.7:
        return _with_surname(rng, male, adult, _PAPUA, 0.95)
    return _generic(rng, male, adult)


def curly(name: str) -> str:
    """The name as a word processor writes it: typographic apostrophe (’, cp1252 0x92)."""
    return name.replace("'", "\u2019")


# Academic titles (gelar) as written in Dapodik.
GELAR_DEPAN_TUA = ("Drs.", "Dra.")  # older graduates (before ~1993)
GELAR_DEPAN = ("Dr.", "Ir.")
GELAR_HAJI = {True: "H.", False: "Hj."}
GELAR_GURU = (
    "S.Pd.", "S.Pd.", "S.Pd.", "S.Pd.", "S.Pd.I.", "S.Ag.", "S.Pd.SD.", "S.Si.", "S.Kom.",
    "S.E.", "S.S.", "S.Psi.", "S.T.", "S.Or.", "S.Sos.", "S.H.",
)  # fmt: skip
GELAR_MAGISTER = ("M.Pd.", "M.Pd.", "M.Pd.I.", "M.Si.", "M.Kom.", "M.M.", "M.Ag.")
GELAR_TENDIK = ("A.Md.", "S.E.", "S.Kom.", "A.Md.Kom.", "S.IP.", "S.Sos.")

# Mobile prefixes of Indonesian operators.
HP_PREFIX = (
    "0811", "0812", "0813", "0821", "0822", "0823", "0852", "0853", "0851", "0817", "0818",
    "0819", "0859", "0877", "0878", "0831", "0832", "0838", "0895", "0896", "0897", "0898",
    "0881", "0882", "0887",
)  # fmt: skip
EMAIL_DOMAIN = ("gmail.com", "gmail.com", "gmail.com", "yahoo.com", "yahoo.co.id")

# Village and place words for school names.
DESA = (
    "Cibodas|Sukamaju|Sukajadi|Mekarsari|Sindangsari|Karanganyar|Sidomulyo|Sumbersari|"
    "Tanjungsari|Margamulya|Bojongsari|Pasirjaya|Sukamulya|Jatimulya|Kertajaya|Wonosari|"
    "Mulyorejo|Banjarsari|Tegalrejo|Gunungsari|Purwodadi|Karangrejo|Mojosari|Ngadirejo|"
    "Sumberejo|Rejosari|Sidorejo|Kebonsari|Sukasari|Cijambe|Cimanggu|Pasanggrahan|"
    "Sukaresmi|Harjamukti|Suka Damai|Tanjung Harapan|Bukit Tinggi|Sungai Baru|Teluk Dalam|"
    "Padang Sari|Air Putih|Kampung Baru|Sei Rampah|Pematang Sawah|Lubuk Raya|Labuhan|"
    "Batu Ampar|Tanah Merah|Lembah Hijau|Mekar Jaya|Sinar Harapan|Bhakti Jaya|Wae Rana|"
    "Oesao|Bonto Marannu|Tompobulu|Kampung Jawa|Rantau Panjang"
).split("|")
YAYASAN = (
    "Al-Hidayah|Nurul Iman|Al-Falah|Darul Ulum|Muhammadiyah|Al-Azhar|Bina Insani|"
    "Harapan Bangsa|Tunas Bangsa|PGRI|Budi Utomo|Taman Siswa|Santo Yosef|Kristen Kalam Kudus|"
    "Katolik Santa Maria|Islam Terpadu Nurul Fikri|Plus Al-Ma'arif|Cendekia|Pelita Harapan|"
    "Bhakti Mulia|Nusantara|Bina Bangsa|Insan Mulia|Permata Hati|Global Mandiri"
).split("|")
PKBM_NAMA = (
    "Bina Mandiri|Harapan Bangsa|Tunas Muda|Cahaya Ilmu|Bunda|Al-Ikhlas|Kartini|Mekar Sari|"
    "Insan Cita|Karya Bersama|Setia Budi|Pelangi|Bangkit Bersama|Sekar Melati"
).split("|")
PAUD_NAMA = (
    "Melati|Mawar|Tunas Harapan|Pertiwi|Aisyiyah Bustanul Athfal|Kasih Bunda|Pelangi|"
    "Ceria|Permata Bunda|Al-Hidayah|Bintang Kecil|Kuncup Mekar|Cahaya Hati"
).split("|")
