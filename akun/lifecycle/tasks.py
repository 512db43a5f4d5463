"""The lifecycle jobs, as django-tasks tasks (run by `akun worker`). Each is idempotent and
safe to run late or twice; the schedules that enqueue them are in akun.lifecycle.schedule."""

from django_tasks import task

ACTOR = "lifecycle"


def _summary(result) -> dict:
    return {"rule": result.rule, "counts": result.as_dict(), "held": result.held}


@task()
def deadline_sweep() -> dict:
    from akun.lifecycle.deadlines import sweep

    return _summary(sweep(actor=ACTOR))


@task()
def roster_pass(import_run: int | None = None) -> dict:
    from akun.lifecycle.roster_pass import roster_pass as run

    return _summary(run(actor=f"{ACTOR}:import#{import_run}" if import_run else ACTOR))


@task()
def inactivity_sweep() -> dict:
    from akun.lifecycle.deletion import inactivity_sweep as run

    return _summary(run(actor=ACTOR))


@task()
def send_notices() -> dict:
    from akun.lifecycle.deletion import send_notices as run

    return _summary(run(actor=ACTOR))


@task()
def run_deletions() -> dict:
    from akun.lifecycle.deletion import run_deletions as run

    return _summary(run(actor=ACTOR))


@task()
def prune_events() -> dict:
    from akun.accounts.api import prune_events as prune

    return {"pruned": prune()}
