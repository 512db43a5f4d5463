"""What the agent's report screen shows about the person's account(s): state, activation,
last sign-ins and failures, locks, sync states, OneRoster visibility, the eligibility
explanation and the roster record's history -- personal data masked until the person is
verified. A handful of indexed queries per account, whatever the size of the platform."""

from dataclasses import dataclass, field

from akun.accounts import api as accounts_api
from akun.accounts.api import Account
from akun.audit.api import Action, AuditEvent
from akun.helpdesk.models import Report
from akun.identity import api as identity_api
from akun.oneroster import api as oneroster_api
from akun.provisioning import api as provisioning_api
from akun.roster.api import PesertaDidik, Ptk

SIGN_INS = 5
HISTORY = 15


def mask_name(name: str) -> str:
    return " ".join(w[:1] + "***" for w in (name or "").split()) or "***"


def mask_digits(value: str, keep: int = 2) -> str:
    value = str(value or "")
    if len(value) <= keep * 2:
        return "*" * len(value)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


@dataclass
class AccountView:
    account: Account
    nama: str
    lock: object
    sign_ins: list
    sync: list
    oneroster: object = None  # akun.oneroster.api.Visibility
    explanation: list[str] = field(default_factory=list)
    roster: dict = field(default_factory=dict)
    history: list = field(default_factory=list)


def _roster(account, verified: bool) -> dict:
    if account.person_type == "peserta_didik" and account.person_id:
        r = PesertaDidik.objects.filter(pk=account.person_id).first()
        if r is None:
            return {}
        return {
            "nisn": r.nisn if verified else mask_digits(r.nisn),
            "tanggal_lahir": r.tanggal_lahir.isoformat() if verified else "****-**-**",
            "rombel": r.rombel,
            "tingkat": r.tingkat_pendidikan,
            "first_run": r.first_run_id,
            "changed_run": r.changed_run_id,
            "departed_at": r.departed_at,
        }
    if account.person_type == "ptk" and account.person_id:
        r = Ptk.objects.filter(ptk_id=account.person_id).order_by("-ptk_induk").first()
        if r is None:
            return {}
        return {
            "nuptk": r.nuptk if verified else mask_digits(r.nuptk),
            "tanggal_lahir": r.tanggal_lahir.isoformat() if verified else "****-**-**",
            "jenis_ptk": r.jenis_ptk,
            "first_run": r.first_run_id,
            "changed_run": r.changed_run_id,
            "departed_at": r.departed_at,
        }
    return {}


def _explanation(account, verified: bool) -> list[str]:
    lines = accounts_api.explain(user_id=account.user_id).text("id").splitlines()
    if verified:
        return lines
    # Unverified: the decisions and the school, without the person's name or record ids.
    out = []
    for line in lines:
        if line.startswith("  ["):
            continue
        if not line.startswith("  ") and " — " in line:
            name, _sep, rest = line.partition(" — ")
            line = f"{mask_name(name)} — {rest}"
        out.append(line)
    return out


def account_views(report: Report) -> list[AccountView]:
    if report.account_id is None:
        return []
    first = Account.objects.select_related("sekolah").filter(pk=report.account_id).first()
    if first is None:
        return []
    accounts = [first]
    if first.person_id:
        accounts += list(
            Account.objects.select_related("sekolah")
            .filter(person_type=first.person_type, person_id=first.person_id)
            .exclude(pk=first.pk)
        )
    verified = bool(report.verified)
    out = []
    for a in accounts:
        events = AuditEvent.objects.filter(object_id=a.user_id).order_by("-at", "-id")
        out.append(
            AccountView(
                account=a,
                nama=a.nama if verified else mask_name(a.nama),
                lock=identity_api.signin_lock(a.user_id),
                sign_ins=list(
                    events.filter(action=Action.IDENTITY_SIGN_IN).values_list("at", flat=True)[
                        :SIGN_INS
                    ]
                ),
                sync=provisioning_api.sync_status_of(a.pk),
                oneroster=oneroster_api.visibility(a.pk),
                explanation=_explanation(a, verified),
                roster=_roster(a, verified),
                history=list(
                    events.exclude(action=Action.IDENTITY_SIGN_IN).values(
                        "at", "action", "actor", "reason"
                    )[:HISTORY]
                ),
            )
        )
    return out
