"""`akun roster import DIR` and `akun roster generate --out DIR`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


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

        gen = sub.add_parser("generate", help="write a synthetic Dapodik snapshot")
        gen.add_argument("--out", type=Path, required=True)
        gen.add_argument("--scale", type=float, default=0.001, help="1.0 = the whole country")
        gen.add_argument("--seed", type=int, default=1)
        gen.add_argument("--messy", action="store_true", help="write real-world flaws too")

    def handle(self, *args, **opts):
        if opts["action"] == "generate":
            return self.generate(opts)
        return self.import_snapshot(opts)

    def generate(self, opts):
        from akun.synthetic.generate import generate_snapshot

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
