"""Password rules after NIST SP 800-63B: length, not guessable from who you are, not common.

No composition rules (any characters, passphrases welcome). Each message says what to change.
"""

import re
import unicodedata
from functools import cache
from pathlib import Path

from django.contrib.auth.password_validation import CommonPasswordValidator as DjangoCommon
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from akun.accounts.api import check_initial_password_token

DATA = Path(__file__).resolve().parent / "data"
# Indonesian favourites are also rejected with these common endings.
SUFFIXES = ("", "1", "12", "123", "1234", "12345", "123456", "!", "01", "00", "99", "321")


def _fold(text: str) -> str:
    """Lower case, accents removed: Zulfikar and zulfikàr compare equal."""
    nfkd = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in nfkd if not unicodedata.combining(c))


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", _fold(text))


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _facts(user):
    if user is None:
        return None
    cached = getattr(user, "_akun_person_facts", None)
    if cached is None:
        from akun.identity import people

        cached = people.facts(user)
        user._akun_person_facts = cached
    return cached


class LengthValidator:
    def __init__(self, min_length: int = 8, max_length: int = 256):
        self.min_length = min_length
        self.max_length = max_length

    def validate(self, password, user=None):
        if len(password) < self.min_length:
            raise ValidationError(
                ngettext(
                    "Use at least %(min)d character: add more; a few words make a strong, "
                    "easy-to-remember password.",
                    "Use at least %(min)d characters: add more; a few words make a strong, "
                    "easy-to-remember password.",
                    self.min_length,
                )
                % {"min": self.min_length},
                code="password_too_short",
            )
        if len(password) > self.max_length:
            raise ValidationError(
                _("Use at most %(max)d characters.") % {"max": self.max_length},
                code="password_too_long",
            )

    def get_help_text(self):
        return _("At least %(min)d characters; any characters, spaces included.") % {
            "min": self.min_length
        }


class NotInitialPasswordValidator:
    def validate(self, password, user=None):
        token = getattr(user, "initial_password_enc", None)
        if token and check_initial_password_token(token, password):
            raise ValidationError(
                _("This is the password from your account slip. Choose a new one of your own."),
                code="password_is_initial",
            )

    def get_help_text(self):
        return _("Not the password on your account slip.")


def birth_date_forms(d) -> set[str]:
    """A birth date as people write it, digits only: 09032012, 2012-03-09, 9312, 090312…"""
    dd, mm, yyyy = f"{d.day:02d}", f"{d.month:02d}", f"{d.year:04d}"
    yy = yyyy[2:]
    d1, m1 = str(d.day), str(d.month)
    forms = {
        dd + mm + yyyy,
        yyyy + mm + dd,
        mm + dd + yyyy,
        dd + mm + yy,
        yy + mm + dd,
        mm + dd + yy,
        d1 + m1 + yyyy,
        yyyy + m1 + d1,
        d1 + m1 + yy,
    }
    return {f for f in forms if len(f) >= 6}


class PersonalInfoValidator:
    """Not the user ID's local part, not the name (or a part of it), not the birth date."""

    min_part = 3

    def validate(self, password, user=None):
        if user is None:
            return
        folded = _fold(password)
        letters = _letters(password)
        local = _fold(getattr(user, "local_part", "") or "")
        if local and (local in folded or (len(local) >= 4 and _letters(local) in letters)):
            if len(_letters(local)) >= self.min_part:
                raise ValidationError(
                    _("Do not use your user ID in your password. Choose other words."),
                    code="password_has_user_id",
                )
        facts = _facts(user)
        if facts is None:
            return
        parts = [_letters(p) for p in re.split(r"[\s.,'’-]+", facts.nama or "")]
        parts = [p for p in parts if len(p) >= self.min_part]
        whole = "".join(parts)
        if (whole and whole in letters) or any(p in letters for p in parts):
            raise ValidationError(
                _("Do not use your name or part of it in your password. Choose other words."),
                code="password_has_name",
            )
        if facts.tanggal_lahir:
            digits = _digits(password)
            if any(f in digits for f in birth_date_forms(facts.tanggal_lahir)):
                raise ValidationError(
                    _("Do not use your birth date in your password. Choose something else."),
                    code="password_has_birth_date",
                )

    def get_help_text(self):
        return _("Not your user ID, your name or your birth date.")


@cache
def common_passwords() -> frozenset[str]:
    words = set(DjangoCommon().passwords)  # Django's 20,000
    for line in (DATA / "common-passwords-id.txt").read_text(encoding="utf-8").splitlines():
        base = line.strip().lower()
        if base and not base.startswith("#"):
            words.update(base + s for s in SUFFIXES)
            words.add(base.replace(" ", ""))
    return frozenset(w for w in words if w)


class CommonPasswordValidator:
    def validate(self, password, user=None):
        folded = _fold(password).strip()
        if folded in common_passwords() or folded.replace(" ", "") in common_passwords():
            raise ValidationError(
                _(
                    "This password is one of the most common ones and easy to guess. Add words "
                    "or choose a phrase only you would think of."
                ),
                code="password_too_common",
            )

    def get_help_text(self):
        return _("Not a common password such as 12345678 or bismillah.")
