"""`akun accounts issue | export | explain`."""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from akun.accounts import api
from akun.accounts.eligibility import SUBDOMAINS


def _default_actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in a container
        return "cli"


class Command(BaseCommand):
    help = "Learning accounts: issue from the roster, export a school's CSV, explain a decision."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)

        issue = sub.add_parser("issue", help="issue an account to everyone eligible who has none")
        issue.add_argument("--batch-rows", type=int, default=None, help="roster rows per batch")
        issue.add_argument("--actor", default="", help="who runs it (audit log)")

        exp = sub.add_parser("export", help="a school's accounts as CSV for its operator")
        exp.add_argument("--npsn", required=True)
        exp.add_argument("--role", choices=["peserta_didik", "ptk"], default=None)
        exp.add_argument("--out", type=Path, default=None, help="file (default: standard output)")
        exp.add_argument("--actor", default="")

        ex = sub.add_parser("explain", help="why a person has or has not got an account")
        who = ex.add_mutually_exclusive_group(required=True)
        who.add_argument("--nisn")
        who.add_argument("--nik")
        who.add_argument("--ptk-id")
        who.add_argument("--user-id")
        ex.add_argument("--lang", choices=["id", "en"], default="id")
        ex.add_argument("--json", action="store_true", help="the structured result")

    def handle(self, *args, **opts):
        return getattr(self, "do_" + opts["action"])(opts)

    def do_issue(self, opts):
        from akun.accounts.issue import BATCH_ROWS

        tty = self.stdout.isatty()

        def progress(kind, i, n, result):
            if tty:
                self.stdout.write(f"\r{kind} batch {i}/{n}: {result.total:,} issued", ending="")
            else:
                self.stdout.write(f"batch {i}/{n} ({kind}): {result.total:,} issued so far")

        result = api.issue_accounts(
            actor=opts["actor"] or _default_actor(),
            batch_rows=opts["batch_rows"] or BATCH_ROWS,
            progress=progress,
        )
        if tty:
            self.stdout.write("")
        level_of = {sub: (role, level) for (role, level), sub in SUBDOMAINS.items()}
        self.stdout.write(f"Issue run #{result.run_id}: {result.total:,} accounts issued.")
        for sub in sorted(result.counts, key=lambda s: level_of.get(s, (s, ""))):
            role, level = level_of.get(sub, (sub, ""))
            self.stdout.write(f"  {role:<20} {level:<11} {sub:<17} {result.counts[sub]:>10,}")
        if result.interrupted_runs:
            runs = ", ".join(f"#{r}" for r in result.interrupted_runs)
            self.stdout.write(f"Earlier interrupted runs recorded: {runs}.")
        if not result.total:
            self.stdout.write("Nothing to issue: everyone eligible already has an account.")

    def do_export(self, opts):
        from akun.roster.api import Sekolah

        if not Sekolah.objects.filter(npsn=opts["npsn"]).exists():
            raise CommandError(f"no school with NPSN {opts['npsn']} in the roster")
        export = api.export_accounts_csv(
            opts["npsn"], role=opts["role"], actor=opts["actor"] or _default_actor()
        )
        if opts["out"]:
            opts["out"].write_bytes(export.content)
            self.stderr.write(
                f"Wrote {export.rows:,} accounts ({export.initial_passwords:,} with an initial "
                f"password) to {opts['out']}"
            )
        else:
            sys.stdout.buffer.write(export.content)
            sys.stdout.flush()

    def do_explain(self, opts):
        result = api.explain(
            nisn=opts["nisn"] or "",
            nik=opts["nik"] or "",
            ptk_id=opts["ptk_id"] or "",
            user_id=opts["user_id"] or "",
        )
        if opts["json"]:
            self.stdout.write(json.dumps(result.as_dict(), default=str, ensure_ascii=False))
        else:
            self.stdout.write(result.text(opts["lang"]))
        if not result.found:
            raise CommandError("not found")
