"""The second factor of admin accounts: TOTP (RFC 6238) and one-time recovery codes.

Set up at the first sign-in: a secret (kept encrypted), shown as a QR code of its otpauth URI;
confirmed by a first right code, which also creates ten recovery codes (only keyed hashes are
stored). A code is never accepted twice: the last accepted 30-second step is remembered.

Wrong codes (TOTP and recovery codes alike) count per account in the database, whatever the
session, under identity's SECOND_FACTOR policy: growing delays, then a lock.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import pyotp
import segno
from django.conf import settings
from django.db import transaction

from akun.accounts.api import do_reissue_account
from akun.audit import api as audit
from akun.audit.api import Action
from akun.core import clock
from akun.identity import api as identity
from akun.portal import actions, secrets_box
from akun.portal.models import RecoveryCode, TotpDevice

ISSUER = "Akun"
RECOVERY_CODES = 10
# No look-alikes, lower case only: easy to read off paper and type on a phone.
RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz34679"


def _scope(account) -> dict:
    s = account.sekolah if account.sekolah_id else None
    return {"npsn": s.npsn, "kode_wilayah": s.kode_wilayah} if s else {}


def device_of(account) -> TotpDevice | None:
    return TotpDevice.objects.filter(account=account).first()


def is_enrolled(account) -> bool:
    return TotpDevice.objects.filter(account=account, confirmed_at__isnull=False).exists()


@transaction.atomic
def do_start_totp_enrollment(account, *, actor: str) -> str:
    """A fresh secret for an account without a confirmed device; returns the secret."""
    device = TotpDevice.objects.select_for_update().filter(account=account).first()
    if device and device.confirmed_at:
        raise ValueError("this account already has a confirmed authenticator")
    secret = pyotp.random_base32()
    if device is None:
        device = TotpDevice(account=account)
    device.secret_enc = secrets_box.seal(secret)
    device.created_at = clock.now()
    device.last_step = 0
    device.save()
    return secret


def secret_of(device: TotpDevice) -> str:
    return secrets_box.open_(device.secret_enc)


def provisioning_uri(account, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account.user_id, issuer_name=ISSUER)


def qr_svg(text: str, scale: int = 4) -> str:
    """An inline SVG QR code, made on the server (no script, no external image)."""
    return segno.make(text, error="m").svg_inline(scale=scale, light="#fff", omitsize=False)


def _matching_step(secret: str, code: str) -> int | None:
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = clock.now().timestamp()
    for drift in (0, -1, 1):  # one step either side for clock skew
        at = now + drift * totp.interval
        if hmac.compare_digest(totp.at(at), code):
            return totp.timecode(clock.now()) + drift
    return None


def _check_code(account, code: str, *, require_confirmed: bool) -> bool:
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(account=account).first()
        if device is None or (require_confirmed and not device.confirmed_at):
            return False
        step = _matching_step(secret_of(device), code)
        if step is None or step <= device.last_step:
            return False
        device.last_step = step
        if not device.confirmed_at:
            device.confirmed_at = clock.now()
        device.save(update_fields=["last_step", "confirmed_at"])
        return True


def current_code(account) -> str:
    """The code an authenticator shows now (the demo and tests; never for production)."""
    device = device_of(account)
    return pyotp.TOTP(secret_of(device)).at(clock.now().timestamp())


def _hash_code(code: str) -> str:
    norm = "".join(ch for ch in (code or "").lower() if ch.isalnum())
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, b"recovery:" + norm.encode(), hashlib.sha256).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _replace_recovery_codes(account) -> list[str]:
    RecoveryCode.objects.filter(account=account).delete()
    now = clock.now()
    codes = [_new_code() for _ in range(RECOVERY_CODES)]
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(account=account, code_hash=_hash_code(c), created_at=now) for c in codes]
    )
    return codes


def do_confirm_totp(account, code: str, *, actor: str) -> list[str] | None:
    """The first right code confirms the device; returns the new recovery codes (shown once),
    or None if the code is wrong."""
    with transaction.atomic():
        if not _check_code(account, code, require_confirmed=False):
            return None
        codes = _replace_recovery_codes(account)
        audit.record(
            Action.PORTAL_TOTP_ENROLLED,
            actor=actor,
            object_type="account",
            object_id=account.user_id,
            after={"recovery_codes": len(codes)},
            **_scope(account),
        )
    return codes


def verify_totp(account, code: str) -> bool:
    return _check_code(account, code, require_confirmed=True)


@dataclass(frozen=True)
class SecondFactor:
    ok: bool = False
    wait: int = 0  # seconds until the next try is looked at (0: now)
    locked: bool = False  # the account's second step is locked (this try refused or wrong)
    failures: int = 0
    recovery_codes: tuple[str, ...] = ()  # made by the code that confirmed a new device

    @property
    def refused(self) -> bool:
        return self.wait > 0


def _throttle_key(account) -> str:
    return f"{identity.SECOND_FACTOR.name}:{account.pk}"


@transaction.atomic
def do_check_second_factor(
    account, *, code: str = "", recovery_code: str = "", actor: str
) -> SecondFactor:
    """The second step of a sign-in: a recovery code if given, else a TOTP code (which
    confirms a new device). Throttled per account with identity's `guarded`: decided,
    checked and counted under one row lock, so neither new sessions nor concurrent requests
    get more tries. A wrong code is audited with the account's count, and the lock."""
    made: list[str] = []

    def attempt() -> bool:
        if recovery_code:
            return use_recovery_code(account, recovery_code)
        if is_enrolled(account):
            return verify_totp(account, code)
        made.extend(do_confirm_totp(account, code, actor=actor) or [])
        return bool(made)

    policy = identity.SECOND_FACTOR
    result = identity.guarded(_throttle_key(account), policy, attempt)
    if not result.decision.allowed:
        return SecondFactor(
            wait=result.decision.wait, locked=result.decision.locked, failures=result.failures
        )
    if result.ok:
        return SecondFactor(ok=True, recovery_codes=tuple(made))
    locked = result.failures >= policy.lock_after
    actions.record_second_factor_failure(
        account,
        failures=result.failures,
        method="recovery_code" if recovery_code else "totp",
        actor=actor,
        locked=locked,
    )
    return SecondFactor(
        wait=policy.lock_seconds if locked else 0, locked=locked, failures=result.failures
    )


def use_recovery_code(account, code: str) -> bool:
    with transaction.atomic():
        row = (
            RecoveryCode.objects.select_for_update()
            .filter(account=account, code_hash=_hash_code(code), used_at__isnull=True)
            .first()
        )
        if row is None:
            return False
        row.used_at = clock.now()
        row.save(update_fields=["used_at"])
        left = RecoveryCode.objects.filter(account=account, used_at__isnull=True).count()
        audit.record(
            Action.PORTAL_RECOVERY_CODE_USED,
            actor=account.user_id,
            object_type="account",
            object_id=account.user_id,
            after={"recovery_codes_left": left},
            **_scope(account),
        )
    return True


def recovery_codes_left(account) -> int:
    return RecoveryCode.objects.filter(account=account, used_at__isnull=True).count()


@transaction.atomic
def do_regenerate_recovery_codes(account, *, actor: str) -> list[str]:
    codes = _replace_recovery_codes(account)
    audit.record(
        Action.PORTAL_RECOVERY_CODES_REGENERATED,
        actor=actor,
        object_type="account",
        object_id=account.user_id,
        **_scope(account),
    )
    return codes


@transaction.atomic
def do_reset_totp(account, *, actor: str, reason: str) -> str:
    """Lost phone and codes: the authenticator and recovery codes are removed, and so is the
    password: a new initial password (returned, shown once to whoever verified the person)
    is needed to sign in and set up a new authenticator. Otherwise whoever knew the old
    password would enrol their own authenticator at the next sign-in. Every session of
    the account ends (the reissue's event)."""
    TotpDevice.objects.filter(account=account).delete()
    RecoveryCode.objects.filter(account=account).delete()
    audit.record(
        Action.PORTAL_TOTP_RESET,
        actor=actor,
        object_type="account",
        object_id=account.user_id,
        reason=reason,
        **_scope(account),
    )
    return do_reissue_account(account, actor=actor, reason=f"second factor reset: {reason}")


@transaction.atomic
def do_reencrypt_totp_secrets(*, actor: str) -> int:
    """Every TOTP secret under the first of AKUN_ENCRYPTION_KEYS (after a key rotation);
    returns how many were re-encrypted. Few rows: one per admin."""
    done = 0
    for device in TotpDevice.objects.select_for_update().order_by("pk"):
        if secrets_box.needs_reencryption(device.secret_enc):
            device.secret_enc = secrets_box.seal(secrets_box.open_(device.secret_enc))
            device.save(update_fields=["secret_enc"])
            done += 1
    audit.record(
        Action.PORTAL_REENCRYPT_TOTP_SECRETS,
        actor=actor,
        object_type="encryption_key",
        after={"reencrypted": done},
    )
    return done
