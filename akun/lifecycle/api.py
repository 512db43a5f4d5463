"""What other apps use of the lifecycle (OEP-49).

- portal (operators): `countdown(sekolah_id=... | kode_wilayah=...)` -- each cohort's
  activation deadline, days left, accounts not yet activated; `deadline_of(account)`;
  `pending_deletion(account)`.
- identity (sign-in): `signin_notice(account)` when a right password meets a suspended
  account: why (misuse category, or the deletion path), and whether the person may appeal;
  `do_submit_appeal(account, text=..., actor=account.user_id)` for the appeal form.
- admins (CLI now, portal later): deadlines, reactivation with a new initial password,
  misuse suspension / appeal decision, hold confirmation, cancelling a deletion.
"""

from akun.lifecycle.actions import do_reactivate_with_new_password
from akun.lifecycle.deadlines import countdown, deadline_of, do_set_deadline, history
from akun.lifecycle.deadlines import sweep as deadline_sweep
from akun.lifecycle.deletion import (
    do_cancel_deletion,
    inactivity_sweep,
    pending_deletion,
    run_deletions,
    send_notices,
)
from akun.lifecycle.misuse import (
    CATEGORIES,
    MisuseError,
    SuspensionNotice,
    do_decide_appeal,
    do_submit_appeal,
    do_suspend_for_misuse,
    open_case,
    signin_notice,
)
from akun.lifecycle.models import (
    ActivationDeadline,
    DeletionSchedule,
    Hold,
    MisuseCase,
    Notice,
)
from akun.lifecycle.roster_pass import roster_pass
from akun.lifecycle.safety import do_confirm_hold

__all__ = [
    "CATEGORIES",
    "ActivationDeadline",
    "DeletionSchedule",
    "Hold",
    "MisuseCase",
    "MisuseError",
    "Notice",
    "SuspensionNotice",
    "countdown",
    "deadline_of",
    "deadline_sweep",
    "do_cancel_deletion",
    "do_confirm_hold",
    "do_decide_appeal",
    "do_reactivate_with_new_password",
    "do_set_deadline",
    "do_submit_appeal",
    "history",
    "do_suspend_for_misuse",
    "inactivity_sweep",
    "open_case",
    "pending_deletion",
    "roster_pass",
    "run_deletions",
    "send_notices",
    "signin_notice",
]
