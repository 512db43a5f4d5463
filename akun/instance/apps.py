from django.apps import AppConfig


class InstanceConfig(AppConfig):
    """Operator tasks over the whole instance (not named `platform`: from inside akun/ that
    would shadow the standard library's module) (`akun demo`, `akun secrets`): they use several
    apps, so they live above all of them."""

    name = "akun.instance"
    label = "instance"
    verbose_name = "Akun instance tasks"
