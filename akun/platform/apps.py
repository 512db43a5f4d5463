from django.apps import AppConfig


class PlatformConfig(AppConfig):
    """Operator tasks over the whole platform (`akun demo`, `akun secrets`): they use several
    apps, so they live above all of them."""

    name = "akun.platform"
    label = "platform"
    verbose_name = "Akun platform tasks"
