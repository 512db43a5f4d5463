from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "akun.identity"
    label = "identity"
    verbose_name = "Identity: sign-in and self-service"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from akun.identity.signin import record_last_login

        # Account.last_login on the platform's clock (lifecycle's inactivity rule reads it and
        # its tests move time), one UPDATE of one column, instead of Django's timezone.now().
        user_logged_in.disconnect(dispatch_uid="update_last_login")
        user_logged_in.connect(record_last_login, dispatch_uid="akun_identity_last_login")

        from akun.accounts.api import subscribe
        from akun.identity.actions import ENDS_SESSIONS, end_sessions_of_change

        # A new password, sign out everywhere, suspension, deactivation, deletion, a reissue
        # (the operator's reset) and the way back end every session of the account (sso
        # revokes its grants on the same events), in the change's transaction: single
        # changes and bulk runs alike.
        subscribe(ENDS_SESSIONS, end_sessions_of_change)
