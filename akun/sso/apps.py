from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "akun.sso"
    label = "sso"
    verbose_name = "Single sign-on"

    def ready(self):
        import warnings

        # pysaml2 touches a cipher mode that cryptography deprecated; not ours to fix.
        warnings.filterwarnings("ignore", message="CFB has been moved")
        from akun.sso import signals  # noqa: F401  (connects the account-state receiver)
