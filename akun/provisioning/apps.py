from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    name = "akun.provisioning"
    label = "provisioning"
    verbose_name = "Provisioning of outside directories (Google Workspace, SCIM)"

    def ready(self):
        from akun.provisioning import feed

        feed.register()  # the durable consumer `provisioning` (account events -> work)
