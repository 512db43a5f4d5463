from django import forms
from django.utils.translation import gettext_lazy as _

from akun.accounts.api import Account
from akun.portal.reset_policy import REASON_MAX

ROLE_FILTER = [
    ("", _("All roles")),
    (Account.Role.PESERTA_DIDIK, _("Students")),
    (Account.Role.PENDIDIK, _("Teachers")),
    (Account.Role.TENAGA_KEPENDIDIKAN, _("Heads and operators")),
]
STATE_FILTER = [
    ("", _("All states")),
    (Account.State.ISSUED, _("issued")),
    (Account.State.ACTIVE, _("active")),
    (Account.State.SUSPENDED, _("suspended")),
    (Account.State.DEACTIVATED, _("deactivated")),
]
DOWNLOAD_ROLE = [("peserta_didik", _("Students")), ("ptk", _("Teachers and staff (PTK)"))]


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class RecoveryForm(forms.Form):
    recovery_code = forms.CharField(
        label=_("Recovery code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class AccountFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search name, NISN, NUPTK or user ID"), required=False, max_length=100
    )
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_FILTER, required=False)
    rombel = forms.ChoiceField(label=_("Class"), required=False)
    state = forms.ChoiceField(label=_("State"), choices=STATE_FILTER, required=False)

    def __init__(self, *args, rombels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rombel"].choices = [("", _("All classes"))] + [(r, r) for r in rombels]


class DownloadForm(forms.Form):
    role = forms.ChoiceField(label=_("Who"), choices=DOWNLOAD_ROLE, initial="peserta_didik")
    rombel = forms.ChoiceField(label=_("Class"), required=False)

    def __init__(self, *args, rombels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rombel"].choices = [("", _("Whole school"))] + [(r, r) for r in rombels]


class ResetForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Yes, give this person a new initial password"), required=True
    )
    reason = forms.CharField(
        label=_("Reason (kept in the audit log)"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason for this reset.")},
    )

    def __init__(self, *args, needs_reason=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not needs_reason:  # only the head's and operators' resets ask why
            del self.fields["reason"]


class WhyForm(forms.Form):
    q = forms.CharField(label=_("Name, NISN, NUPTK or NIK"), max_length=100)
