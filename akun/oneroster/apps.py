from django.apps import AppConfig


class OneRosterConfig(AppConfig):
    name = "akun.oneroster"
    label = "oneroster"
    verbose_name = "OneRoster 1.2 provider (REST and CSV) for learning platforms"

    def ready(self):
        from akun.oneroster import receivers

        receivers.connect()
