"""`akun lifecycle deadline|run|plan|holds|confirm|reactivate|suspend|appeal|decide|cancel`."""

import datetime as dt
import getpass

from django.core.management.base import BaseCommand, CommandError

from akun.accounts.api import Account, TransitionNotAllowed
from akun.lifecycle import api, deletion, plan, roster_pass
from akun.lifecycle.deadlines import CohortError
from akun.lifecycle.deadlines import sweep as deadline_sweep
from akun.roster.api import PROVINSI

RULES = {
    "deadlines": lambda actor: deadline_sweep(actor=actor),
    "roster": lambda actor: roster_pass.roster_pass(actor=actor),
    "inactivity": lambda actor: deletion.inactivity_sweep(actor=actor),
    "notices": lambda actor: deletion.send_notices(actor=actor),
    "deletions": lambda actor: deletion.run_deletions(actor=actor),
}


def _default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in a container
        return "cli"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as e:
        raise CommandError(f"--date wants YYYY-MM-DD, not {text!r}") from e


def _province(code: str) -> str:
    if code in ("", "*"):
        return "-" if code == "" else "all"
    name = PROVINSI.get(code) if isinstance(PROVINSI, dict) else None
    return f"{code} {name}" if name else code


class Command(BaseCommand):
    help = "Account lifecycle: deadlines, roster changes, deletion path, misuse, safety stop."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)

        dl = sub.add_parser("deadline", help="activation deadlines of issuance cohorts")
        dsub = dl.add_subparsers(dest="deadline_action", required=True)
        dset = dsub.add_parser("set", help="set (or change) a cohort's deadline")
        dset.add_argument("--date", required=True, help="last day to activate, YYYY-MM-DD")
        dset.add_argument(
            "--cohort",
            default="",
            help="issue run(s): 3 or 3-7 (default: every issue run since the last cohort)",
        )
        dset.add_argument("--reason", default="")
        dsub.add_parser("list", help="deadlines, days left, accounts not yet activated")

        run = sub.add_parser("run", help="run a rule now (what the worker's schedules do)")
        run.add_argument("rule", choices=[*RULES, "all"])
        run.add_argument(
            "--full",
            action="store_true",
            help="roster: compare the whole roster, not only what imports changed since the "
            "last pass (e.g. after a change of the eligibility rules)",
        )

        sub.add_parser("plan", help="what the next runs would do, per rule and province")
        sub.add_parser("holds", help="runs held by the safety stop")
        conf = sub.add_parser("confirm", help="let the next run go ahead in a held province")
        conf.add_argument("hold", type=int)
        conf.add_argument("--reason", default="")

        react = sub.add_parser("reactivate", help="a deactivated account, new initial password")
        react.add_argument("user_id")
        react.add_argument("--reason", required=True)

        sus = sub.add_parser("suspend", help="suspend for a breach of the terms")
        sus.add_argument("user_id")
        sus.add_argument("--category", required=True, choices=list(api.CATEGORIES))
        sus.add_argument("--evidence", required=True)

        app = sub.add_parser("appeal", help="record the person's appeal")
        app.add_argument("user_id")
        app.add_argument("--text", required=True)

        dec = sub.add_parser("decide", help="decide an appeal")
        dec.add_argument("user_id")
        how = dec.add_mutually_exclusive_group(required=True)
        how.add_argument("--reinstate", action="store_true")
        how.add_argument("--deactivate", action="store_true")
        dec.add_argument("--note", required=True)

        can = sub.add_parser("cancel", help="take an account off the deletion path")
        can.add_argument("user_id")
        can.add_argument("--reason", required=True)

        for name, p in [*sub.choices.items(), *dsub.choices.items()]:
            if name != "deadline":
                p.add_argument("--actor", default="", help="who does it (audit log)")

    def handle(self, *args, **opts):
        self.actor = opts.get("actor") or _default_actor()
        try:
            return getattr(self, "do_" + opts["action"])(opts)
        except (CohortError, api.MisuseError, TransitionNotAllowed, ValueError) as e:
            raise CommandError(str(e)) from e

    def _account(self, user_id: str) -> Account:
        try:
            return Account.objects.get(user_id=user_id.strip().lower())
        except Account.DoesNotExist as e:
            raise CommandError(f"no account {user_id}") from e

    def do_deadline(self, opts):
        if opts["deadline_action"] == "set":
            d = api.do_set_deadline(
                _date(opts["date"]), cohort=opts["cohort"], actor=self.actor, reason=opts["reason"]
            )
            self.stdout.write(
                f"Cohort {d.cohort} (issue runs {d.first_run}..{d.last_run}): accounts not "
                f"activated by the end of {d.deadline} will be deactivated."
            )
            return
        rows = api.countdown()
        if not rows:
            self.stdout.write("No activation deadlines set.")
        for r in rows:
            when = f"{-r['days_left']} days ago" if r["passed"] else f"{r['days_left']} days left"
            self.stdout.write(
                f"cohort {r['cohort']:<10} {r['deadline']}  {when:<16} "
                f"{r['not_activated']:>10,} not activated"
            )

    def _print(self, result):
        head = f"{result.rule}" + (f" (run #{result.run_id})" if result.run_id else "")
        if not result.counts and not result.held:
            self.stdout.write(f"{head}: nothing to do")
        else:
            self.stdout.write(f"{head}:")
        for (what, prov), n in sorted(result.counts.items()):
            self.stdout.write(f"  {what:<26} {_province(prov):<36} {n:>10,}")
        for prov in result.held:
            self.stdout.write(
                f"  HELD {_province(prov)}: over the safety share; see `akun lifecycle holds`"
            )

    def do_run(self, opts):
        rules = list(RULES) if opts["rule"] == "all" else [opts["rule"]]
        held = False
        for rule in rules:
            if rule == "roster":
                result = roster_pass.roster_pass(actor=self.actor, full=opts["full"])
            else:
                result = RULES[rule](self.actor)
            self._print(result)
            held = held or bool(result.held)
        if held:
            raise CommandError(
                "some provinces were held by the safety stop (exit status 3)", returncode=3
            )

    def do_plan(self, opts):
        totals = plan.province_totals()
        self.stdout.write("Plan (nothing is changed):")
        for result in plan.plan():
            self._print(result)
            for prov in plan.would_hold(result, totals):
                self.stdout.write(f"  would HOLD {_province(prov)} (over the safety share)")

    def do_holds(self, opts):
        holds = api.Hold.objects.exclude(status="used").order_by("pk")
        if not holds:
            self.stdout.write("No holds.")
        for h in holds:
            self.stdout.write(
                f"#{h.pk} {h.status:<9} {h.rule:<11} {_province(h.kode_provinsi):<36} "
                f"{h.count:,} of {h.total:,} accounts ({h.share:.1%})"
            )
        if any(h.status == "held" for h in holds):
            self.stdout.write("Confirm one with `akun lifecycle confirm ID`.")

    def do_confirm(self, opts):
        try:
            hold = api.do_confirm_hold(opts["hold"], actor=self.actor, reason=opts["reason"])
        except api.Hold.DoesNotExist as e:
            raise CommandError(f"no hold #{opts['hold']}") from e
        rule = {"deadline": "deadlines"}.get(hold.rule, hold.rule)
        self.stdout.write(
            f"Hold #{hold.pk} confirmed: the next {hold.rule} run goes ahead in province "
            f"{_province(hold.kode_provinsi)} (up to {hold.count:,} accounts). The worker's next "
            f"run does it, or now: `akun lifecycle run {rule}`."
        )

    def do_reactivate(self, opts):
        account = self._account(opts["user_id"])
        password = api.do_reactivate_with_new_password(
            account, actor=self.actor, reason=opts["reason"]
        )
        self.stdout.write(f"{account.user_id} reactivated; new initial password: {password}")

    def do_suspend(self, opts):
        account = self._account(opts["user_id"])
        case = api.do_suspend_for_misuse(
            account, category=opts["category"], evidence=opts["evidence"], actor=self.actor
        )
        self.stdout.write(f"{account.user_id} suspended for {case.category} (case #{case.pk}).")

    def do_appeal(self, opts):
        account = self._account(opts["user_id"])
        case = api.do_submit_appeal(account, text=opts["text"], actor=self.actor)
        self.stdout.write(f"Appeal recorded on case #{case.pk}; an admin decides it.")

    def do_decide(self, opts):
        account = self._account(opts["user_id"])
        case = api.do_decide_appeal(
            account, reinstate=opts["reinstate"], note=opts["note"], actor=self.actor
        )
        account.refresh_from_db()
        self.stdout.write(f"Case #{case.pk}: {case.status}; {account.user_id} is {account.state}.")

    def do_cancel(self, opts):
        account = self._account(opts["user_id"])
        try:
            api.do_cancel_deletion(account, actor=self.actor, reason=opts["reason"])
        except api.DeletionSchedule.DoesNotExist as e:
            raise CommandError(f"{account.user_id} is not scheduled for deletion") from e
        account.refresh_from_db()
        self.stdout.write(f"Deletion of {account.user_id} cancelled; it is {account.state}.")
