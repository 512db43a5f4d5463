"""`akun events status | run | prune`: the change stream's consumers."""

import json

from django.core.management.base import BaseCommand, CommandError

from akun.accounts import stream


def _when(value) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


class Command(BaseCommand):
    help = "The change stream of accounts: consumers' lag and failures, running, pruning."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        st = sub.add_parser("status", help="each consumer's cursor, lag and failures")
        st.add_argument("--json", action="store_true")
        st.add_argument("--errors", action="store_true", help="the last error in full")
        run = sub.add_parser("run", help="run consumers until they have caught up")
        run.add_argument("--consumer", default="", help="only this one")
        sub.add_parser("prune", help="delete events every consumer has passed (and older "
                       "than AKUN_EVENTS_RETENTION_DAYS)")  # fmt: skip

    def handle(self, *args, **opts):
        return getattr(self, "do_" + opts["action"])(opts)

    def do_status(self, opts):
        rows = stream.status()
        if opts["json"]:
            self.stdout.write(json.dumps(rows, default=str, indent=2))
            return
        if not rows:
            self.stdout.write("no consumers registered")
        for r in rows:
            flag = "" if r["registered"] else " (not registered)"
            self.stdout.write(
                f"{r['name']}{flag}: lag {r['lag']} events (oldest {_when(r['oldest_waiting'])}), "
                f"handled {r['handled']}, last ack {_when(r['acked_at'])}, "
                f"cursor {r['cursor'][0]}/{r['cursor'][1]}"
            )
            if r["failures"]:
                self.stdout.write(
                    f"  FAILING: {r['failures']} in a row, next try {_when(r['retry_at'])}, "
                    f"at event {r['last_error_event']}"
                )
            if r["last_error"]:
                lines = r["last_error"].strip().splitlines()
                shown = lines if opts["errors"] else lines[-1:]
                self.stdout.write(f"  last error ({_when(r['last_error_at'])}):")
                for line in shown:
                    self.stdout.write(f"    {line}")

    def do_run(self, opts):
        names = [opts["consumer"]] if opts["consumer"] else sorted(stream.consumers())
        for name in names:
            if name not in stream.consumers():
                raise CommandError(
                    f"no consumer {name!r}; registered: {sorted(stream.consumers())}"
                )
            r = stream.run_consumer(name)
            state = "failed" if r.failed else "waiting (backoff)" if r.waiting else "caught up"
            self.stdout.write(f"{name}: {r.handled} events in {r.batches} batches, {state}")

    def do_prune(self, opts):
        self.stdout.write(f"{stream.prune()} events pruned")
