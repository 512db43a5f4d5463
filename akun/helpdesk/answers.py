"""Answers from the account's own state, before anything is filed.

Who may learn what: a signed-in person, everything about their own account; a person whose
name, birth date and school match the roster (Cek Akun's proof, spending Cek Akun's budgets),
what Cek Akun shows and the state of that account; anyone, the sign-in lock of a user ID as
typed (unknown IDs lock exactly as real ones, so it tells nothing of whether one exists).
Nobody else learns whether an account exists."""

from dataclasses import dataclass, field

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from akun.accounts import api as accounts_api
from akun.helpdesk.models import Category, Who
from akun.identity import api as identity_api
from akun.lifecycle import api as lifecycle_api
from akun.provisioning import api as provisioning_api

ROLE_OF = {Who.STUDENT: "peserta_didik", Who.TEACHER: "ptk", Who.OPERATOR: "ptk"}

# Where requests that belong to another service go (canned answers, Indonesian first).
OTHER_SERVICES = {
    "pip": (
        "Program Indonesia Pintar (PIP)",
        "https://pip.kemdikbud.go.id",
    ),
    "kip_kuliah": ("KIP Kuliah", "https://kip-kuliah.kemdikbud.go.id"),
    "dapodik": ("Dapodik", "https://dapo.kemdikbud.go.id"),
    "other": ("", ""),
}


@dataclass
class Answer:
    lines: list[str] = field(default_factory=list)  # shown to the person, in order
    outcome: str = ""  # a code for the statistics: what was answered
    account: object = None  # the proved account (never shown unless proved)
    verified: str = ""  # how: signed_in, roster
    npsn: str = ""
    kode_wilayah: str = ""
    refused_wait: int = 0  # seconds: the lookup budget is spent


def lock_line(user_id: str) -> str:
    lock = identity_api.signin_lock(user_id)
    if lock.locked:
        minutes = max(1, (lock.wait + 59) // 60)
        return ngettext(
            "Sign-in with %(user_id)s is locked for %(n)d more minute after too many wrong "
            "passwords. Wait, or reset your password.",
            "Sign-in with %(user_id)s is locked for %(n)d more minutes after too many wrong "
            "passwords. Wait, or reset your password.",
            minutes,
        ) % {"user_id": user_id, "n": minutes}
    if lock.wait:
        return ngettext(
            "Sign-in with %(user_id)s must wait %(n)d second after wrong passwords.",
            "Sign-in with %(user_id)s must wait %(n)d seconds after wrong passwords.",
            lock.wait,
        ) % {"user_id": user_id, "n": lock.wait}
    return _("Sign-in with %(user_id)s is not locked.") % {"user_id": user_id}


def _date(value) -> str:
    return formats.date_format(value, "j F Y") if value else ""


def state_line(account) -> str:
    p = {"user_id": account.user_id}
    if account.state == "issued":
        line = (
            _(
                "Your account %(user_id)s has been issued but is not activated yet. Sign in with "
                "the initial password on the slip from your school operator, then choose your own "
                "password."
            )
            % p
        )
        deadline = lifecycle_api.deadline_of(account)
        if deadline is not None:
            line += " " + _("Activate it before %(date)s.") % {"date": _date(deadline.deadline)}
        return line
    if account.state == "active":
        return _("Your account %(user_id)s is active: you can sign in.") % p
    if account.state == "suspended":
        return (
            _(
                "Your account %(user_id)s is suspended. Sign in with your password to see why and "
                "whether you may appeal, or ask your school operator."
            )
            % p
        )
    if account.state == "deactivated":
        return (
            _(
                "Your account %(user_id)s was deactivated because it was not activated before the "
                "activation deadline. Your school operator or the regional office (dinas) can "
                "reactivate it: you then get a new initial password and activate it as the first "
                "time."
            )
            % p
        )
    return _("Your account %(user_id)s can no longer be used.") % p


def sync_lines(account) -> list[str]:
    rows = provisioning_api.sync_status_of(account.pk)
    if not rows:
        if account.state == "issued":
            return [
                _(
                    "Your account is not in Google Workspace yet: activate it first; it is "
                    "created there shortly after."
                )
            ]
        return [_("Your account is not scheduled for Google Workspace.")]
    out = []
    for s in rows:
        name = "Google Workspace" if s.kind == "google" else s.target
        if s.state == "synced":
            out.append(_("%(target)s: in step with Akun.") % {"target": name})
        elif s.state == "suspended":
            out.append(_("%(target)s: suspended, as the account is in Akun.") % {"target": name})
        elif s.state == "pending":
            out.append(
                _("%(target)s: waiting to be sent (%(reason)s).")
                % {"target": name, "reason": s.text or _("queued")}
            )
        else:
            out.append(
                _("%(target)s: not synced: %(reason)s.") % {"target": name, "reason": s.text}
            )
    return out


def lms_lines(account) -> list[str]:
    if account.state != "active":
        return [_("Activate your account first: a learning platform accepts active accounts only.")]
    return [
        _(
            "Sign in to the learning platform with the button for your learning account. If "
            "your classes are missing there, the class (rombel) in Dapodik decides them: your "
            "school operator can check it."
        )
    ]


def other_service(service: str) -> Answer:
    name, url = OTHER_SERVICES.get(service, OTHER_SERVICES["other"])
    if name:
        text = _(
            "%(name)s is not handled by the learning account helpdesk. Please contact "
            "%(name)s at %(url)s."
        ) % {"name": name, "url": url}
    else:
        text = _(
            "This request belongs to another service. The learning account helpdesk can only "
            "help with learning accounts; please contact that service directly."
        )
    return Answer([text], outcome="other_service")


def answer(*, who, category, details: dict, signed_in=None, address: str = "") -> Answer:
    """What Akun can tell the person now. `details`: npsn, nama, tanggal_lahir, user_id."""
    if category == Category.OTHER_SERVICE:
        return other_service(details.get("service", "other"))
    out = Answer()
    accounts = []
    if signed_in is not None:
        accounts = [signed_in]
        out.verified = "signed_in"
    elif (
        who in ROLE_OF
        and details.get("npsn")
        and details.get("nama")
        and details.get("tanggal_lahir")
    ):
        wait = identity_api.cek_akun_budget(details["npsn"], address)
        if wait:
            minutes = max(1, (wait + 59) // 60)
            out.lines.append(
                ngettext(
                    "Too many look-ups right now. Try again in %(n)d minute, or file a report.",
                    "Too many look-ups right now. Try again in %(n)d minutes, or file a report.",
                    minutes,
                )
                % {"n": minutes}
            )
            out.outcome, out.refused_wait = "throttled", wait
            return out
        result = identity_api.cek_akun(
            ROLE_OF[who], details["npsn"], details["nama"], details["tanggal_lahir"]
        )
        if result.sekolah is not None:
            out.npsn, out.kode_wilayah = result.sekolah.npsn, result.sekolah.kode_wilayah
        if result.accounts:
            accounts = result.accounts
            out.verified = "roster"
        else:
            out.lines.append(result.explanation)
            out.outcome = "no_account" if result.person_found else "not_in_roster"
    for account in accounts:
        out.account = out.account or account
        if account.sekolah_id and not out.npsn:
            school = account.sekolah
            out.npsn, out.kode_wilayah = school.npsn, school.kode_wilayah
        out.lines.append(state_line(account))
        if category == Category.GOOGLE:
            out.lines += sync_lines(account)
        elif category == Category.LMS:
            out.lines += lms_lines(account)
        if account.state in ("issued", "active"):
            out.lines.append(lock_line(account.user_id))
        out.outcome = out.outcome or f"state_{account.state}"
    typed = (details.get("user_id") or "").strip().lower()
    if typed and not any(a.user_id == typed for a in accounts):
        out.lines.append(lock_line(typed))
        out.outcome = out.outcome or "lock"
    return out


def explanation_text(account) -> str:
    """The eligibility explanation (accounts.api.explain), for agents."""
    return accounts_api.explain(user_id=account.user_id).text("id")
