"""Who may reset whose password: one rule for the page, the POST and the CLI.

- a student: any admin whose scope covers the school (its operator or head, a regional admin);
- a teacher: likewise; the teacher is told on their contacts, and their sessions end (the
  reset returns the account to `issued`);
- the head and the operators of a school (role tenaga_kependidikan): only a regional (dinas or
  national) admin whose region covers the school, with a reason that the audit log keeps;
  the person is told, as a teacher is. A school operator could otherwise take over the
  head's or another operator's account, and with it the school;
- anyone else (dinas and national admins, accounts without a school): not here.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from akun.accounts.api import Account
from akun.portal.scope import Scope

REASON_MAX = 500


class ResetRefused(Exception):
    """The admin may not reset this account; the message says who can."""


class BadReason(ResetRefused):
    """The reason for a reset is missing or unusable; the message says what is wrong."""


@dataclass(frozen=True)
class ResetRule:
    allowed: bool
    needs_reason: bool = False  # the head and operators: the regional admin says why
    notify: bool = False  # told on their contacts: teachers, heads and operators
    refusal: str = ""


def regional_over(scope: Scope, sekolah) -> bool:
    """Covers the school through a region (nation, province, regency), not as its operator."""
    return scope.national or any(sekolah.kode_wilayah.startswith(p) for p in scope.prefixes)


def rule_for(scope: Scope, account, sekolah) -> ResetRule:
    """The rule for an admin with `scope` resetting `account` of `sekolah` (its school)."""
    if sekolah is None or not scope.covers_school(sekolah):
        return ResetRule(False, refusal=_("This account is outside your schools and regions."))
    if account.role == Account.Role.PESERTA_DIDIK:
        return ResetRule(True)
    if account.role == Account.Role.PENDIDIK:
        return ResetRule(True, notify=True)
    if account.role == Account.Role.TENAGA_KEPENDIDIKAN:
        if regional_over(scope, sekolah):
            return ResetRule(True, needs_reason=True, notify=True)
        return ResetRule(
            False,
            refusal=_(
                "Only the regional admin (dinas) can reset the password of a head of school "
                "or a school operator."
            ),
        )
    return ResetRule(False, refusal=_("This account's password cannot be reset here."))


def clean_reason(reason: str | None) -> str:
    """The reason as recorded; BadReason naming what is wrong with it."""
    reason = (reason or "").strip()
    if not reason:
        raise BadReason(_("Give the reason for this reset."))
    if "\x00" in reason:
        raise BadReason(_("The reason contains a null character."))
    if len(reason) > REASON_MAX:
        raise BadReason(_("The reason is longer than %(n)d characters.") % {"n": REASON_MAX})
    return reason
