from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "akun.core"
    label = "core"
    verbose_name = "Akun core"
