from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "akun.sso"
    label = "sso"
    verbose_name = "Single sign-on"

    def ready(self):
        import warnings

        # pysaml2 touches a cipher mode that cryptography deprecated; not ours to fix.
        warnings.filterwarnings("ignore", message="CFB has been moved")
        from akun.accounts.api import ENDS_SESSIONS, subscribe
        from akun.sso.actions import revoke_grants_of_change

        # An account's tokens end with its sessions (identity ends those on the same events),
        # in the change's transaction: single changes and bulk runs alike.
        subscribe(ENDS_SESSIONS, revoke_grants_of_change)

        from akun.provisioning.api import register_sso_profile
        from akun.sso.google import google_profile

        # `akun provision google sso-settings`: Google's third-party SSO profile.
        register_sso_profile("google", google_profile)
