"""Why an account is not (yet) synced, in words an operator or a helpdesk agent reads
(Indonesian from akun/provisioning/locale; English is the source language, as everywhere).
The codes are stored in Provisioned.reason; the target's own message goes in `detail`."""

from django.utils.translation import gettext_lazy as _

REASONS = {
    "quota": _("waiting for quota"),  # id: menunggu kuota
    "queued": _("waiting for its turn"),
    "name_rejected": _("name refused by Google"),  # id: nama ditolak Google
    "conflict": _("the address is taken by an account Akun does not manage"),
    "target_error": _("the target service has a problem; retried automatically"),
    "held": _("held: waiting for an admin's approval"),
    "invalid": _("data refused by the target service"),
    # SCIM targets (akun/provisioning/scim.py); English source, Indonesian in the catalog.
    "scim_auth": _("the target refused Akun's SCIM token: check the target's token"),
    "scim_unreachable": _("the target service cannot be reached; retried automatically"),
    "scim_changed": _("changed at the target during the sync; retried automatically"),
    "scim_unsupported": _("the target service does not support this request"),
    "scim_bad_response": _("the target answered outside the SCIM standard; retried automatically"),
}


def describe(reason: str, detail: str = "") -> str:
    text = str(REASONS.get(reason, reason))
    return f"{text}: {detail}" if detail else text
