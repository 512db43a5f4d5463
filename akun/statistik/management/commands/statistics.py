"""`akun statistics rebuild | fold | show`: the national counts (akun.statistik)."""

import time

from django.core.management.base import BaseCommand

from akun.statistik import api as statistics


class Command(BaseCommand):
    help = "National statistics: rebuild from the accounts, fold pending deltas, show totals."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("rebuild", help="count everything again from the accounts (set-based)")
        sub.add_parser("fold", help="add the pending deltas to the counts (akun worker does)")
        sub.add_parser("show", help="national totals and each province")

    def handle(self, *args, **opts):
        t = time.monotonic()
        if opts["action"] == "rebuild":
            n = statistics.rebuild()["accounts"]
            self.stdout.write(f"Rebuilt from {n:,} accounts in {time.monotonic() - t:.1f} s.")
        elif opts["action"] == "fold":
            n = statistics.fold()
            self.stdout.write(f"Folded {n:,} delta rows in {time.monotonic() - t:.2f} s.")
        else:
            for g in [statistics.national(), *statistics.regions("")]:
                rate = "-" if g.rate is None else f"{g.rate:.1f}%"
                self.stdout.write(
                    f"{g.kode or 'NASIONAL':8} {g.nama[:28]:28} "
                    f"PD {g.role('peserta_didik'):>11,}  PTK {g.role('pendidik'):>9,}  "
                    f"TK {g.role('tenaga_kependidikan'):>8,}  aktif {rate}"
                )
