from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "akun.identity"
    label = "identity"
    verbose_name = "Identity: sign-in and self-service"
