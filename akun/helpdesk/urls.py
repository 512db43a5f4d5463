from django.urls import path, re_path

from akun.helpdesk import views

app_name = "helpdesk"

NUMBER = r"(?P<number>[2-9A-Z]{8})"

urlpatterns = [
    path("", views.help_view, name="help"),
    path("terjawab", views.helped_view, name="helped"),
    path("lacak", views.lookup_view, name="lookup"),
    re_path(rf"^lacak/{NUMBER}$", views.track_view, name="track"),
    path("surel-masuk", views.inbound_view, name="inbound"),
    path("agen/", views.queue_view, name="queue"),
    re_path(rf"^agen/laporan/{NUMBER}$", views.report_view, name="report"),
    path("agen/lapor-untuk-siswa", views.school_file_view, name="school_file"),
    re_path(
        r"^agen/statistik/(?P<kode>nasional|[0-9]{2}|[0-9]{4})$",
        views.stats_view,
        name="stats",
    ),
    re_path(
        r"^statistik/(?P<kode>nasional|[0-9]{2}|[0-9]{4})/(?P<chart>[a-z]+)\.svg$",
        views.stats_chart_view,
        name="stats_chart",
    ),
]
