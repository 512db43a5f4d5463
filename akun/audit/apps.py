from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "akun.audit"
    label = "audit"
    verbose_name = "Audit log"
