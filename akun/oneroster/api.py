"""What other apps use of OneRoster (OEP-49): how one account looks to the learning
platforms, for the helpdesk's screen ("the platform does not list me")."""

import dataclasses
import datetime as dt

from akun.oneroster.actions import NATIONAL
from akun.oneroster.models import ACTIVE, OrClient, OrEnrollment, OrUser
from akun.sso.api import Service


@dataclasses.dataclass
class Visibility:
    """The account's OneRoster user, or why there is none, and who reads it."""

    listed: bool
    status: str = ""  # active | tobedeleted
    enabled: bool = False
    role: str = ""
    class_sourced_id: str = ""
    classes: int = 0  # active enrollments
    modified: dt.datetime | None = None
    platforms: list[str] = dataclasses.field(default_factory=list)  # services that see it

    @property
    def visible(self) -> bool:
        return self.listed and self.status == ACTIVE and bool(self.platforms)


def _sees(orgs: list[str], npsn: str, kode_wilayah: str) -> bool:
    return any(
        org == NATIONAL or org == npsn or (len(org) != 8 and kode_wilayah.startswith(org))
        for org in orgs
    )


def visibility(account_id: int) -> Visibility:
    user = OrUser.objects.filter(account_id=account_id).first()
    if user is None:
        return Visibility(listed=False)
    client_ids = [
        c.client_id
        for c in OrClient.objects.only("client_id", "orgs")
        if _sees(c.orgs, user.npsn, user.kode_wilayah)
    ]
    platforms = list(
        Service.objects.filter(application__client_id__in=client_ids)
        .order_by("name")
        .values_list("name", flat=True)
    )
    return Visibility(
        listed=True,
        status=user.status,
        enabled=user.enabled,
        role=user.role,
        class_sourced_id=user.class_sourced_id,
        classes=OrEnrollment.objects.filter(user_sourced_id=user.sourced_id, status=ACTIVE).count(),
        modified=user.date_last_modified,
        platforms=platforms,
    )
