from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "akun.sso"
    label = "sso"
    verbose_name = "Single sign-on"

    def ready(self):
        import warnings

        # pysaml2 touches a cipher mode that cryptography deprecated; not ours to fix.
        warnings.filterwarnings("ignore", message="CFB has been moved")
        # An account's tokens end with its sessions: akun.identity's end_every_session calls
        # api.revoke_account_grants (for accounts' state changes too).
