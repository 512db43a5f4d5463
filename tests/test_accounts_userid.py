"""User IDs: letters from the name, a number that makes them unique platform-wide, never changed."""

import re

import pytest

from akun.accounts import api
from akun.accounts.models import Account
from akun.accounts.userid import FALLBACK_BASE, MAX_BASE_LENGTH, base_local_part
from akun.roster.api import PesertaDidik, Ptk
from tests import builders as roster


@pytest.mark.parametrize(
    "nama,base",
    [
        ("Budi Santoso", "budisantoso"),
        ("Muhammad Rizki Pratama", "muhammadpratama"),  # first + last
        ("Sukarno", "sukarno"),  # single-word names keep the one name
        ("SUKARNO", "sukarno"),
        ("Ma'ruf Amin", "marufamin"),
        ("Ma’ruf", "maruf"),  # typographic apostrophe
        ("Dr. Siti Aminah, S.Pd.", "sitiaminah"),
        ("Dr.Siti Aminah", "sitiaminah"),
        ("Prof. Dr. Ir. H. Ahmad Dahlan, M.Pd., Ph.D.", "ahmaddahlan"),
        ("Hj. Nur Aini S.Pd", "nuraini"),  # degree without a comma
        ("Siti Nur-Aini", "sitinuraini"),  # hyphen joins
        ("Agus 2", "agus"),  # digits go
        ("  Dewi   Lestari  ", "dewilestari"),
        ("Ni Luh Putu Ayu Déwi", "nidewi"),  # diacritics folded
        ("Çağlar Öztürk", "caglarozturk"),
        ("Łukasz Straße", "lukaszstrasse"),
        ("I Gusti Ngurah Rai", "irai"),
        ("Drs.", FALLBACK_BASE),  # only a title
        ("", FALLBACK_BASE),
        ("محمد", FALLBACK_BASE),  # no Latin letters
        ("王小明", FALLBACK_BASE),
        ("Anak Agung Gede Ngurah Bagus Wirawan Kusumadinata", "anakkusumadinata"),
    ],
)
def test_base_local_part(nama, base):
    assert base_local_part(nama) == base
    assert re.fullmatch(r"[a-z]+", base_local_part(nama))


def test_base_is_capped():
    long = "A" * 50 + " " + "B" * 50
    assert len(base_local_part(long)) == MAX_BASE_LENGTH


def _issue(**kw):
    return api.issue_accounts(actor="test", **kw)


@pytest.mark.django_db
def test_thousands_with_the_same_name_get_distinct_numbers_across_subdomains():
    sd, smp, sma = roster.sekolah("SD"), roster.sekolah("SMP"), roster.sekolah("SMA")
    rows = []
    for school, grade in ((sd, 5), (smp, 8), (sma, 11)):
        rows += [
            roster.peserta_didik(school, grade, nama="Muhammad", save=False) for _ in range(1500)
        ]
    rows += [roster.peserta_didik(sd, 6, nama="MUHAMMAD", save=False) for _ in range(500)]
    PesertaDidik.objects.bulk_create(rows)
    Ptk.objects.bulk_create(
        [roster.ptk(sd, nama="Muhammad", save=False) for _ in range(300)]
        + [roster.ptk(smp, nama="Budi Santoso", save=False) for _ in range(20)]
    )
    result = _issue(batch_rows=700)  # many batches, each advancing the same counter
    assert result.total == 5320
    locals_ = list(
        Account.objects.filter(nama__iexact="muhammad").values_list("local_part", flat=True)
    )
    assert len(locals_) == len(set(locals_)) == 5300
    numbers = sorted(int(lp.removeprefix("muhammad")) for lp in locals_)
    assert numbers == list(range(1, 5301))  # no gaps, no repeats, all subdomains together
    assert set(Account.objects.values_list("subdomain", flat=True)) == {
        "sd", "smp", "sma", "guru.sd", "guru.smp"
    }  # fmt: skip
    budi = set(Account.objects.filter(nama="Budi Santoso").values_list("user_id", flat=True))
    assert budi == {f"budisantoso{i}@guru.smp.belajar.test" for i in range(1, 21)}


@pytest.mark.django_db
def test_user_id_never_changes_on_name_correction_or_reissue():
    sd = roster.sekolah("SD")
    p = roster.peserta_didik(sd, 5, nama="Ahmad Fauzi")
    _issue()
    acc = Account.objects.get(person_id=p.pk)
    assert acc.user_id == "ahmadfauzi1@sd.belajar.test"
    PesertaDidik.objects.filter(pk=p.pk).update(nama="Achmad Fauzie")  # roster correction
    assert _issue().total == 0
    api.do_reissue_account(acc, actor="op", reason="lost letter")
    acc.refresh_from_db()
    assert acc.user_id == "ahmadfauzi1@sd.belajar.test"
    # A new person with the corrected name does not get a number already handed out.
    roster.peserta_didik(sd, 5, nama="Ahmad Fauzi")
    _issue()
    assert Account.objects.filter(nama="Ahmad Fauzi").count() == 2
    assert Account.objects.filter(local_part="ahmadfauzi2").exists()


@pytest.mark.django_db
def test_deleted_accounts_keep_their_id_reserved():
    sd = roster.sekolah("SD")
    p = roster.peserta_didik(sd, 5, nama="Rina")
    _issue()
    acc = Account.objects.get(person_id=p.pk)
    api.do_delete_account(acc, actor="op", reason="request")
    _issue()  # the person is still eligible: a new account, never the old ID
    new = Account.objects.get(person_id=p.pk)
    assert (acc.local_part, new.local_part) == ("rina1", "rina2")


@pytest.mark.django_db
def test_manual_allocation_shares_the_counters():
    sd = roster.sekolah("SD")
    roster.peserta_didik(sd, 5, nama="Joko Widodo")
    assert api.allocate_local_part("jokowidodo") == "jokowidodo1"
    _issue()
    assert Account.objects.get().local_part == "jokowidodo2"
