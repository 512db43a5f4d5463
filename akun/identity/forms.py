import re

from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts
from django.utils.translation import gettext_lazy as _

from akun.identity.masking import normalize_phone

DATE_FORMATS = ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y"]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def birth_date_field():
    return forms.DateField(label=_("Birth date"), input_formats=DATE_FORMATS, widget=DateInput())


class SignInForm(forms.Form):
    user_id = forms.CharField(
        label=_("User ID"),
        max_length=200,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class AppealForm(forms.Form):
    text = forms.CharField(
        label=_("Your appeal: why the suspension is a mistake"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Write why you appeal.")},
    )


class TermsForm(forms.Form):
    accept = forms.BooleanField(
        label=_("I have read the terms of use and I accept them."),
        error_messages={"required": _("Tick the box to accept the terms of use.")},
    )


class NewPasswordForm(forms.Form):
    new_password = forms.CharField(
        label=_("New password"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["new_password"].help_text = " ".join(
            str(t) for t in password_validators_help_texts()
        )

    def clean(self):
        data = super().clean()
        a, b = data.get("new_password"), data.get("new_password2")
        if a and b and a != b:
            self.add_error("new_password2", _("The two passwords differ. Type the same twice."))
        return data


class ChangePasswordForm(NewPasswordForm):
    current_password = forms.CharField(
        label=_("Current password"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["current_password", "new_password", "new_password2"]


ROLE_CHOICES = [("peserta_didik", _("Student")), ("ptk", _("Teacher or education staff (PTK)"))]


class CekAkunForm(forms.Form):
    role = forms.ChoiceField(label=_("I am a"), choices=ROLE_CHOICES, widget=forms.RadioSelect)
    npsn = forms.RegexField(
        label=_("School NPSN"),
        regex=r"^\s*\d{8}\s*$",
        error_messages={"invalid": _("The NPSN has 8 digits.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    nama = forms.CharField(label=_("Full name as in Dapodik"), max_length=150)
    tanggal_lahir = birth_date_field()

    def clean_npsn(self):
        return self.cleaned_data["npsn"].strip()


class NpsnSearchForm(forms.Form):
    q = forms.CharField(label=_("School name"), min_length=3, max_length=100)
    wilayah = forms.CharField(
        label=_("Regency, city or province (optional)"), max_length=100, required=False
    )


class AccountRequestForm(forms.Form):
    role = forms.ChoiceField(label=_("I am a"), choices=ROLE_CHOICES, widget=forms.RadioSelect)
    npsn = forms.RegexField(
        label=_("School NPSN"),
        regex=r"^\s*\d{8}\s*$",
        error_messages={"invalid": _("The NPSN has 8 digits.")},
    )
    nama = forms.CharField(label=_("Full name"), max_length=150)
    tanggal_lahir = birth_date_field()
    contact = forms.CharField(
        label=_("E-mail or mobile number to reach you"),
        max_length=254,
        help_text=_("The helpdesk answers you here."),
    )
    message = forms.CharField(
        label=_("Anything else we should know (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ResetStartForm(forms.Form):
    user_id = forms.CharField(
        label=_("User ID"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    tanggal_lahir = birth_date_field()


class ChooseContactForm(forms.Form):
    contact = forms.ChoiceField(label=_("Send the code to"), widget=forms.RadioSelect)

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = choices


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Code"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("The code has 6 digits.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "6"}
        ),
    )


class EmailContactForm(forms.Form):
    value = forms.EmailField(label=_("Recovery e-mail"), max_length=254)


class PhoneContactForm(forms.Form):
    value = forms.CharField(
        label=_("Recovery mobile number"),
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )

    def clean_value(self):
        digits = normalize_phone(self.cleaned_data["value"])
        if not re.fullmatch(r"08\d{7,12}", digits):
            raise forms.ValidationError(
                _("Enter an Indonesian mobile number, such as 081234567890.")
            )
        return digits
