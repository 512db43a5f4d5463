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
from akun.accounts.eligibility import SUBDOMAINS
from akun.accounts.explain import Explanation, explain
from akun.accounts.export import Export, export_accounts_csv, neutralise
from akun.accounts.issue import IssueResult, allocate_local_part, issue_accounts
from akun.accounts.models import Account, AccountEvent, IssueRun
from akun.accounts.reencrypt import do_reencrypt_initial_passwords
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
    "PER_RUN",
    "Account",
    "AuditRows",
    "BulkChange",
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
    "move_many",
    "neutralise",
    "prune_events",
    "record_event",
    "record_events",
    "register_consumer",
    "rows_of",
    "run_consumers",
    "subscribe",
    "transition_many",
    "unregister_consumer",
    "where",
]
