from django.db import migrations


def fillfactor(apps, schema_editor):
    # Every issuance batch advances thousands of counters; with free space in each page the
    # new row version stays on its page (HOT update: no new primary-key entry per advance).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE accounts_localpartcounter SET (fillfactor = 50)")


def fillfactor_back(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE accounts_localpartcounter RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_hot_state_updates")]

    operations = [migrations.RunPython(fillfactor, fillfactor_back)]
