"""`akun roster import DIR` and `akun roster generate --out DIR`."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from akun.roster.models import RolloverWindow


def _admin(user_id: str) -> str:
    """The user ID of a regional or national admin (role dinas) who may sign in."""
    account = (
        get_user_model()
        .objects.filter(user_id=(user_id or "").strip().lower(), role="dinas")
        .exclude(state__in=["suspended", "deactivated", "deleted"])
        .first()
    )
    if account is None:
        raise CommandError(f"--by {user_id!r} is not an admin of Akun (akun admins create)")
    return account.user_id


class Command(BaseCommand):
    help = "Dapodik roster: import a snapshot, or generate a synthetic one."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)

        imp = sub.add_parser("import", help="import sekolah.csv, peserta_didik.csv and ptk.csv")
        imp.add_argument("dir", type=Path)
        imp.add_argument(
            "--allow-mass-departure",
            action="store_true",
            help="apply even if more than the allowed share of records would depart",
        )
        imp.add_argument(
            "--max-departure-share",
            type=float,
            default=None,
            help="share (0-1) of records that may depart before the safety stop",
        )
        imp.add_argument(
            "--region",
            default="",
            help="the snapshot covers only this region (province or regency code): "
            "records elsewhere are left alone",
        )
        imp.add_argument("--report", type=Path, default=None, help="where to write rejects")
        imp.add_argument("--actor", default="", help="who runs the import (audit log)")

        ro = sub.add_parser("rollover", help="the school-year rollover window")
        ro_sub = ro.add_subparsers(dest="rollover_action", required=True)
        ro_open = ro_sub.add_parser("open", help="open the window for a school year")
        ro_open.add_argument("--year", required=True, help="the school year, e.g. 2027/2028")
        ro_open.add_argument("--by", required=True, help="user ID of the admin who opens it")
        ro_open.add_argument("--until", default=None, help="last day of the window (ISO date)")
        ro_close = ro_sub.add_parser("close", help="close the open window")
        ro_close.add_argument("--by", required=True, help="user ID of the admin who closes it")
        ro_close.add_argument("--year", default="")
        ro_sub.add_parser("status", help="the windows, open and closed")

        gen = sub.add_parser("generate", help="write a synthetic Dapodik snapshot")
        gen.add_argument("--out", type=Path, required=True)
        gen.add_argument("--scale", type=float, default=0.001, help="1.0 = the whole country")
        gen.add_argument("--seed", type=int, default=1)
        gen.add_argument("--messy", action="store_true", help="write real-world flaws too")
        gen.add_argument(
            "--rollover-from",
            type=Path,
            default=None,
            help="write the next school year's snapshot of this one (grades up, graduates "
            "out, SD -> SMP and SMP -> SMA/SMK moves, a new cohort, PTK churn)",
        )

    def handle(self, *args, **opts):
        if opts["action"] == "generate":
            return self.generate(opts)
        if opts["action"] == "rollover":
            return self.rollover(opts)
        return self.import_snapshot(opts)

    def rollover(self, opts):
        import datetime as dt

        from akun.roster import rollover

        action = opts["rollover_action"]
        if action == "status":
            for w in RolloverWindow.objects.order_by("-opened_at"):
                state = "OPEN" if w.closed_at is None else f"closed {w.closed_at:%Y-%m-%d}"
                until = f" until {w.until}" if w.until else ""
                self.stdout.write(
                    f"{w.year}  {state}{until}  opened {w.opened_at:%Y-%m-%d %H:%M} by "
                    f"{w.opened_by}" + (f", closed by {w.closed_by}" if w.closed_by else "")
                )
            w = rollover.open_window()
            self.stdout.write(f"Open now: {w.year}" if w else "No rollover window is open.")
            return
        actor = _admin(opts["by"])
        try:
            if action == "open":
                until = None
                if opts["until"]:
                    try:
                        until = dt.date.fromisoformat(opts["until"])
                    except ValueError as e:
                        raise CommandError(f"--until: not an ISO date: {opts['until']!r}") from e
                w = rollover.do_open_rollover(opts["year"], actor=actor, until=until)
                self.stdout.write(
                    f"Rollover window {w.year} open" + (f" until {w.until}" if w.until else "")
                    + ": graduations and level changes do not trip the safety stop."
                )  # fmt: skip
            else:
                w = rollover.do_close_rollover(actor=actor, year=opts["year"])
                self.stdout.write(f"Rollover window {w.year} closed.")
        except rollover.RolloverError as e:
            raise CommandError(str(e)) from e

    def generate(self, opts):
        from akun.synthetic.generate import generate_snapshot

        if opts["rollover_from"] is not None:
            from akun.synthetic.rollover import generate_rollover

            counts = generate_rollover(opts["rollover_from"], opts["out"], seed=opts["seed"])
            self.stdout.write(
                f"Wrote {opts['out']}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items())
            )
            return
        if opts["scale"] <= 0:
            raise CommandError("--scale must be greater than 0")
        counts = generate_snapshot(
            opts["out"], scale=opts["scale"], seed=opts["seed"], messy=opts["messy"]
        )
        self.stdout.write(
            f"Wrote {opts['out']}: "
            + ", ".join(f"{name} {count:,} rows" for name, count in counts.items())
        )

    def import_snapshot(self, opts):
        import getpass

        from akun.roster.importing import ImportProblem, RosterImport, format_summary

        actor = opts["actor"] or f"cli:{getpass.getuser()}"
        try:
            importer = RosterImport(
                opts["dir"],
                actor=actor,
                allow_mass_departure=opts["allow_mass_departure"],
                max_departure_share=opts["max_departure_share"],
                region=opts["region"],
                report_path=opts["report"],
            )
            result = importer.run()
        except ImportProblem as e:
            self.stderr.write(f"Import stopped: {e}")
            self.stderr.write("The roster is unchanged.")
            raise SystemExit(e.exit_code) from e
        self.stdout.write(format_summary(result))
        if result.status == "unchanged":
            self.stdout.write("No changes: the roster already matches this snapshot.")
        else:
            self.stdout.write(f"Applied as import #{result.run.pk}.")
        if result.total_rejected:
            self.stdout.write(
                f"{result.total_rejected:,} rows rejected; reasons in {result.report_path}"
            )
