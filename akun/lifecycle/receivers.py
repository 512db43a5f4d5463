"""After each roster import that changed the roster: the roster pass, as a task."""

import logging

from django.dispatch import receiver

from akun.roster.api import roster_imported

log = logging.getLogger("akun.lifecycle")


@receiver(roster_imported, dispatch_uid="akun.lifecycle.roster_pass")
def enqueue_roster_pass(sender, run, **kwargs):
    from akun.lifecycle.tasks import roster_pass

    result = roster_pass.enqueue(import_run=run.pk)
    log.info("roster import #%s: roster pass enqueued (task %s)", run.pk, result.id)
