"""Real Kemendagri province and regency/city codes, for synthetic snapshots.

Regency/city codes and names follow Kepmendagri 100.1.1-6117/2022 (after the 2022 Papua
split); the generator adds synthetic two-digit kecamatan numbers to make 6-digit codes.
"""

from dataclasses import dataclass
from functools import cache, cached_property

from akun.roster.api import PROVINSI

# Population in millions (2020 census, Papua split estimated): the weight of each province.
PENDUDUK_JUTA = {
    "11": 5.27, "12": 14.80, "13": 5.53, "14": 6.39, "15": 3.55, "16": 8.47, "17": 2.01,
    "18": 9.01, "19": 1.46, "21": 2.06, "31": 10.56, "32": 48.27, "33": 36.52, "34": 3.67,
    "35": 40.67, "36": 11.90, "51": 4.32, "52": 5.32, "53": 5.33, "61": 5.41, "62": 2.67,
    "63": 4.07, "64": 3.77, "65": 0.70, "71": 2.62, "72": 2.99, "73": 9.07, "74": 2.62,
    "75": 1.17, "76": 1.42, "81": 1.85, "82": 1.28, "91": 1.07, "92": 0.55, "93": 0.54,
    "94": 1.43, "95": 1.45, "96": 0.60,
}  # fmt: skip

# "code name" per line; "Kota" lines are cities, the rest regencies (Kabupaten).
_KABUPATEN_KOTA = """
1101 Kab. Aceh Selatan
1102 Kab. Aceh Tenggara
1103 Kab. Aceh Timur
1104 Kab. Aceh Tengah
1105 Kab. Aceh Barat
1106 Kab. Aceh Besar
1107 Kab. Pidie
1108 Kab. Aceh Utara
1109 Kab. Simeulue
1110 Kab. Aceh Singkil
1111 Kab. Bireuen
1112 Kab. Aceh Barat Daya
1113 Kab. Gayo Lues
1114 Kab. Aceh Jaya
1115 Kab. Nagan Raya
1116 Kab. Aceh Tamiang
1117 Kab. Bener Meriah
1118 Kab. Pidie Jaya
1171 Kota Banda Aceh
1172 Kota Sabang
1173 Kota Lhokseumawe
1174 Kota Langsa
1175 Kota Subulussalam
1201 Kab. Tapanuli Tengah
1202 Kab. Tapanuli Utara
1203 Kab. Tapanuli Selatan
1204 Kab. Nias
1205 Kab. Langkat
1206 Kab. Karo
1207 Kab. Deli Serdang
1208 Kab. Simalungun
1209 Kab. Asahan
1210 Kab. Labuhanbatu
1211 Kab. Dairi
1212 Kab. Toba
1213 Kab. Mandailing Natal
1214 Kab. Nias Selatan
1215 Kab. Pakpak Bharat
1216 Kab. Humbang Hasundutan
1217 Kab. Samosir
1218 Kab. Serdang Bedagai
1219 Kab. Batu Bara
1220 Kab. Padang Lawas Utara
1221 Kab. Padang Lawas
1222 Kab. Labuhanbatu Selatan
1223 Kab. Labuhanbatu Utara
1224 Kab. Nias Utara
1225 Kab. Nias Barat
1271 Kota Medan
1272 Kota Pematangsiantar
1273 Kota Sibolga
1274 Kota Tanjung Balai
1275 Kota Binjai
1276 Kota Tebing Tinggi
1277 Kota Padangsidimpuan
1278 Kota Gunungsitoli
1301 Kab. Pesisir Selatan
1302 Kab. Solok
1303 Kab. Sijunjung
1304 Kab. Tanah Datar
1305 Kab. Padang Pariaman
1306 Kab. Agam
1307 Kab. Lima Puluh Kota
1308 Kab. Pasaman
1309 Kab. Kepulauan Mentawai
1310 Kab. Dharmasraya
1311 Kab. Solok Selatan
1312 Kab. Pasaman Barat
1371 Kota Padang
1372 Kota Solok
1373 Kota Sawahlunto
1374 Kota Padang Panjang
1375 Kota Bukittinggi
1376 Kota Payakumbuh
1377 Kota Pariaman
1401 Kab. Kampar
1402 Kab. Indragiri Hulu
1403 Kab. Bengkalis
1404 Kab. Indragiri Hilir
1405 Kab. Pelalawan
1406 Kab. Rokan Hulu
1407 Kab. Rokan Hilir
1408 Kab. Siak
1409 Kab. Kuantan Singingi
1410 Kab. Kepulauan Meranti
1471 Kota Pekanbaru
1472 Kota Dumai
1501 Kab. Kerinci
1502 Kab. Merangin
1503 Kab. Sarolangun
1504 Kab. Batanghari
1505 Kab. Muaro Jambi
1506 Kab. Tanjung Jabung Barat
1507 Kab. Tanjung Jabung Timur
1508 Kab. Bungo
1509 Kab. Tebo
1571 Kota Jambi
1572 Kota Sungai Penuh
1601 Kab. Ogan Komering Ulu
1602 Kab. Ogan Komering Ilir
1603 Kab. Muara Enim
1604 Kab. Lahat
1605 Kab. Musi Rawas
1606 Kab. Musi Banyuasin
1607 Kab. Banyuasin
1608 Kab. Ogan Komering Ulu Timur
1609 Kab. Ogan Komering Ulu Selatan
1610 Kab. Ogan Ilir
1611 Kab. Empat Lawang
1612 Kab. Penukal Abab Lematang Ilir
1613 Kab. Musi Rawas Utara
1671 Kota Palembang
1672 Kota Pagar Alam
1673 Kota Lubuk Linggau
1674 Kota Prabumulih
1701 Kab. Bengkulu Selatan
1702 Kab. Rejang Lebong
1703 Kab. Bengkulu Utara
1704 Kab. Kaur
1705 Kab. Seluma
1706 Kab. Mukomuko
1707 Kab. Lebong
1708 Kab. Kepahiang
1709 Kab. Bengkulu Tengah
1771 Kota Bengkulu
1801 Kab. Lampung Selatan
1802 Kab. Lampung Tengah
1803 Kab. Lampung Utara
1804 Kab. Lampung Barat
1805 Kab. Tulang Bawang
1806 Kab. Tanggamus
1807 Kab. Lampung Timur
1808 Kab. Way Kanan
1809 Kab. Pesawaran
1810 Kab. Pringsewu
1811 Kab. Mesuji
1812 Kab. Tulang Bawang Barat
1813 Kab. Pesisir Barat
1871 Kota Bandar Lampung
1872 Kota Metro
1901 Kab. Bangka
1902 Kab. Belitung
1903 Kab. Bangka Selatan
1904 Kab. Bangka Tengah
1905 Kab. Bangka Barat
1906 Kab. Belitung Timur
1971 Kota Pangkal Pinang
2101 Kab. Bintan
2102 Kab. Karimun
2103 Kab. Natuna
2104 Kab. Lingga
2105 Kab. Kepulauan Anambas
2171 Kota Batam
2172 Kota Tanjung Pinang
3101 Kab. Adm. Kepulauan Seribu
3171 Kota Adm. Jakarta Pusat
3172 Kota Adm. Jakarta Utara
3173 Kota Adm. Jakarta Barat
3174 Kota Adm. Jakarta Selatan
3175 Kota Adm. Jakarta Timur
3201 Kab. Bogor
3202 Kab. Sukabumi
3203 Kab. Cianjur
3204 Kab. Bandung
3205 Kab. Garut
3206 Kab. Tasikmalaya
3207 Kab. Ciamis
3208 Kab. Kuningan
3209 Kab. Cirebon
3210 Kab. Majalengka
3211 Kab. Sumedang
3212 Kab. Indramayu
3213 Kab. Subang
3214 Kab. Purwakarta
3215 Kab. Karawang
3216 Kab. Bekasi
3217 Kab. Bandung Barat
3218 Kab. Pangandaran
3271 Kota Bogor
3272 Kota Sukabumi
3273 Kota Bandung
3274 Kota Cirebon
3275 Kota Bekasi
3276 Kota Depok
3277 Kota Cimahi
3278 Kota Tasikmalaya
3279 Kota Banjar
3301 Kab. Cilacap
3302 Kab. Banyumas
3303 Kab. Purbalingga
3304 Kab. Banjarnegara
3305 Kab. Kebumen
3306 Kab. Purworejo
3307 Kab. Wonosobo
3308 Kab. Magelang
3309 Kab. Boyolali
3310 Kab. Klaten
3311 Kab. Sukoharjo
3312 Kab. Wonogiri
3313 Kab. Karanganyar
3314 Kab. Sragen
3315 Kab. Grobogan
3316 Kab. Blora
3317 Kab. Rembang
3318 Kab. Pati
3319 Kab. Kudus
3320 Kab. Jepara
3321 Kab. Demak
3322 Kab. Semarang
3323 Kab. Temanggung
3324 Kab. Kendal
3325 Kab. Batang
3326 Kab. Pekalongan
3327 Kab. Pemalang
3328 Kab. Tegal
3329 Kab. Brebes
3371 Kota Magelang
3372 Kota Surakarta
3373 Kota Salatiga
3374 Kota Semarang
3375 Kota Pekalongan
3376 Kota Tegal
3401 Kab. Kulon Progo
3402 Kab. Bantul
3403 Kab. Gunungkidul
3404 Kab. Sleman
3471 Kota Yogyakarta
3501 Kab. Pacitan
3502 Kab. Ponorogo
3503 Kab. Trenggalek
3504 Kab. Tulungagung
3505 Kab. Blitar
3506 Kab. Kediri
3507 Kab. Malang
3508 Kab. Lumajang
3509 Kab. Jember
3510 Kab. Banyuwangi
3511 Kab. Bondowoso
3512 Kab. Situbondo
3513 Kab. Probolinggo
3514 Kab. Pasuruan
3515 Kab. Sidoarjo
3516 Kab. Mojokerto
3517 Kab. Jombang
3518 Kab. Nganjuk
3519 Kab. Madiun
3520 Kab. Magetan
3521 Kab. Ngawi
3522 Kab. Bojonegoro
3523 Kab. Tuban
3524 Kab. Lamongan
3525 Kab. Gresik
3526 Kab. Bangkalan
3527 Kab. Sampang
3528 Kab. Pamekasan
3529 Kab. Sumenep
3571 Kota Kediri
3572 Kota Blitar
3573 Kota Malang
3574 Kota Probolinggo
3575 Kota Pasuruan
3576 Kota Mojokerto
3577 Kota Madiun
3578 Kota Surabaya
3579 Kota Batu
3601 Kab. Pandeglang
3602 Kab. Lebak
3603 Kab. Tangerang
3604 Kab. Serang
3671 Kota Tangerang
3672 Kota Cilegon
3673 Kota Serang
3674 Kota Tangerang Selatan
5101 Kab. Jembrana
5102 Kab. Tabanan
5103 Kab. Badung
5104 Kab. Gianyar
5105 Kab. Klungkung
5106 Kab. Bangli
5107 Kab. Karangasem
5108 Kab. Buleleng
5171 Kota Denpasar
5201 Kab. Lombok Barat
5202 Kab. Lombok Tengah
5203 Kab. Lombok Timur
5204 Kab. Sumbawa
5205 Kab. Dompu
5206 Kab. Bima
5207 Kab. Sumbawa Barat
5208 Kab. Lombok Utara
5271 Kota Mataram
5272 Kota Bima
5301 Kab. Kupang
5302 Kab. Timor Tengah Selatan
5303 Kab. Timor Tengah Utara
5304 Kab. Belu
5305 Kab. Alor
5306 Kab. Flores Timur
5307 Kab. Sikka
5308 Kab. Ende
5309 Kab. Ngada
5310 Kab. Manggarai
5311 Kab. Sumba Timur
5312 Kab. Sumba Barat
5313 Kab. Lembata
5314 Kab. Rote Ndao
5315 Kab. Manggarai Barat
5316 Kab. Nagekeo
5317 Kab. Sumba Tengah
5318 Kab. Sumba Barat Daya
5319 Kab. Manggarai Timur
5320 Kab. Sabu Raijua
5321 Kab. Malaka
5371 Kota Kupang
6101 Kab. Sambas
6102 Kab. Mempawah
6103 Kab. Sanggau
6104 Kab. Ketapang
6105 Kab. Sintang
6106 Kab. Kapuas Hulu
6107 Kab. Bengkayang
6108 Kab. Landak
6109 Kab. Sekadau
6110 Kab. Melawi
6111 Kab. Kayong Utara
6112 Kab. Kubu Raya
6171 Kota Pontianak
6172 Kota Singkawang
6201 Kab. Kotawaringin Barat
6202 Kab. Kotawaringin Timur
6203 Kab. Kapuas
6204 Kab. Barito Selatan
6205 Kab. Barito Utara
6206 Kab. Katingan
6207 Kab. Seruyan
6208 Kab. Sukamara
6209 Kab. Lamandau
6210 Kab. Gunung Mas
6211 Kab. Pulang Pisau
6212 Kab. Murung Raya
6213 Kab. Barito Timur
6271 Kota Palangka Raya
6301 Kab. Tanah Laut
6302 Kab. Kotabaru
6303 Kab. Banjar
6304 Kab. Barito Kuala
6305 Kab. Tapin
6306 Kab. Hulu Sungai Selatan
6307 Kab. Hulu Sungai Tengah
6308 Kab. Hulu Sungai Utara
6309 Kab. Tabalong
6310 Kab. Tanah Bumbu
6311 Kab. Balangan
6371 Kota Banjarmasin
6372 Kota Banjarbaru
6401 Kab. Paser
6402 Kab. Kutai Kartanegara
6403 Kab. Berau
6407 Kab. Kutai Barat
6408 Kab. Kutai Timur
6409 Kab. Penajam Paser Utara
6411 Kab. Mahakam Ulu
6471 Kota Balikpapan
6472 Kota Samarinda
6474 Kota Bontang
6501 Kab. Bulungan
6502 Kab. Malinau
6503 Kab. Nunukan
6504 Kab. Tana Tidung
6571 Kota Tarakan
7101 Kab. Bolaang Mongondow
7102 Kab. Minahasa
7103 Kab. Kepulauan Sangihe
7104 Kab. Kepulauan Talaud
7105 Kab. Minahasa Selatan
7106 Kab. Minahasa Utara
7107 Kab. Minahasa Tenggara
7108 Kab. Bolaang Mongondow Utara
7109 Kab. Kepulauan Siau Tagulandang Biaro
7110 Kab. Bolaang Mongondow Timur
7111 Kab. Bolaang Mongondow Selatan
7171 Kota Manado
7172 Kota Bitung
7173 Kota Tomohon
7174 Kota Kotamobagu
7201 Kab. Banggai
7202 Kab. Poso
7203 Kab. Donggala
7204 Kab. Toli-Toli
7205 Kab. Buol
7206 Kab. Morowali
7207 Kab. Banggai Kepulauan
7208 Kab. Parigi Moutong
7209 Kab. Tojo Una-Una
7210 Kab. Sigi
7211 Kab. Banggai Laut
7212 Kab. Morowali Utara
7271 Kota Palu
7301 Kab. Kepulauan Selayar
7302 Kab. Bulukumba
7303 Kab. Bantaeng
7304 Kab. Jeneponto
7305 Kab. Takalar
7306 Kab. Gowa
7307 Kab. Sinjai
7308 Kab. Bone
7309 Kab. Maros
7310 Kab. Pangkajene Kepulauan
7311 Kab. Barru
7312 Kab. Soppeng
7313 Kab. Wajo
7314 Kab. Sidenreng Rappang
7315 Kab. Pinrang
7316 Kab. Enrekang
7317 Kab. Luwu
7318 Kab. Tana Toraja
7322 Kab. Luwu Utara
7324 Kab. Luwu Timur
7326 Kab. Toraja Utara
7371 Kota Makassar
7372 Kota Parepare
7373 Kota Palopo
7401 Kab. Kolaka
7402 Kab. Konawe
7403 Kab. Muna
7404 Kab. Buton
7405 Kab. Konawe Selatan
7406 Kab. Bombana
7407 Kab. Wakatobi
7408 Kab. Kolaka Utara
7409 Kab. Konawe Utara
7410 Kab. Buton Utara
7411 Kab. Kolaka Timur
7412 Kab. Konawe Kepulauan
7413 Kab. Muna Barat
7414 Kab. Buton Tengah
7415 Kab. Buton Selatan
7471 Kota Kendari
7472 Kota Baubau
7501 Kab. Gorontalo
7502 Kab. Boalemo
7503 Kab. Bone Bolango
7504 Kab. Pohuwato
7505 Kab. Gorontalo Utara
7571 Kota Gorontalo
7601 Kab. Pasangkayu
7602 Kab. Mamuju
7603 Kab. Mamasa
7604 Kab. Polewali Mandar
7605 Kab. Majene
7606 Kab. Mamuju Tengah
8101 Kab. Maluku Tengah
8102 Kab. Maluku Tenggara
8103 Kab. Kepulauan Tanimbar
8104 Kab. Buru
8105 Kab. Seram Bagian Timur
8106 Kab. Seram Bagian Barat
8107 Kab. Kepulauan Aru
8108 Kab. Maluku Barat Daya
8109 Kab. Buru Selatan
8171 Kota Ambon
8172 Kota Tual
8201 Kab. Halmahera Barat
8202 Kab. Halmahera Tengah
8203 Kab. Halmahera Utara
8204 Kab. Halmahera Selatan
8205 Kab. Kepulauan Sula
8206 Kab. Halmahera Timur
8207 Kab. Pulau Morotai
8208 Kab. Pulau Taliabu
8271 Kota Ternate
8272 Kota Tidore Kepulauan
9103 Kab. Jayapura
9105 Kab. Kepulauan Yapen
9106 Kab. Biak Numfor
9110 Kab. Sarmi
9111 Kab. Keerom
9115 Kab. Waropen
9119 Kab. Supiori
9120 Kab. Mamberamo Raya
9171 Kota Jayapura
9202 Kab. Manokwari
9203 Kab. Fakfak
9206 Kab. Teluk Bintuni
9207 Kab. Teluk Wondama
9208 Kab. Kaimana
9211 Kab. Manokwari Selatan
9212 Kab. Pegunungan Arfak
9301 Kab. Merauke
9302 Kab. Boven Digoel
9303 Kab. Mappi
9304 Kab. Asmat
9401 Kab. Nabire
9402 Kab. Puncak Jaya
9403 Kab. Paniai
9404 Kab. Mimika
9405 Kab. Puncak
9406 Kab. Dogiyai
9407 Kab. Intan Jaya
9408 Kab. Deiyai
9501 Kab. Jayawijaya
9502 Kab. Pegunungan Bintang
9503 Kab. Yahukimo
9504 Kab. Tolikara
9505 Kab. Mamberamo Tengah
9506 Kab. Yalimo
9507 Kab. Lanny Jaya
9508 Kab. Nduga
9601 Kab. Sorong
9602 Kab. Sorong Selatan
9603 Kab. Raja Ampat
9604 Kab. Tambrauw
9605 Kab. Maybrat
9671 Kota Sorong
"""

# Kecamatan numbers 01..MAX_KECAMATAN are used for schools; higher ones only in NIKs.
MAX_KECAMATAN = 30


@dataclass(frozen=True)
class KabupatenKota:
    kode: str  # 4 digits
    nama: str  # "Kab. Bandung", "Kota Bandung"
    kode_provinsi: str
    provinsi: str  # "Prov. Jawa Barat"
    kota: bool
    jumlah_kecamatan: int  # synthetic, 6..MAX_KECAMATAN, stable across seeds
    weight: float  # share of the country's schools

    @cached_property
    def nama_tempat(self) -> str:
        """The town name as written in a place of birth: "Bandung", "Jakarta Pusat"."""
        for prefix in ("Kab. Adm. ", "Kota Adm. ", "Kab. ", "Kota "):
            if self.nama.startswith(prefix):
                return self.nama[len(prefix) :]
        return self.nama


@cache
def kabupaten_kota() -> tuple[KabupatenKota, ...]:
    """Every regency/city, ordered by code, each weighted so provinces follow population."""
    rows = []
    for line in _KABUPATEN_KOTA.strip().splitlines():
        kode, nama = line.split(" ", 1)
        rows.append((kode, nama))
    per_prov: dict[str, list[tuple[str, str]]] = {}
    for kode, nama in rows:
        per_prov.setdefault(kode[:2], []).append((kode, nama))
    assert set(per_prov) == set(PROVINSI), set(PROVINSI) ^ set(per_prov)
    total = sum(PENDUDUK_JUTA.values())
    result = []
    for kode_prov, members in sorted(per_prov.items()):
        # Cities are smaller than regencies in land and school count.
        raw = [0.6 if nama.startswith("Kota") else 1.0 for _, nama in members]
        share = PENDUDUK_JUTA[kode_prov] / total
        for (kode, nama), w in zip(members, raw, strict=True):
            result.append(
                KabupatenKota(
                    kode=kode,
                    nama=nama,
                    kode_provinsi=kode_prov,
                    provinsi=f"Prov. {PROVINSI[kode_prov]}",
                    kota=nama.startswith("Kota"),
                    jumlah_kecamatan=6 + (int(kode) * 7919) % (MAX_KECAMATAN - 5),
                    weight=share * w / sum(raw),
                )
            )
    return tuple(result)
