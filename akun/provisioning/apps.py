from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    name = "akun.provisioning"
    label = "provisioning"
    verbose_name = "Provisioning of outside directories (Google Workspace, SCIM)"

    def ready(self):
        from akun.accounts import api as accounts_api
        from akun.provisioning import feed, passwords, status

        feed.register()  # the durable consumer `provisioning` (account events -> work)

        # Password-sync mode: a password just set is hashed for the targets that want it.
        accounts_api.register_password_hook(passwords.on_password_set)
        accounts_api.subscribe([accounts_api.EventKind.DELETED], passwords.forget_on_delete)
        # `akun accounts explain` says where the account stands at each target.
        accounts_api.register_explain_detail(status.explain_lines)
