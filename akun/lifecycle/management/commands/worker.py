"""`akun worker`: runs queued tasks (django-tasks-db's worker), enqueues the periodic jobs
declared in akun.lifecycle.schedule when they are due, and runs the change stream's durable
consumers (accounts.api.register_consumer) until they have caught up. Nothing else needs to
run.

Between rounds it ticks the schedules, then lets django-tasks-db's Worker drain the queue
(its batch mode), then sleeps --interval seconds. --batch: one round, then exit (cron-style
use and tests).
"""

import logging
import time

from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker

from akun.accounts.api import run_consumers
from akun.lifecycle import schedule

log = logging.getLogger("akun.lifecycle")


class SchedulingWorker(Worker):
    def __init__(self, *, loop_batch: bool, **kwargs):
        super().__init__(**kwargs)
        self.loop_batch = loop_batch

    def run(self) -> None:
        # The parent's loop in batch mode drains the queue and returns; around it, the ticks.
        self.batch = True
        first = True
        while self.running:
            close_old_connections()
            schedule.tick()
            run_consumers()
            super().run()
            self.startup_delay = False
            if self.loop_batch or (
                self.max_tasks is not None and self._run_tasks >= self.max_tasks
            ):
                return
            if first:
                logging.getLogger("django_tasks_db").setLevel(logging.WARNING)  # quiet rounds
                first = False
            close_old_connections()
            time.sleep(self.interval)


class Command(DbWorkerCommand):
    help = "Run background tasks and the lifecycle schedules (the only process Akun needs)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(reload=False, interval=30.0)

    def handle(self, *args, **options):
        self.configure_logging(options["verbosity"])
        queue_names = options["queue_name"].split(",")
        excluded = options["exclude_queues"].split(",") if options["exclude_queues"] else []
        worker = SchedulingWorker(
            loop_batch=options["batch"],
            queue_names=queue_names,
            interval=options["interval"],
            batch=True,
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"] and not options["batch"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=excluded,
        )
        worker.configure_signals()
        worker.run()
