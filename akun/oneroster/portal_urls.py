from django.urls import re_path

from akun.oneroster import portal_views

app_name = "oneroster_portal"

urlpatterns = [
    re_path(
        r"^sekolah/(?P<npsn>[0-9A-Za-z]{8})/oneroster\.zip$",
        portal_views.package_view,
        name="package",
    ),
]
