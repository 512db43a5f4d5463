from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    name = "akun.helpdesk"
    label = "helpdesk"
    verbose_name = "Butuh Bantuan (helpdesk)"
