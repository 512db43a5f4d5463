from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "akun.portal"
    label = "portal"
    verbose_name = "Operator portal: school operators and regional admins"
