from django.apps import AppConfig


class StatisticsConfig(AppConfig):
    name = "akun.statistik"
    label = "statistik"
    verbose_name = "National statistics"

    def ready(self):
        from akun.statistik import counting

        counting.connect()
