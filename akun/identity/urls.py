from django.urls import path, re_path

from akun.identity import views

app_name = "identity"

urlpatterns = [
    path("", views.home, name="home"),
    path("masuk", views.signin_view, name="signin"),
    path("masuk/banding", views.appeal_view, name="appeal"),
    path("keluar", views.signout_view, name="signout"),
    path("ketentuan", views.terms_page, name="terms_page"),
    path("aktivasi/ketentuan", views.terms_view, name="terms"),
    path("aktivasi/kata-sandi", views.new_password_view, name="new_password"),
    path("cek-akun", views.cek_akun_view, name="cek_akun"),
    path("cek-akun/npsn", views.npsn_search_view, name="npsn_search"),
    path("cek-akun/minta-akun", views.request_account_view, name="request_account"),
    path("reset-kata-sandi", views.reset_start_view, name="reset"),
    path("reset-kata-sandi/kontak", views.reset_contact_view, name="reset_contact"),
    path("reset-kata-sandi/kode", views.reset_code_view, name="reset_code"),
    path("akun-saya", views.akun_saya_view, name="akun_saya"),
    path("akun-saya/kata-sandi", views.change_password_view, name="change_password"),
    path("akun-saya/keluar-semua", views.sign_out_everywhere_view, name="sign_out_everywhere"),
    re_path(r"^akun-saya/kontak/(?P<kind>email|phone)$", views.contact_view, name="contact"),
    re_path(
        r"^akun-saya/kontak/(?P<kind>email|phone)/kode$",
        views.contact_code_view,
        name="contact_code",
    ),
]
