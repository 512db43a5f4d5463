import re

from django import forms
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from akun.helpdesk.models import Category, Report, Who

DATE_FORMATS = ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y"]

WHO_CHOICES = [
    (Who.STUDENT, _("Student")),
    (Who.TEACHER, _("Teacher")),
    (Who.OPERATOR, _("School operator or head of school")),
    (Who.OTHER, _("Someone else (a parent, the public)")),
]
CATEGORY_CHOICES = [
    (Category.ACCOUNT, _("My account: it was not issued, or I cannot activate or sign in")),
    (Category.GOOGLE, _("My account won't sync with Google")),
    (Category.LMS, _("I can't link my account to a learning platform (LMS)")),
    (Category.OTHER_SERVICE, _("Another service (a scholarship such as PIP or KIP, Dapodik…)")),
    (Category.OTHER, _("Something else")),
]
SERVICE_CHOICES = [
    ("pip", "Program Indonesia Pintar (PIP)"),
    ("kip_kuliah", "KIP Kuliah"),
    ("dapodik", "Dapodik"),
    ("other", _("Another service")),
]
STATE_LABELS = {
    Report.State.NEW: _("new"),
    Report.State.WAITING_PERSON: _("waiting for the person"),
    Report.State.WAITING_SCHOOL: _("waiting for the school"),
    Report.State.RESOLVED: _("resolved"),
    Report.State.CLOSED: _("closed"),
}
CATEGORY_LABELS = {
    Category.ACCOUNT: _("account"),
    Category.GOOGLE: _("Google sync"),
    Category.LMS: _("LMS link"),
    Category.OTHER_SERVICE: _("another service"),
    Category.OTHER: _("other"),
}
# Canned replies, Indonesian (the agents' language and the people's).
CANNED = {
    "activate": (
        _("How to activate"),
        "Akun Anda sudah terbit. Untuk mengaktifkannya, masuk dengan kata sandi awal dari slip "
        "yang diberikan operator sekolah, setujui ketentuan, lalu buat kata sandi Anda sendiri. "
        "Jika slip hilang, minta operator sekolah mencetaknya kembali.",
    ),
    "wait_sync": (
        _("Google sync in progress"),
        "Akun Anda sedang dikirim ke Google Workspace. Biasanya selesai dalam beberapa menit "
        "setelah aktivasi. Silakan coba masuk ke Google lagi nanti.",
    ),
    "dapodik": (
        _("Data must be corrected in Dapodik"),
        "Data Anda di Dapodik perlu diperbaiki oleh operator sekolah. Kami sudah meneruskan "
        "permintaan perbaikan ke sekolah Anda. Akun akan menyesuaikan setelah data Dapodik "
        "diperbarui.",
    ),
    "lms": (
        _("Signing in to the LMS"),
        "Masuk ke platform pembelajaran dengan tombol akun belajar Anda. Jika kelas tidak "
        "muncul, operator sekolah perlu memeriksa rombel Anda di Dapodik.",
    ),
    "resolved": (
        _("Resolved"),
        "Masalah Anda sudah kami selesaikan. Silakan coba lagi. Balas surel ini jika masih ada "
        "kendala.",
    ),
}


def _text(label, max_length, required=True, rows=None, **kw):
    widget = forms.Textarea(attrs={"rows": rows}) if rows else None
    return forms.CharField(label=label, max_length=max_length, required=required,
                           widget=widget, **kw)  # fmt: skip


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class StartForm(forms.Form):
    who = forms.ChoiceField(label=_("Who are you?"), choices=WHO_CHOICES,
                            widget=forms.RadioSelect)  # fmt: skip
    category = forms.ChoiceField(label=_("What is wrong?"), choices=CATEGORY_CHOICES,
                                 widget=forms.RadioSelect)  # fmt: skip


class DetailsForm(forms.Form):
    """What the category needs to find the account (Cek Akun's proof: school, name, birth
    date), or which other service it is."""

    npsn = forms.CharField(label=_("NPSN of your school"), max_length=8, required=False,
                           help_text=_("8 digits; your school operator knows it."))  # fmt: skip
    nama = _text(_("Your full name as in Dapodik"), 200, required=False)
    tanggal_lahir = forms.DateField(label=_("Birth date"), input_formats=DATE_FORMATS,
                                    widget=DateInput(), required=False)  # fmt: skip
    user_id = forms.CharField(
        label=_("User ID (if you know it)"), max_length=200, required=False,
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
    )  # fmt: skip
    service = forms.ChoiceField(label=_("Which service?"), choices=SERVICE_CHOICES,
                                required=False)  # fmt: skip

    def __init__(self, *args, who="", category="", signed_in=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.who, self.category = who, category
        if category == Category.OTHER_SERVICE:
            keep = {"service"}
        elif signed_in:
            keep = set()
        elif who == Who.OTHER:
            keep = {"user_id"}
        else:
            keep = {"npsn", "nama", "tanggal_lahir", "user_id"}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if category == Category.OTHER_SERVICE:
            self.fields["service"].required = True
        elif not signed_in and who != Who.OTHER and category != Category.OTHER:
            for name in ("npsn", "nama", "tanggal_lahir"):
                self.fields[name].required = True

    def clean_npsn(self):
        value = self.cleaned_data.get("npsn", "").strip()
        if value and not re.fullmatch(r"[0-9A-Za-z]{8}", value):
            raise forms.ValidationError(_("An NPSN is 8 characters."))
        return value.upper()


class FileForm(forms.Form):
    nama = _text(_("Your name"), 200)
    contact_email = forms.CharField(label=_("E-mail"), max_length=254, required=False,
                                    widget=forms.EmailInput())  # fmt: skip
    contact_phone = forms.CharField(
        label=_("Mobile number (if you have no e-mail)"), max_length=20, required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )  # fmt: skip
    description = _text(_("What happened? What have you tried?"), 4000, rows=5)

    def clean_contact_email(self):
        value = self.cleaned_data.get("contact_email", "").strip().lower()
        if value:
            validate_email(value)
        return value

    def clean_contact_phone(self):
        value = self.cleaned_data.get("contact_phone", "").strip()
        digits = re.sub(r"[\s\-+()]", "", value)
        if value and not (digits.isdigit() and 9 <= len(digits) <= 15):
            raise forms.ValidationError(_("Give a mobile number of 9 to 15 digits."))
        return value

    def clean(self):
        data = super().clean()
        if not data.get("contact_email") and not data.get("contact_phone") and not self.errors:
            raise forms.ValidationError(_("Give an e-mail address or a mobile number."))
        return data


class LookupForm(forms.Form):
    number = forms.CharField(
        label=_("Report number"),
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "#XXXX-XXXX"}),
    )
    contact = forms.CharField(label=_("The e-mail or mobile number you gave"), max_length=254)


class MessageForm(forms.Form):
    body = _text(_("Message"), 4000, rows=4)


class ReplyForm(forms.Form):
    canned = forms.ChoiceField(
        label=_("Canned reply"), required=False,
        choices=[("", "—")] + [(k, v[0]) for k, v in CANNED.items()],
    )  # fmt: skip
    body = _text(_("Reply to the person"), 4000, required=False, rows=5)
    state = forms.ChoiceField(
        label=_("Then the report is"), initial=Report.State.WAITING_PERSON,
        choices=[(s, STATE_LABELS[s]) for s in Report.State.values],
    )  # fmt: skip

    def clean(self):
        data = super().clean()
        if not data.get("body") and data.get("canned"):
            data["body"] = CANNED[data["canned"]][1]
        if not data.get("body"):
            raise forms.ValidationError(_("Write a reply or choose a canned one."))
        return data


class NoteForm(forms.Form):
    body = _text(_("Internal note (agents only)"), 4000, rows=3)


class StateForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"), choices=[(s, STATE_LABELS[s]) for s in Report.State.values]
    )


class AssignForm(forms.Form):
    user_id = forms.CharField(label=_("Assign to (user ID; empty: nobody)"), max_length=200,
                              required=False)  # fmt: skip


class ReasonForm(forms.Form):
    reason = _text(_("Reason"), 500)


class VerifyForm(forms.Form):
    how = _text(_("How did you verify the person?"), 300)


class LinkForm(forms.Form):
    user_id = forms.CharField(label=_("User ID of the person's account"), max_length=200)


class CorrectionForm(forms.Form):
    field = _text(_("Field in Dapodik"), 60)
    proposed = _text(_("What it should be"), 200)
    note = _text(_("Note for the school"), 1000, required=False, rows=2)


class OperatorFileForm(forms.Form):
    nisn = forms.CharField(label=_("Student's NISN"), max_length=10)
    category = forms.ChoiceField(label=_("What is wrong?"),
                                 choices=CATEGORY_CHOICES[:3] + CATEGORY_CHOICES[4:])  # fmt: skip
    phone = forms.CharField(
        label=_("Student's (or parent's) mobile number, for the SMS"), max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )  # fmt: skip
    description = _text(_("What happened?"), 4000, rows=4)

    def clean_phone(self):
        value = self.cleaned_data.get("phone", "").strip()
        digits = re.sub(r"[\s\-+()]", "", value)
        if not (digits.isdigit() and 9 <= len(digits) <= 15):
            raise forms.ValidationError(_("Give a mobile number of 9 to 15 digits."))
        return value
