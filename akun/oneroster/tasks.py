"""OneRoster jobs, as django-tasks tasks (run by `akun worker`)."""

from django_tasks import task


@task()
def refresh_after_import(import_run: int) -> dict:
    from akun.oneroster.project import refresh_after_import as run

    return {"users_changed": run(import_run)}
