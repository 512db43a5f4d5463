"""`akun oneroster export --org NPSN|REGION [--delta SINCE] --out file.zip` and
`akun oneroster refresh`."""

import datetime as dt
import os
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime

from akun.oneroster import package, project


def _since(text: str) -> dt.datetime:
    value = parse_datetime(text)
    if value is None:
        d = parse_date(text)
        if d is None:
            raise CommandError(f"--delta: not an ISO date or date-time: {text!r}")
        value = dt.datetime(d.year, d.month, d.day)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class Command(BaseCommand):
    help = "OneRoster 1.2: the CSV package of a school or region; refresh the projection."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        ex = sub.add_parser("export", help="write the OneRoster 1.2 CSV package (zip)")
        ex.add_argument("--org", required=True, help="NPSN, or region code (2 or 4 digits)")
        ex.add_argument("--delta", help="only what changed after this ISO date-time")
        ex.add_argument("--out", required=True, help="the zip to write ('-' for stdout)")
        ex.add_argument(
            "--demographics", action="store_true", help="add demographics.csv (birth dates)"
        )
        ex.add_argument("--nisn", action="store_true", help="add students' NISN to userIds")
        ex.add_argument("--actor", default="cli")
        sub.add_parser("refresh", help="recompute every OneRoster object from the roster")

    def handle(self, *args, **o):
        if o["action"] == "refresh":
            changed = project.refresh()
            self.stdout.write(f"OneRoster: {changed} users changed")
            return
        since = _since(o["delta"]) if o["delta"] else None
        path = o["out"]
        tmp = None
        try:
            if path == "-":
                out = sys.stdout.buffer
            else:
                tmp = f"{path}.part"
                out = open(tmp, "wb")  # noqa: SIM115 -- closed below, renamed when whole
            try:
                result = package.do_export_package(
                    out,
                    org=o["org"],
                    since=since,
                    demographics=o["demographics"],
                    nisn=o["nisn"],
                    actor=o["actor"],
                )
            finally:
                if tmp:
                    out.close()
            if tmp:
                os.replace(tmp, path)
        except package.PackageError as e:
            raise CommandError(str(e)) from e
        finally:
            if tmp and os.path.exists(tmp):
                os.unlink(tmp)
        counts = ", ".join(f"{k} {v}" for k, v in result.counts.items() if v)
        self.stderr.write(
            f"OneRoster {'delta' if result.delta else 'bulk'} package of {result.org}: {counts}"
        )
