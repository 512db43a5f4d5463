"""Why an account is not (yet) synced, in words an operator or a helpdesk agent reads.
The codes are stored in Provisioned.reason; the target's own message goes in `detail`."""

from django.utils.translation import gettext_lazy as _

REASONS = {
    "quota": _("menunggu kuota"),
    "queued": _("menunggu giliran"),
    "name_rejected": _("nama ditolak Google"),
    "conflict": _("alamat sudah dipakai akun lain yang tidak dikelola Akun"),
    "target_error": _("layanan tujuan sedang bermasalah; dicoba lagi otomatis"),
    "held": _("ditahan: menunggu persetujuan admin"),
    "invalid": _("data ditolak layanan tujuan"),
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
