from django.apps import AppConfig


class StatisticsConfig(AppConfig):
    name = "akun.statistics"
    label = "statistics"
    verbose_name = "National statistics"

    def ready(self):
        from akun.statistics import counting

        counting.connect()
