"""Cek Akun, account requests, reset with codes, Akun Saya (contacts, sign out everywhere)."""

import datetime as dt
import json
import re

import pytest
from django.core import mail
from django.urls import reverse

from akun.core import clock
from akun.core.sms import sms_outbox_path
from akun.identity import codes, throttle
from akun.identity.masking import mask_email, mask_phone
from akun.identity.models import AccountRequest, OneTimeCode, ServiceSignIn
from tests import builders

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("send_codes_at_once")]
PW = builders.PASSWORD


def cek(client, role, npsn, nama, tgl, addr="10.7.0.1"):
    return client.post(
        reverse("identity:cek_akun"),
        {"role": role, "npsn": npsn, "nama": nama, "tanggal_lahir": tgl},
        REMOTE_ADDR=addr,
    )


def test_masking():
    assert mask_email("budi.santoso@gmail.com") == "b***@gmail.com"
    assert mask_phone("081234567890") == "0812****890"


def test_cek_akun_finds_user_id_and_state_case_and_space_insensitive(client, school):
    s = builders.student(school)
    r = cek(client, "peserta_didik", school.npsn, "  siti   NURHALIZA ", "2012-03-09")
    assert s.user_id.encode() in r.content
    assert "belum diaktifkan" in r.content.decode()
    t = builders.staff(school)
    r = cek(client, "ptk", school.npsn, "remo bimantoro", "21-07-1985")
    assert t.user_id.encode() in r.content and b"aktif" in r.content


def test_cek_akun_no_match_explains_and_offers_a_request(client, school):
    builders.student(school)
    r = cek(client, "peserta_didik", school.npsn, "Siti Nurhaliza", "2012-03-10")
    body = r.content.decode()
    assert "sitinurhaliza7" not in body
    assert "Dapodik" in body and reverse("identity:request_account") in body
    r = cek(client, "peserta_didik", "99999999", "Siti Nurhaliza", "2012-03-09")
    assert "99999999" in r.content.decode()

    r = client.get(reverse("identity:request_account"))
    assert b'value="99999999"' in r.content  # prefilled from the lookup
    r = client.post(
        reverse("identity:request_account"),
        {
            "role": "peserta_didik",
            "npsn": "99999999",
            "nama": "Siti Nurhaliza",
            "tanggal_lahir": "2012-03-09",
            "contact": "0812 3456 7890",
            "message": "",
        },  # fmt: skip
    )
    assert r.status_code == 200
    req = AccountRequest.objects.get()
    assert req.npsn == "99999999" and req.status == "open" and req.explanation


def test_cek_akun_person_in_roster_without_account_gets_an_explanation(client, school):
    s = builders.student(school)
    s.delete()
    r = cek(client, "peserta_didik", school.npsn, "Siti Nurhaliza", "2012-03-09")
    assert r.status_code == 200
    assert reverse("identity:request_account").encode() in r.content


def test_cek_akun_is_rate_limited(client, school):
    clock.freeze(dt.datetime(2025, 7, 1, 8, 0, tzinfo=dt.UTC))
    s = builders.student(school)
    for _ in range(throttle.CEK_AKUN.free):
        r = cek(client, "peserta_didik", school.npsn, "Siti Nurhaliza", "2012-03-09")
        assert s.user_id.encode() in r.content
    cek(client, "peserta_didik", school.npsn, "x", "2012-03-09")
    r = cek(client, "peserta_didik", school.npsn, "Siti Nurhaliza", "2012-03-09")
    assert s.user_id.encode() not in r.content and b"Tunggu" in r.content


def test_npsn_search_by_name_and_region(client):
    builders.school("20100001", "SD NEGERI 3 SUKAJADI", kab="Kota Bandung")
    builders.school("20200002", "SD NEGERI 3 SUKAJADI", kab="Kab. Garut")
    r = client.get(reverse("identity:npsn_search"), {"q": "sukajadi", "wilayah": "garut"})
    assert b"20200002" in r.content and b"20100001" not in r.content


def start_reset(client, account, tgl):
    return client.post(
        reverse("identity:reset"), {"user_id": account.user_id, "tanggal_lahir": tgl}
    )


def code_in(text):
    return re.search(r"\b(\d{6})\b", text).group(1)


def test_reset_by_email_code_then_new_password(client, school):
    s = builders.student(school, state="active", password=PW, recovery_email="siti.n@gmail.com")
    r = start_reset(client, s, "2012-03-09")
    assert r["Location"] == reverse("identity:reset_contact")
    page = client.get(reverse("identity:reset_contact")).content.decode()
    assert "s***@gmail.com" in page and "siti.n@gmail.com" not in page
    with_capture = client.post(reverse("identity:reset_contact"), {"contact": "e0"})
    assert with_capture["Location"] == reverse("identity:reset_code")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["siti.n@gmail.com"]
    code = code_in(mail.outbox[0].body)
    otc = OneTimeCode.objects.get()
    assert code not in otc.code_hash  # only a hash is stored
    r = client.post(reverse("identity:reset_code"), {"code": code})
    assert r["Location"] == reverse("identity:new_password")
    new = "sepeda biru ke pasar"
    r = client.post(reverse("identity:new_password"), {"new_password": new, "new_password2": new})
    assert r["Location"] == reverse("identity:akun_saya")
    s.refresh_from_db()
    assert s.check_password(new)


def test_reset_by_sms_for_ptk_with_roster_phone(client, school, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    t = builders.staff(school)
    start_reset(client, t, "1985-07-21")
    page = client.get(reverse("identity:reset_contact")).content.decode()
    assert "r***@gmail.com" in page and "0812****890" in page
    client.post(reverse("identity:reset_contact"), {"contact": "p0"})
    line = json.loads(sms_outbox_path().read_text().splitlines()[-1])
    assert line["to"] == "081234567890"
    r = client.post(reverse("identity:reset_code"), {"code": code_in(line["text"])})
    assert r["Location"] == reverse("identity:new_password")


def test_reset_refuses_wrong_birth_date_and_students_without_contact(client, school):
    s = builders.student(school, state="active", password=PW)
    r = start_reset(client, s, "2012-03-10")
    assert r.status_code == 200 and "tanggal lahir" in r.content.decode().lower()
    r = start_reset(client, s, "2012-03-09")
    assert r.status_code == 200 and "operator sekolah" in r.content.decode()
    s.state = "suspended"
    s.save(update_fields=["state"])
    r = start_reset(client, s, "2012-03-09")
    assert "ditangguhkan" in r.content.decode()


def test_code_expires_after_15_minutes(school):
    s = builders.student(school, state="active", password=PW)
    t0 = dt.datetime(2025, 7, 1, 8, 0, tzinfo=dt.UTC)
    clock.freeze(t0)
    otc, code = codes.issue(s, "reset", "email", "x@example.com")
    clock.freeze(t0 + dt.timedelta(minutes=15))
    assert codes.check(otc.pk, s, "reset", code) is codes.Check.EXPIRED
    clock.freeze(t0 + dt.timedelta(minutes=14, seconds=59))
    assert codes.check(otc.pk, s, "reset", code) is codes.Check.OK
    assert codes.check(otc.pk, s, "reset", code) is codes.Check.USED  # one time only


def test_code_allows_five_tries(school):
    s = builders.student(school, state="active", password=PW)
    otc, code = codes.issue(s, "reset", "email", "x@example.com")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    results = [codes.check(otc.pk, s, "reset", wrong) for _ in range(5)]
    assert results == [codes.Check.WRONG] * 4 + [codes.Check.EXHAUSTED]
    assert codes.check(otc.pk, s, "reset", code) is codes.Check.EXHAUSTED
    # A new code replaces the old one.
    otc2, code2 = codes.issue(s, "reset", "email", "x@example.com")
    assert codes.check(otc2.pk, s, "reset", code2) is codes.Check.OK


def test_reset_of_an_issued_account_goes_through_activation(client, school):
    s = builders.student(school, recovery_email="siti.n@gmail.com")
    start_reset(client, s, "2012-03-09")
    client.post(reverse("identity:reset_contact"), {"contact": "e0"})
    r = client.post(reverse("identity:reset_code"), {"code": code_in(mail.outbox[0].body)})
    assert r["Location"] == reverse("identity:terms")


def signed_in(client, account):
    r = client.post(reverse("identity:signin"), {"user_id": account.user_id, "password": PW})
    assert r.status_code == 302
    return client


def test_akun_saya_shows_who_and_services(client, school):
    s = builders.student(school, state="active", password=PW)
    page = signed_in(client, s).get(reverse("identity:akun_saya")).content.decode()
    for text in ("Siti Nurhaliza", s.user_id, "SD NEGERI 1 CIBODAS", "Peserta didik", "aktif"):
        assert text in page, text
    assert "Belum pernah masuk ke layanan" in page
    from akun.identity.actions import do_record_service_sign_in

    do_record_service_sign_in(s, "moodle", "Moodle Sekolah")
    assert "Moodle Sekolah" in client.get(reverse("identity:akun_saya")).content.decode()
    assert ServiceSignIn.objects.count() == 1


def test_add_recovery_email_verified_with_a_code(client, school):
    s = builders.student(school, state="active", password=PW)
    signed_in(client, s)
    r = client.post(reverse("identity:contact", args=["email"]), {"value": "Siti.N@Gmail.com"})
    assert r["Location"] == reverse("identity:contact_code", args=["email"])
    s.refresh_from_db()
    assert s.recovery_email == ""  # not before verification
    r = client.post(reverse("identity:contact_code", args=["email"]), {"code": "000000"})
    code = code_in(mail.outbox[-1].body)
    if code == "000000":
        pytest.skip("the random code happened to be 000000")
    client.post(reverse("identity:contact_code", args=["email"]), {"code": code})
    s.refresh_from_db()
    assert s.recovery_email == "siti.n@gmail.com" and s.recovery_email_verified_at


def test_add_recovery_phone(client, school, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    s = builders.student(school, state="active", password=PW)
    signed_in(client, s)
    client.post(reverse("identity:contact", args=["phone"]), {"value": "+62 812-3456-7890"})
    line = json.loads(sms_outbox_path().read_text().splitlines()[-1])
    assert line["to"] == "081234567890"
    client.post(reverse("identity:contact_code", args=["phone"]), {"code": code_in(line["text"])})
    s.refresh_from_db()
    assert s.recovery_phone == "081234567890" and s.recovery_phone_verified_at


def test_change_password_needs_the_current_one_and_keeps_this_session(client, school):
    s = builders.student(school, state="active", password=PW)
    other = signed_in(type(client)(), s)
    signed_in(client, s)
    new = "sepeda biru ke pasar"
    form = {"current_password": "nope", "new_password": new, "new_password2": new}
    r = client.post(reverse("identity:change_password"), form)
    assert r.status_code == 200
    r = client.post(reverse("identity:change_password"), {**form, "current_password": PW})
    assert r["Location"] == reverse("identity:akun_saya")
    assert client.get(reverse("identity:akun_saya")).status_code == 200
    assert other.get(reverse("identity:akun_saya")).status_code == 302  # other sessions end


def test_sign_out_everywhere(client, school):
    s = builders.student(school, state="active", password=PW)
    phone = signed_in(type(client)(), s)
    signed_in(client, s)
    assert phone.get(reverse("identity:akun_saya")).status_code == 200
    r = client.post(reverse("identity:sign_out_everywhere"))
    assert r["Location"] == reverse("identity:signin")
    assert phone.get(reverse("identity:akun_saya")).status_code == 302
    assert client.get(reverse("identity:akun_saya")).status_code == 302
    signed_in(client, s)  # a new sign-in works again
    assert client.get(reverse("identity:akun_saya")).status_code == 200
