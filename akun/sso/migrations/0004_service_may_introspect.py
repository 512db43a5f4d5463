from django.db import migrations, models


def keep_resource_servers(apps, schema_editor):
    """Services registered with the introspection scope were meant to introspect: they keep
    doing so (confidential ones only); every other service loses the ability."""
    Service = apps.get_model("sso", "Service")
    for svc in Service.objects.filter(
        allowed_scopes__contains="introspection", application__client_type="confidential"
    ):
        if "introspection" in svc.allowed_scopes.split():
            svc.may_introspect = True
            svc.save(update_fields=["may_introspect"])


class Migration(migrations.Migration):
    dependencies = [
        ("sso", "0003_saml_strictness"),
    ]

    operations = [
        migrations.AddField(
            model_name="service",
            name="may_introspect",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(keep_resource_servers, migrations.RunPython.noop),
    ]
