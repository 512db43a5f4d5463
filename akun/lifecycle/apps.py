from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "akun.lifecycle"
    label = "lifecycle"
    verbose_name = "Account lifecycle"

    def ready(self):
        from akun.lifecycle import receivers  # noqa: F401  (roster_imported -> roster pass)
