"""One-time codes: 6 digits, valid 15 minutes, 5 tries; only a keyed hash is stored."""

import datetime as dt
import enum
import hmac
import secrets

from django.core.mail import send_mail
from django.db import transaction
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from akun.core import clock
from akun.core.sms import send_sms
from akun.identity.models import OneTimeCode

LIFETIME = dt.timedelta(minutes=15)
MAX_TRIES = 5


class Check(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"  # too many tries: ask for a new code
    USED = "used"


def _hash(salt: str, code: str) -> str:
    mac = salted_hmac("akun.identity.codes", f"{salt}:{code}", algorithm="sha256").hexdigest()
    return f"{salt}${mac}"


def issue(account, purpose: str, channel: str, destination: str) -> tuple[OneTimeCode, str]:
    """A new code for (account, purpose), replacing any earlier unused one; sent on commit."""
    code = f"{secrets.randbelow(10**6):06d}"
    now = clock.now()
    with transaction.atomic():
        OneTimeCode.objects.filter(account=account, purpose=purpose, used_at=None).update(
            used_at=now
        )
        otc = OneTimeCode.objects.create(
            account=account,
            purpose=purpose,
            channel=channel,
            destination=destination,
            code_hash=_hash(secrets.token_hex(8), code),
            created_at=now,
            expires_at=now + LIFETIME,
        )
        transaction.on_commit(lambda: deliver(channel, destination, code, purpose))
    return otc, code


def deliver(channel: str, destination: str, code: str, purpose: str) -> None:
    minutes = int(LIFETIME.total_seconds() // 60)
    if purpose == OneTimeCode.Purpose.RESET:
        text = _(
            "Your learning account code to reset the password: %(code)s. Valid %(min)d minutes. "
            "Do not give it to anyone."
        ) % {"code": code, "min": minutes}
    else:
        text = _(
            "Your learning account code to confirm this contact: %(code)s. Valid %(min)d "
            "minutes. Do not give it to anyone."
        ) % {"code": code, "min": minutes}
    if channel == OneTimeCode.Channel.EMAIL:
        send_mail(_("Your learning account code"), text, None, [destination])
    else:
        send_sms(destination, text)


def check(code_id: int, account, purpose: str, raw: str) -> Check:
    """Counts a try and compares in constant time. The row is locked so tries cannot race."""
    raw = "".join(c for c in (raw or "") if c.isdigit())
    with transaction.atomic():
        otc = (
            OneTimeCode.objects.select_for_update()
            .filter(pk=code_id, account=account, purpose=purpose)
            .first()
        )
        if otc is None or otc.used_at is not None:
            return Check.USED
        if clock.now() >= otc.expires_at:
            return Check.EXPIRED
        if otc.attempts >= MAX_TRIES:
            return Check.EXHAUSTED
        otc.attempts += 1
        expected = otc.code_hash
        actual = _hash(expected.split("$", 1)[0], raw)
        if hmac.compare_digest(expected, actual):
            otc.used_at = clock.now()
            otc.save(update_fields=["attempts", "used_at"])
            return Check.OK
        otc.save(update_fields=["attempts"])
        return Check.EXHAUSTED if otc.attempts >= MAX_TRIES else Check.WRONG


def tries_left(code_id: int) -> int:
    otc = OneTimeCode.objects.filter(pk=code_id).first()
    return 0 if otc is None else max(0, MAX_TRIES - otc.attempts)
