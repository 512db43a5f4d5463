"""The ministry's terms of use, versioned in code.

A new version goes at the end of TERMS; everyone who accepted an older one is asked again at
their next sign-in. Never edit a published version's text: add a new version.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Terms:
    version: str
    published: str  # ISO date
    items: tuple


TERMS = (
    Terms(
        version="2025.1",
        published="2025-01-01",
        items=(
            _("Use this learning account for learning and teaching only."),
            _("Do not use it for commercial purposes."),
            _("Do not use it for cryptocurrency mining."),
            _("Do not use it for pornography."),
            _("Do not misuse sensitive or personal data."),
            _("Do not use it for any activity against the law."),
            _(
                "Do not use it for hate speech or content attacking ethnicity, religion, race or "
                "group (SARA)."
            ),
            _("Do not infringe copyright."),
            _("Misuse of the account leads to its deactivation."),
        ),
    ),
)


def current() -> Terms:
    return TERMS[-1]


def needs_acceptance(account) -> bool:
    return account.terms_version != current().version or account.terms_accepted_at is None
