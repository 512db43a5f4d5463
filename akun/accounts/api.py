"""What other apps use of accounts (OEP-49): issuance, state changes (one account, or a set
of them: transition_many), the change stream (subscribe, register_consumer), initial
passwords, the operator's export and the eligibility explanation."""

from akun.accounts import crypto
from akun.accounts.actions import (
    TRANSITIONS,
    TransitionNotAllowed,
    do_activate_account,
    do_deactivate_account,
    do_delete_account,
    do_reactivate_account,
    do_reissue_account,
    do_suspend_account,
    do_unsuspend_account,
)
from akun.accounts.bulk import (
    PER_RUN,
    AuditRows,
    BulkChange,
    Selection,
    move_many,
    rows_of,
    transition_many,
    where,
)
from akun.accounts.crypto import check_initial_password as check_initial_password_token
from akun.accounts.eligibility import (
    PESERTA_DIDIK,
    PTK_FORMS,
    RANK_ROLE,
    SUBDOMAINS,
    TENAGA_KEPENDIDIKAN,
    ptk_role,
    ptk_sql,
    students_sql,
)
from akun.accounts.explain import Explanation, explain, register_explain_detail
from akun.accounts.export import Export, export_accounts_csv, neutralise
from akun.accounts.issue import IssueResult, allocate_local_part, issue_accounts
from akun.accounts.models import Account, AccountEvent, IssueRun, local_part_of
from akun.accounts.password_hooks import (
    password_set,
    register_password_hook,
    unregister_password_hook,
)
from akun.accounts.reencrypt import do_reencrypt_initial_passwords
from akun.accounts.sql import accounts_sql, join_account, table_pages
from akun.accounts.stream import (
    Change,
    Event,
    register_consumer,
    run_consumers,
    subscribe,
    unregister_consumer,
)
from akun.accounts.stream import emit as record_event
from akun.accounts.stream import emit_many as record_events
from akun.accounts.stream import prune as prune_events
from akun.accounts.userid import base_local_part

EventKind = AccountEvent.Kind
# Events after which nothing signed in before may go on: a new password (the holder's, a
# reset by code, an operator's new initial password), sign out everywhere, leaving `active`
# or `issued`, and coming back (a session or token left from before would revive).
# identity ends the sessions, sso the grants: each subscribes to these.
ENDS_SESSIONS = (
    EventKind.PASSWORD_CHANGED,
    EventKind.PASSWORD_RESET,
    EventKind.SIGNED_OUT,
    EventKind.SUSPENDED,
    EventKind.UNSUSPENDED,
    EventKind.DEACTIVATED,
    EventKind.REACTIVATED,
    EventKind.DELETED,
)


def get_initial_password(account: Account) -> str | None:
    """The plain initial password, for the operator's export or letter; None once activated."""
    if account.state != Account.State.ISSUED or account.initial_password_enc is None:
        return None
    return crypto.decrypt(account.initial_password_enc)


def check_initial_password(account: Account, candidate: str) -> bool:
    """Sign-in with the initial password: constant time, only while the account is issued."""
    token = account.initial_password_enc if account.state == Account.State.ISSUED else None
    return crypto.check_initial_password(token, candidate)


__all__ = [
    # SQL fragments for other apps' set-based reads (akun.accounts.sql)
    "accounts_sql",
    "join_account",
    "table_pages",
    "PER_RUN",
    "PESERTA_DIDIK",
    "PTK_FORMS",
    "RANK_ROLE",
    "TENAGA_KEPENDIDIKAN",
    "Account",
    "AuditRows",
    "BulkChange",
    "ENDS_SESSIONS",
    "Change",
    "Event",
    "EventKind",
    "Selection",
    "Explanation",
    "Export",
    "IssueResult",
    "IssueRun",
    "SUBDOMAINS",
    "TRANSITIONS",
    "TransitionNotAllowed",
    "allocate_local_part",
    "base_local_part",
    "check_initial_password",
    "check_initial_password_token",
    "do_activate_account",
    "do_deactivate_account",
    "do_delete_account",
    "do_reactivate_account",
    "do_reencrypt_initial_passwords",
    "do_reissue_account",
    "do_suspend_account",
    "do_unsuspend_account",
    "explain",
    "export_accounts_csv",
    "get_initial_password",
    "issue_accounts",
    "local_part_of",
    "move_many",
    "neutralise",
    "password_set",
    "prune_events",
    "ptk_role",
    "ptk_sql",
    "record_event",
    "record_events",
    "register_consumer",
    "register_explain_detail",
    "register_password_hook",
    "rows_of",
    "run_consumers",
    "students_sql",
    "subscribe",
    "transition_many",
    "unregister_consumer",
    "unregister_password_hook",
    "where",
]
