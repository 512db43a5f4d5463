"""Misuse: suspension for a breach of the terms, the appeal, the admin's decision.

The categories are the prohibitions of the terms of use (akun.identity.terms, version
2025.1), one code each. Every step goes through accounts' do_* state changes and adds its
own audit row with the category, evidence and decision.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from akun.accounts.api import (
    Account,
    do_deactivate_account,
    do_suspend_account,
    do_unsuspend_account,
)
from akun.audit import api as audit
from akun.audit.api import Action
from akun.core import clock
from akun.lifecycle.models import MisuseCase

# code -> what the person is shown (the terms' own wording, as a breach).
CATEGORIES = {
    "not_learning": _("Using the account for something other than learning and teaching"),
    "commercial": _("Commercial use"),
    "crypto_mining": _("Cryptocurrency mining"),
    "pornography": _("Pornography"),
    "sensitive_data": _("Misuse of sensitive or personal data"),
    "illegal": _("Activity against the law"),
    "hate_sara": _("Hate speech or content attacking ethnicity, religion, race or group (SARA)"),
    "copyright": _("Copyright infringement"),
}


class MisuseError(ValueError):
    pass


def _record(action, account, *, actor, reason, before, after):
    sekolah = account.sekolah
    audit.record(
        action,
        actor=actor,
        object_type="account",
        object_id=account.user_id,
        reason=reason,
        before=before,
        after=after,
        npsn=sekolah.npsn if sekolah else "",
        kode_wilayah=sekolah.kode_wilayah if sekolah else "",
    )


def do_suspend_for_misuse(
    account: Account, *, category: str, evidence: str, actor: str
) -> MisuseCase:
    if category not in CATEGORIES:
        raise MisuseError(f"unknown category {category!r}; one of: {', '.join(CATEGORIES)}")
    if not evidence.strip():
        raise MisuseError("evidence is required")
    with transaction.atomic():
        do_suspend_account(account, actor=actor, reason=f"misuse: {category}")
        case = MisuseCase.objects.create(
            account_id=account.pk,
            category=category,
            evidence=evidence.strip(),
            suspended_by=actor,
            suspended_at=clock.now(),
        )
        _record(
            Action.LIFECYCLE_MISUSE_SUSPEND,
            account,
            actor=actor,
            reason=f"{category}: {case.evidence}",
            before=None,
            after={"case": case.pk, "category": category, "status": case.status},
        )
    return case


def open_case(account: Account) -> MisuseCase | None:
    return (
        MisuseCase.objects.filter(account_id=account.pk, status__in=["suspended", "appealed"])
        .order_by("-suspended_at")
        .first()
    )


def do_submit_appeal(account: Account, *, text: str, actor: str) -> MisuseCase:
    """The person (signed in with their password, at the refusal page) or the helpdesk on
    their behalf. One appeal per case."""
    if not text.strip():
        raise MisuseError("the appeal needs a text")
    with transaction.atomic():
        case = (
            MisuseCase.objects.select_for_update()
            .filter(account_id=account.pk, status=MisuseCase.Status.SUSPENDED)
            .first()
        )
        if case is None:
            raise MisuseError("no misuse suspension open for appeal on this account")
        case.status = MisuseCase.Status.APPEALED
        case.appeal_text = text.strip()
        case.appealed_at = clock.now()
        case.save()
        _record(
            Action.LIFECYCLE_MISUSE_APPEAL,
            account,
            actor=actor,
            reason=case.appeal_text,
            before={"case": case.pk, "status": "suspended"},
            after={"case": case.pk, "status": "appealed"},
        )
    return case


def do_decide_appeal(account: Account, *, reinstate: bool, note: str, actor: str) -> MisuseCase:
    """reinstate: the suspension is lifted (back to active, or issued if never activated);
    otherwise the account is deactivated, as the terms say."""
    if not note.strip():
        raise MisuseError("the decision needs a note")
    with transaction.atomic():
        case = (
            MisuseCase.objects.select_for_update()
            .filter(account_id=account.pk, status=MisuseCase.Status.APPEALED)
            .first()
        )
        if case is None:
            raise MisuseError("no appeal waiting for a decision on this account")
        if reinstate:
            do_unsuspend_account(account, actor=actor, reason=f"appeal upheld: {note}")
            case.status = MisuseCase.Status.REINSTATED
        else:
            do_deactivate_account(account, actor=actor, reason=f"appeal rejected: {note}")
            case.status = MisuseCase.Status.DEACTIVATED
        case.decided_by, case.decided_at, case.decision_note = actor, clock.now(), note.strip()
        case.save()
        _record(
            Action.LIFECYCLE_MISUSE_DECIDE,
            account,
            actor=actor,
            reason=case.decision_note,
            before={"case": case.pk, "status": "appealed"},
            after={"case": case.pk, "status": case.status},
        )
    return case


@dataclass
class SuspensionNotice:
    """What the sign-in page shows a person whose password was right but whose account is
    suspended: why, and whether (and how) they can appeal."""

    kind: str  # "misuse" or "deletion"
    category: str = ""
    category_label: str = ""
    since: object = None
    can_appeal: bool = False
    appeal_pending: bool = False
    delete_on: object = None
    deletion_reason: str = ""


def signin_notice(account: Account) -> SuspensionNotice | None:
    """For akun.identity: call it when attempt() returns REFUSED for a suspended account.
    Labels are lazy translations (the request's language)."""
    if account.state != Account.State.SUSPENDED:
        return None
    case = open_case(account)
    if case is not None:
        return SuspensionNotice(
            kind="misuse",
            category=case.category,
            category_label=str(CATEGORIES.get(case.category, case.category)),
            since=case.suspended_at,
            can_appeal=case.status == MisuseCase.Status.SUSPENDED,
            appeal_pending=case.status == MisuseCase.Status.APPEALED,
        )
    from akun.lifecycle.deletion import pending_deletion

    schedule = pending_deletion(account)
    if schedule is not None:
        return SuspensionNotice(
            kind="deletion",
            since=schedule.created_at,
            delete_on=schedule.delete_on,
            deletion_reason=schedule.reason,
        )
    return None
