"""What other apps use of the portal (OEP-49): scopes, the second factor's state of a
session, the admin-page guard (for pages other apps add to the portal, e.g. OneRoster's
package download), admin creation, the password reset by the policy and the demo's operator
sign-in."""

from akun.portal.actions import AdminError, do_create_admin, do_reset_password, parse_region
from akun.portal.middleware import passed as second_factor_passed
from akun.portal.reset_policy import ResetRefused, rule_for
from akun.portal.scope import NATIONAL, Scope, is_admin, region_level, request_scope, scope_of
from akun.portal.totp import do_reencrypt_totp_secrets
from akun.portal.views import admin_view


def demo_operator_sign_in() -> str:
    """Lines for `akun demo` to print: a ready-to-use operator sign-in for the demo school.

    The operator of the first school that has one (an issued admin.* account) with its
    initial password, and how the second step (TOTP) works in the demo."""
    from akun.accounts.api import Account, get_initial_password

    account = (
        Account.objects.filter(
            role=Account.Role.TENAGA_KEPENDIDIKAN, state=Account.State.ISSUED, sekolah__isnull=False
        )
        .select_related("sekolah")
        .order_by("sekolah__npsn", "id")
        .first()
    )
    if account is None:
        return "Operator portal: no issued school operator account (run akun accounts issue)."
    school = account.sekolah
    return "\n".join(
        [
            "Operator portal (school operator), at /operator/:",
            f"  school          {school.nama} (NPSN {school.npsn})",
            f"  user ID         {account.user_id}",
            f"  initial password {get_initial_password(account)}",
            "  First sign-in: accept the terms, choose a new password, then set up the second",
            "  step: scan the QR code with an authenticator app (or type the key shown under it),",
            "  or, in the demo, print the current 6-digit code with:",
            f"    akun admins totp {account.user_id}",
        ]
    )


__all__ = [
    "NATIONAL",
    "AdminError",
    "ResetRefused",
    "Scope",
    "admin_view",
    "demo_operator_sign_in",
    "do_create_admin",
    "do_reencrypt_totp_secrets",
    "do_reset_password",
    "is_admin",
    "parse_region",
    "region_level",
    "request_scope",
    "rule_for",
    "scope_of",
    "second_factor_passed",
]
