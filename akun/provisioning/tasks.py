"""The provisioning work inside `akun worker` (the one process a small installation runs):
a django-tasks task that sends for every enabled target for a slice of time and enqueues
itself again while work is waiting. Large installations run `akun provision run --workers N`
beside it (docs/provisioning.md); both claim rows the same way and never collide."""

import datetime as dt
import time

from django.db import transaction
from django_tasks import task

SLICE_SECONDS = 50.0
TASK_PATH = "akun.provisioning.tasks.sync"


def _queued() -> bool:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path=TASK_PATH).ready().exists()


def wake(delay: float = 0.0) -> None:
    """Make sure a sync task is queued (after the current transaction commits)."""

    def enqueue():
        if _queued():
            return
        if delay:
            from akun.core import clock

            sync.using(run_after=clock.now() + dt.timedelta(seconds=delay)).enqueue()
        else:
            sync.enqueue()

    transaction.on_commit(enqueue)


@task()
def sync(seconds: float = SLICE_SECONDS) -> dict:
    from akun.provisioning.engine import Engine, pending_count
    from akun.provisioning.models import Target

    deadline = time.monotonic() + seconds
    out = {}
    more = False
    for target in Target.objects.filter(enabled=True).order_by("name"):
        r = Engine(target, actor="worker").run(once=True, deadline=deadline)
        out[target.name] = {"rows": r.rows, "synced": r.synced, "failed": r.failed,
                            "waiting": r.waiting, "held": r.held}  # fmt: skip
        if not r.held and pending_count(target.name):
            more = True
    if more:
        # Again in a moment: the worker's round (schedules, consumers) runs in between.
        wake(delay=1.0)
    return out
