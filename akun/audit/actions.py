"""Every audit action, one enum: record() and record_many() refuse anything else. The
values are the strings the audit table has always held (nothing in the database changes);
a new action is a new member here."""

from django.db import models


class Action(models.TextChoices):
    # accounts: the state changes (accounts.<verb>, single and bulk) and issuance
    ACCOUNTS_ACTIVATE = "accounts.activate"
    ACCOUNTS_SUSPEND = "accounts.suspend"
    ACCOUNTS_UNSUSPEND = "accounts.unsuspend"
    ACCOUNTS_DEACTIVATE = "accounts.deactivate"
    ACCOUNTS_REACTIVATE = "accounts.reactivate"
    ACCOUNTS_DELETE = "accounts.delete"
    ACCOUNTS_REISSUE = "accounts.reissue"
    ACCOUNTS_MOVE = "accounts.move"
    ACCOUNTS_ISSUE = "accounts.issue"
    ACCOUNTS_EXPORT = "accounts.export"
    ACCOUNTS_REENCRYPT_INITIAL_PASSWORDS = "accounts.reencrypt_initial_passwords"
    # identity
    IDENTITY_ACCEPT_TERMS = "identity.accept_terms"
    IDENTITY_ACTIVATE_ACCOUNT = "identity.activate_account"
    IDENTITY_CHANGE_PASSWORD = "identity.change_password"
    IDENTITY_REQUEST_ACCOUNT = "identity.request_account"
    IDENTITY_SIGN_IN = "identity.sign_in"
    IDENTITY_SIGN_OUT_EVERYWHERE = "identity.sign_out_everywhere"
    IDENTITY_SET_RECOVERY_EMAIL = "identity.set_recovery_email"
    IDENTITY_SET_RECOVERY_PHONE = "identity.set_recovery_phone"
    # lifecycle
    LIFECYCLE_CANCEL_DELETION = "lifecycle.cancel_deletion"
    LIFECYCLE_CONFIRM = "lifecycle.confirm"
    LIFECYCLE_DEADLINE_SET = "lifecycle.deadline_set"
    LIFECYCLE_DELETE = "lifecycle.delete"
    LIFECYCLE_HOLD = "lifecycle.hold"
    LIFECYCLE_INACTIVITY_CANCEL = "lifecycle.inactivity_cancel"
    LIFECYCLE_INACTIVITY_SCHEDULE_DELETION = "lifecycle.inactivity_schedule_deletion"
    LIFECYCLE_MISUSE_APPEAL = "lifecycle.misuse_appeal"
    LIFECYCLE_MISUSE_DECIDE = "lifecycle.misuse_decide"
    LIFECYCLE_MISUSE_SUSPEND = "lifecycle.misuse_suspend"
    LIFECYCLE_ROSTER_BACK = "lifecycle.roster_back"
    LIFECYCLE_ROSTER_FOLLOW = "lifecycle.roster_follow"
    LIFECYCLE_ROSTER_SCHEDULE_DELETION = "lifecycle.roster_schedule_deletion"
    # lifecycle.run.<rule>: one row per run of a rule
    LIFECYCLE_RUN_DEADLINE = "lifecycle.run.deadline"
    LIFECYCLE_RUN_ROSTER = "lifecycle.run.roster"
    LIFECYCLE_RUN_INACTIVITY = "lifecycle.run.inactivity"
    LIFECYCLE_RUN_NOTICES = "lifecycle.run.notices"
    LIFECYCLE_RUN_DELETIONS = "lifecycle.run.deletions"
    # portal
    PORTAL_ADMIN_CREATED = "portal.admin_created"
    PORTAL_DOWNLOAD_CSV = "portal.download_csv"
    PORTAL_DOWNLOAD_REGION_CSV = "portal.download_region_csv"
    PORTAL_DOWNLOAD_SLIPS = "portal.download_slips"
    PORTAL_RECOVERY_CODE_USED = "portal.recovery_code_used"
    PORTAL_RECOVERY_CODES_REGENERATED = "portal.recovery_codes_regenerated"
    PORTAL_REENCRYPT_TOTP_SECRETS = "portal.reencrypt_totp_secrets"
    PORTAL_SECOND_FACTOR_FAILED = "portal.second_factor_failed"
    PORTAL_SECOND_FACTOR_LOCKED = "portal.second_factor_locked"
    PORTAL_SIGN_IN = "portal.sign_in"
    PORTAL_TOTP_ENROLLED = "portal.totp_enrolled"
    PORTAL_TOTP_RESET = "portal.totp_reset"
    # provisioning (outside directories: Google Workspace, SCIM)
    PROVISIONING_ADD_TARGET = "provisioning.add_target"
    PROVISIONING_HOLD = "provisioning.hold"
    PROVISIONING_RECONCILE_FIX = "provisioning.reconcile_fix"
    PROVISIONING_RELEASE = "provisioning.release"
    PROVISIONING_RETRY = "provisioning.retry"
    PROVISIONING_SYNC = "provisioning.sync"
    # roster
    ROSTER_IMPORT = "roster.import"
    # sso
    SSO_ADD_SERVICE = "sso.add_service"
    SSO_DENY_CONSENT = "sso.deny_consent"
    SSO_REVOKE_REPLAYED_CODE = "sso.revoke_replayed_code"
    SSO_SAML_METADATA_EXPIRED = "sso.saml_metadata_expired"
    SSO_GRANT_CONSENT = "sso.grant_consent"
    SSO_REENCRYPT_KEYS = "sso.reencrypt_keys"
    SSO_REVOKE_SERVICE = "sso.revoke_service"
    SSO_ROTATE_KEY = "sso.rotate_key"
    SSO_SIGN_IN = "sso.sign_in"
    SSO_UPDATE_SERVICE = "sso.update_service"


def checked(action) -> "Action":
    """The Action for `action` (a member or its value); ValueError for anything else."""
    try:
        return Action(action)
    except ValueError:
        raise ValueError(
            f"unknown audit action {action!r}: add it to akun.audit.actions.Action"
        ) from None
