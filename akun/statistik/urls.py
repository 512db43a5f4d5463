from django.urls import path

from akun.statistik import views

app_name = "statistik"

urlpatterns = [
    path("", views.statistics_view, name="public"),
    path("statistik.csv", views.data_csv_view, name="data_csv"),
    path("statistik.json", views.data_json_view, name="data_json"),
    path("aktivasi-harian.csv", views.trend_csv_view, name="trend_csv"),
]
