"""PostgreSQL: the delta and count tables churn (every fold deletes and rewrites rows) and
the reads scan them whole, so autovacuum visits them after a thousand dead rows, not after a
fifth of the table."""

from django.db import migrations

TABLES = ("statistik_countdelta", "statistik_dailydelta", "statistik_regioncount",
          "statistik_schoolcount", "statistik_dailycount")  # fmt: skip


def tune(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for t in TABLES:
        schema_editor.execute(
            f"ALTER TABLE {t} SET (autovacuum_vacuum_scale_factor = 0, "
            "autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0, "
            "autovacuum_analyze_threshold = 1000)"
        )


class Migration(migrations.Migration):
    dependencies = [("statistik", "0001_initial")]
    operations = [migrations.RunPython(tune, migrations.RunPython.noop)]
