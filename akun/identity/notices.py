"""Telling a person that something was done to their account, on every contact on record: the
account's own mailbox, verified recovery contacts and, for PTK, the roster's e-mail and phone
(the contacts a reset code can go to). A contact that fails is logged, the others still go."""

import logging

from django.core.mail import send_mail

from akun.core.sms import send_sms
from akun.identity.selfservice import contacts

log = logging.getLogger("akun.identity.notices")


def send_account_notice(account, *, subject: str, body: str, sms: str) -> list[str]:
    """E-mail `subject`/`body` and SMS `sms`; returns the channels used ("email", "sms")."""
    emails = [account.user_id.strip().lower()]
    phones = []
    for c in contacts(account):
        if c.channel == "email":
            emails.append(c.destination)
        else:
            phones.append(c.destination)
    sent = []
    for address in dict.fromkeys(emails):
        try:
            send_mail(subject, body, None, [address])
            sent.append("email")
        except Exception:
            log.exception("account notice to %s: e-mail failed", account.user_id)
    for phone in dict.fromkeys(phones):
        try:
            send_sms(phone, sms)
            sent.append("sms")
        except Exception:
            log.exception("account notice to %s: SMS failed", account.user_id)
    return sent
