"""The outbound sync client, in the shape of authentik's lib/sync/outgoing: one client
class per kind of target; the engine (akun.provisioning.engine) decides what to send and
keeps the remote id and state per account (models.Provisioned), the client only speaks to
the target. Calls are batched: a client receives many items and answers one Outcome each."""

import dataclasses
from collections.abc import Iterator

from akun.provisioning.models import Target


@dataclasses.dataclass
class Desired:
    """What the target should hold for one account (built by the engine from Akun)."""

    account_id: int
    user_id: str  # the primary e-mail / userName
    given_name: str
    family_name: str
    active: bool  # False: suspended at the target
    org_unit: str  # e.g. /akun/32 Jawa Barat/3204 Kab. Bandung/20212345/siswa
    attributes: dict  # role, jenjang, npsn, kode_wilayah (no NIK, NISN, birth date)
    remote_id: str = ""  # known remote id, if any
    password_hash: str = ""  # crypt SHA-512, password-sync mode only, sent once
    directory_visible: bool = True  # False: hidden from the directory (students)


@dataclasses.dataclass
class Outcome:
    account_id: int
    ok: bool
    remote_id: str = ""
    reason: str = ""  # a reasons.REASONS code when not ok
    detail: str = ""
    retry: bool = False  # transient (quota, 5xx, timeout): try again after backoff


@dataclasses.dataclass
class Remote:
    """One user as the target lists it (reconcile)."""

    remote_id: str
    user_id: str
    active: bool
    org_unit: str
    attributes: dict


class OutgoingSyncClient:
    """Speak to one target. Subclasses: provisioning.google.GoogleClient, .scim.ScimClient."""

    kind: str = ""

    def __init__(self, target: Target):
        self.target = target

    def write(self, items: list[Desired]) -> list[Outcome]:
        """Create or update each item (adopting an existing user that is ours on a
        conflict), in as few calls as the target allows."""
        raise NotImplementedError

    def delete(self, items: list[Desired]) -> list[Outcome]:
        raise NotImplementedError

    def discover(self) -> Iterator[Remote]:
        """Every user the target holds in the part Akun manages, paged."""
        raise NotImplementedError
