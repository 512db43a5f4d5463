from django.urls import path, re_path

from akun.portal import views

app_name = "portal"

NPSN = r"(?P<npsn>[0-9A-Za-z]{1,8})"

urlpatterns = [
    path("", views.home_view, name="home"),
    path("verifikasi", views.mfa_view, name="mfa"),
    path("keamanan", views.security_view, name="security"),
    path("log", views.audit_view, name="audit"),
    re_path(rf"^sekolah/{NPSN}/$", views.school_view, name="school"),
    re_path(rf"^sekolah/{NPSN}/akun$", views.accounts_view, name="accounts"),
    re_path(rf"^sekolah/{NPSN}/akun/(?P<pk>[0-9]+)$", views.account_view, name="account"),
    re_path(rf"^sekolah/{NPSN}/akun/(?P<pk>[0-9]+)/reset$", views.reset_view, name="reset"),
    re_path(rf"^sekolah/{NPSN}/unduh$", views.downloads_view, name="downloads"),
    re_path(rf"^sekolah/{NPSN}/unduh/akun\.csv$", views.download_csv_view, name="download_csv"),
    re_path(rf"^sekolah/{NPSN}/unduh/slip\.pdf$", views.download_pdf_view, name="download_pdf"),
    re_path(rf"^sekolah/{NPSN}/kenapa$", views.why_view, name="why"),
    re_path(rf"^sekolah/{NPSN}/log$", views.school_audit_view, name="school_audit"),
    re_path(rf"^sekolah/{NPSN}/google/ulang$", views.sync_retry_view, name="sync_retry"),
    re_path(r"^wilayah/(?P<kode>nasional|[0-9]{2}|[0-9]{4})/$", views.region_view, name="region"),
    re_path(
        r"^wilayah/(?P<kode>nasional|[0-9]{2}|[0-9]{4})/sekolah\.csv$",
        views.region_csv_view,
        name="region_csv",
    ),
]
