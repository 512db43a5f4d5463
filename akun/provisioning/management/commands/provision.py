"""`akun provision targets | add | status | run | retry | reconcile | release | google
sso-settings`."""

import json
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from akun.provisioning import actions
from akun.provisioning.models import Provisioned, Target
from akun.provisioning.reasons import describe
from akun.provisioning.sso_profiles import sso_profile


def _default_actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in a container
        return "cli"


class Bar:
    """A bar on a terminal (redrawn at most 5 times a second), a line every 10 s otherwise."""

    def __init__(self, stream, total: int):
        self.stream, self.total = stream, max(total, 0)
        self.tty = getattr(stream, "isatty", lambda: False)()
        self.start = self.last = time.monotonic()

    def __call__(self, r, final=False) -> None:
        now = time.monotonic()
        if not final and now - self.last < (0.2 if self.tty else 10):
            return
        self.last = now
        done = r.synced + r.suspended + r.deleted + r.failed
        share = min(1.0, done / self.total) if self.total else 1.0
        rate = done / max(now - self.start, 1e-6) * 60
        text = (f"{share:6.1%} {done:>12,}/{self.total:,} sent, {r.failed:,} failed, "
                f"{r.waiting:,} waiting, {rate:,.0f}/min")  # fmt: skip
        if self.tty:
            self.stream.write(f"\r[{'#' * int(share * 30):<30}] {text}")
            if final:
                self.stream.write("\n")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


class Command(BaseCommand):
    help = "Provision outside directories (Google Workspace, SCIM) from Akun's accounts."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("targets", help="the configured targets")

        add = sub.add_parser("add", help="add a target and queue every account for it")
        add.add_argument("name")
        add.add_argument("--kind", choices=Target.Kind.values, default="google")
        add.add_argument("--config", default="{}", help="JSON (docs/provisioning.md)")
        add.add_argument("--url", default=None, help="SCIM: the service's base URL (…/scim/v2)")
        add.add_argument("--token-env", default=None, help="SCIM: the variable holding its token")
        add.add_argument("--no-fill", action="store_true", help="do not queue every account")
        add.add_argument("--actor", default="")

        st = sub.add_parser("status", help="counts per state, failures with their reason")
        st.add_argument("--target", default=None)
        st.add_argument("--json", action="store_true")

        run = sub.add_parser("run", help="send the waiting changes")
        run.add_argument("--target", default=None, help="one target (default: every enabled)")
        run.add_argument("--once", action="store_true", help="stop when nothing is due")
        run.add_argument("--workers", type=int, default=1, help="parallel workers (PostgreSQL)")
        run.add_argument("--seconds", type=float, default=None, help="stop after this long")

        retry = sub.add_parser("retry", help="send failed accounts again, now")
        retry.add_argument("--target", default=None)
        retry.add_argument("--account", type=int, action="append", default=None)
        retry.add_argument("--actor", default="")

        rec = sub.add_parser("reconcile", help="compare the target with Akun; --fix the drift")
        rec.add_argument("--target", default=None)
        rec.add_argument("--fix", action="store_true")
        rec.add_argument("--json", action="store_true")
        rec.add_argument("--actor", default="")

        rel = sub.add_parser("release", help="let a target held by the safety stop go on")
        rel.add_argument("target")
        rel.add_argument("--by", required=True, help="the admin who decided (audit log)")

        google = sub.add_parser("google", help="Google Workspace: the single sign-on profile")
        gsub = google.add_subparsers(dest="google_action", required=True)
        sso = gsub.add_parser(
            "sso-settings",
            help="register Google as a SAML service and print what goes in the Admin console",
        )
        sso.add_argument("--domain", help="the Workspace domain (default: the google target's)")
        sso.add_argument(
            "--base-url", help="Akun's public URL (default: the AKUN_SSO_ISSUER setting)"
        )
        sso.add_argument(
            "--no-domain-specific-issuer",
            action="store_true",
            help="Google's issuer is plain google.com (one domain and one Akun only)",
        )
        sso.add_argument(
            "--google-url",
            default="https://www.google.com",
            help="where Google's ACS lives (a stand-in of Google in tests)",
        )
        sso.add_argument("--json", action="store_true", help="the values as JSON")
        sso.add_argument("--actor", default="")

    def handle(self, *args, **opts):
        return getattr(self, "do_" + opts["action"])(opts)

    def _targets(self, name):
        if name:
            try:
                return [Target.objects.get(pk=name)]
            except Target.DoesNotExist:
                raise CommandError(f"No target {name!r} (akun provision targets).") from None
        targets = list(Target.objects.filter(enabled=True).order_by("name"))
        if not targets:
            raise CommandError("No target is configured (akun provision add).")
        return targets

    def do_targets(self, opts):
        for t in Target.objects.order_by("name"):
            state = "held: " + t.held_reason if t.held_reason else (
                "enabled" if t.enabled else "disabled"
            )  # fmt: skip
            domain = (t.config or {}).get("domain", "")
            self.stdout.write(f"{t.name:<20} {t.kind:<7} {domain:<24} {state}")

    def do_add(self, opts):
        try:
            config = json.loads(opts["config"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"--config is not JSON: {exc}") from None
        if not isinstance(config, dict):
            raise CommandError("--config must be a JSON object.")
        for option, key in (("url", "url"), ("token_env", "token_env")):
            if opts[option]:
                config[key] = opts[option]
        if opts["kind"] == "scim":
            self._check_scim(config)
        if Target.objects.filter(pk=opts["name"]).exists():
            raise CommandError(f"Target {opts['name']!r} exists already.")
        n = actions.do_add_target(opts["name"], opts["kind"], config,
                                  actor=opts["actor"] or _default_actor(),
                                  fill=not opts["no_fill"])  # fmt: skip
        self.stdout.write(f"Target {opts['name']} added; {n:,} accounts queued.")

    def _check_scim(self, config):
        url = str(config.get("url") or "")
        if not url.startswith(("https://", "http://")):
            raise CommandError("A SCIM target needs --url https://…/scim/v2.")
        token_env = str(config.get("token_env") or "")
        if token_env and not token_env.replace("_", "").isalnum():
            raise CommandError("--token-env names an environment variable (A-Z, 0-9, _).")
        if "token" in config:
            raise CommandError("The token never goes in the config: --token-env VAR.")

    def do_status(self, opts):
        out = {}
        for t in self._targets(opts["target"]):
            counts = dict(
                Provisioned.objects.filter(target=t).values_list("state").annotate(n=Count("id"))
            )
            reasons = list(
                Provisioned.objects.filter(target=t, state=Provisioned.State.FAILED)
                .values_list("reason").annotate(n=Count("id")).order_by("-n")
            )  # fmt: skip
            out[t.name] = {"held": t.held_reason, "states": counts, "failed_reasons": reasons}
            if opts["json"]:
                continue
            self.stdout.write(f"{t.name} ({t.kind})" + (f" DITAHAN: {t.held_reason}"
                                                        if t.held_reason else ""))  # fmt: skip
            for state in Provisioned.State.values:
                self.stdout.write(f"  {state:<10} {counts.get(state, 0):>12,}")
            for reason, n in reasons:
                self.stdout.write(f"    {n:>10,}  {describe(reason)}")
        if opts["json"]:
            self.stdout.write(json.dumps(out, default=str))

    def do_run(self, opts):
        from akun.provisioning.engine import pending_count, run_workers

        deadline = time.monotonic() + opts["seconds"] if opts["seconds"] else None
        for t in self._targets(opts["target"]):
            bar = Bar(sys.stderr, pending_count(t.name))
            r = run_workers(t.name, max(1, opts["workers"]), once=opts["once"],
                            deadline=deadline, progress=bar)  # fmt: skip
            bar(r, final=True)
            self.stdout.write(
                f"{t.name}: {r.synced:,} synced, {r.suspended:,} suspended, "
                f"{r.deleted:,} deleted, {r.failed:,} failed, {r.waiting:,} waiting."
            )
            if r.held:
                self.stdout.write(f"{t.name} DITAHAN: {r.held}")
                self.stdout.write(f"  akun provision release {t.name} --by ADMIN")

    def do_retry(self, opts):
        n = actions.do_retry_sync(opts["account"], actor=opts["actor"] or _default_actor(),
                                  target=opts["target"])  # fmt: skip
        self.stdout.write(f"{n:,} accounts queued again.")

    def do_reconcile(self, opts):
        from akun.provisioning.reconcile import reconcile

        for t in self._targets(opts["target"]):
            d = reconcile(t, fix=opts["fix"], actor=opts["actor"] or _default_actor())
            if opts["json"]:
                self.stdout.write(json.dumps(d.__dict__))
                continue
            self.stdout.write(
                f"{t.name}: {d.listed:,} managed users listed ({d.unmanaged:,} others left "
                f"alone); missing {d.missing:,}, extra {d.extra:,}, differ {d.differ:,}"
            )
            for kind in ("missing", "extra", "differ"):
                for line in d.samples[kind]:
                    self.stdout.write(f"  {kind:<8} {line}")
            if opts["fix"]:
                self.stdout.write(f"  fixed: {d.fixed_queued:,} queued for the engine, "
                                  f"{d.fixed_suspended:,} extra suspended")  # fmt: skip
            if d.held:
                self.stdout.write(f"  {d.held}")

    def do_release(self, opts):
        try:
            n = actions.do_release_target(opts["target"], actor=f"cli:{opts['by']}")
        except Target.DoesNotExist:
            raise CommandError(f"No target {opts['target']!r}.") from None
        self.stdout.write(f"{opts['target']} released: {n:,} suspensions/deletions may go.")

    # The Google single sign-on profile: the sso app registers how (provisioning.sso_profiles).
    def do_google(self, opts):
        if opts["google_action"] == "sso-settings":
            return self.do_google_sso_settings(opts)
        raise CommandError("unknown google action")  # pragma: no cover - argparse refuses

    def do_google_sso_settings(self, o):
        domain = o["domain"]
        if not domain:
            targets = Target.objects.filter(kind=Target.Kind.GOOGLE, enabled=True)
            domains = sorted({(t.config or {}).get("domain", "") for t in targets} - {""})
            if len(domains) != 1:
                raise CommandError(
                    "give --domain (the enabled google targets name "
                    f"{len(domains)} domains: {', '.join(domains) or 'none'})"
                )
            domain = domains[0]
        base = o["base_url"] or settings.OAUTH2_PROVIDER.get("OIDC_ISS_ENDPOINT", "")
        if not base:
            raise CommandError("give --base-url (Akun's public URL) or set AKUN_SSO_ISSUER")
        profile = sso_profile("google")
        if profile is None:
            raise CommandError("single sign-on (akun.sso) is not installed")
        try:
            values, text = profile(
                base,
                domain,
                domain_specific=not o["no_domain_specific_issuer"],
                actor=o["actor"] or _default_actor(),
                google=o["google_url"],
            )
        except ValueError as e:
            raise CommandError(str(e)) from e
        if o["json"]:
            self.stdout.write(json.dumps(values, ensure_ascii=False))
        else:
            self.stdout.write(text, ending="")
