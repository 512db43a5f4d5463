"""Periodic jobs, declared here in code; `akun worker` calls tick() between tasks.

tick() enqueues a job when its latest due time (slot) has not been enqueued yet and records
that slot in ScheduleState, in one transaction with a row lock, so two workers never both
enqueue it. A worker that was down for days enqueues each job once on its return, not once
per missed slot: the jobs themselves catch up (they work from the state of the data, not
from the time they were meant to run).
"""

import datetime as dt
import logging
import math
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from akun.core import clock
from akun.lifecycle import tasks
from akun.lifecycle.models import ScheduleState

log = logging.getLogger("akun.lifecycle")


@dataclass(frozen=True)
class Schedule:
    name: str
    task: object  # a django_tasks Task
    every: dt.timedelta
    at: dt.timedelta = dt.timedelta(0)  # offset of the slots from local midnight

    def last_slot(self, now: dt.datetime) -> dt.datetime:
        """The latest due time at or before `now` (slots: midnight + at + k * every)."""
        local = timezone.localtime(now)
        base = local.replace(hour=0, minute=0, second=0, microsecond=0) + self.at
        k = math.floor((local - base) / self.every)
        return base + k * self.every


DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)

SCHEDULES = (
    # Just after midnight: the day after a deadline is the first day it is past.
    Schedule("lifecycle.deadlines", tasks.deadline_sweep, DAY, dt.timedelta(minutes=30)),
    Schedule("lifecycle.inactivity", tasks.inactivity_sweep, DAY, dt.timedelta(hours=2)),
    Schedule("lifecycle.notices", tasks.send_notices, HOUR, dt.timedelta(minutes=10)),
    Schedule("lifecycle.deletions", tasks.run_deletions, DAY, dt.timedelta(hours=3)),
    # The change stream: events every consumer has passed, past their retention.
    Schedule("events.prune", tasks.prune_events, DAY, dt.timedelta(hours=4)),
)


def tick(now: dt.datetime | None = None, schedules=SCHEDULES) -> list[str]:
    """Enqueue every job that is due; returns the names enqueued."""
    now = now or clock.now()
    enqueued = []
    for s in schedules:
        slot = s.last_slot(now)
        try:
            ScheduleState.objects.get_or_create(name=s.name)
        except IntegrityError:  # another worker created it just now
            pass
        with transaction.atomic():
            state = ScheduleState.objects.select_for_update().get(name=s.name)
            if state.last_slot is not None and state.last_slot >= slot:
                continue
            result = s.task.enqueue()
            state.last_slot, state.last_enqueued_at = slot, now
            state.last_task_id = str(result.id)
            state.save()
        log.info("schedule %s: due %s, enqueued task %s", s.name, slot, result.id)
        enqueued.append(s.name)
    return enqueued
