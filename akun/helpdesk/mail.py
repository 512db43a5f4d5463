"""Mail of the helpdesk: out through Django's mail backend (SMTP in production), threaded;
replies in through the inbound webhook (a local MTA or `akun helpdesk mail-relay` posts each
message there, signed), accepted only with proof that they answer our mail.

A reply is added to a report only when all hold: the report's number (in the reply address,
else the subject), the sender is the report's contact, the message carries our token (the
reply address's, an HMAC of the number and the contact) or names a Message-ID we sent for
that report (In-Reply-To/References), and its own Message-ID is new (no replay)."""

import email
import email.policy
import email.utils
import hashlib
import hmac
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.crypto import salted_hmac

from akun.helpdesk import numbers

MAX_MESSAGE_BYTES = 1_000_000
MAX_BODY_CHARS = 10_000
SIGNATURE_MAX_AGE = 300  # seconds between the relay signing and the webhook reading


def helpdesk_address() -> str:
    return settings.AKUN_HELPDESK_ADDRESS


def _split(address: str) -> tuple[str, str]:
    local, _, domain = address.partition("@")
    return local, domain


def reply_token(number: str, contact: str) -> str:
    return salted_hmac("akun.helpdesk.reply", f"{number}:{contact.strip().lower()}").hexdigest()[
        :20
    ]


def reply_address(report) -> str:
    local, domain = _split(helpdesk_address())
    token = reply_token(report.number, report.contact_email)
    return f"{local}+{report.number.lower()}.{token}@{domain}"


def new_message_id(number: str) -> str:
    _local, domain = _split(helpdesk_address())
    return email.utils.make_msgid(idstring=number.lower(), domain=domain or "akun.invalid")


def subject_of(report) -> str:
    return f"Laporan {report.display_number} - Butuh Bantuan"


def build(report, message, previous_ids: list[str]) -> EmailMessage:
    headers = {"Message-ID": message.message_id}
    if previous_ids:
        headers["In-Reply-To"] = previous_ids[-1]
        headers["References"] = " ".join(previous_ids[-20:])
    subject = subject_of(report)
    return EmailMessage(
        subject=("Re: " + subject) if previous_ids else subject,
        body=message.body,
        from_email=helpdesk_address(),
        to=[report.contact_email],
        reply_to=[reply_address(report)],
        headers=headers,
    )


# --- Inbound ----------------------------------------------------------------------------------


def sign(body: bytes, timestamp: str, secret: str) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_ok(body: bytes, timestamp: str, signature: str, secret: str, now: float) -> bool:
    if not secret or not timestamp.isdigit() or abs(now - int(timestamp)) > SIGNATURE_MAX_AGE:
        return False
    return hmac.compare_digest(sign(body, timestamp, secret), signature or "")


@dataclass
class Inbound:
    message_id: str
    sender: str
    number: str
    token: str  # from the reply address; '' if it came another way
    references: list[str]
    body: str


class Refused(Exception):
    """An inbound message that is not added; `code` names why (for the audit row)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


_ADDRESS = re.compile(r"\+([0-9a-z]{8})\.([0-9a-f]{20})@", re.I)
_SUBJECT = re.compile(r"#([0-9A-Z]{4})-([0-9A-Z]{4})")
_MSGID = re.compile(r"<[^<>\s]{1,245}>")
_QUOTE_START = re.compile(r"^(>|On .+ wrote:|Pada .+ menulis:|-----Original Message-----)")


def _header(msg, name: str) -> str:
    try:
        values = msg.get_all(name) or []
    except Exception:  # a header the parser cannot read is as good as absent
        return ""
    return " ".join(str(v) for v in values)


def parse(raw: bytes) -> Inbound:
    if len(raw) > MAX_MESSAGE_BYTES:
        raise Refused("too_large")
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception:
        raise Refused("unreadable") from None
    message_ids = _MSGID.findall(_header(msg, "Message-ID"))
    if len(message_ids) != 1:
        raise Refused("no_message_id")
    sender = email.utils.parseaddr(_header(msg, "From"))[1].strip().lower()
    if not sender or "\x00" in sender or len(sender) > 254:
        raise Refused("no_sender")
    number, token = "", ""
    for name in ("Delivered-To", "X-Original-To", "To", "Cc"):
        if m := _ADDRESS.search(_header(msg, name)):
            number, token = m.group(1).upper(), m.group(2).lower()
            break
    if not number and (m := _SUBJECT.search(_header(msg, "Subject").upper())):
        number = m.group(1) + m.group(2)
    if not numbers.is_valid(number):
        raise Refused("no_number")
    references = _MSGID.findall(_header(msg, "In-Reply-To") + " " + _header(msg, "References"))
    try:
        part = msg.get_body(preferencelist=("plain",))
        text = part.get_content() if part is not None else ""
    except Exception:
        raise Refused("unreadable") from None
    if not isinstance(text, str):
        raise Refused("unreadable")
    return Inbound(message_ids[0], sender, number, token, references[:50], _reply_text(text))


def _reply_text(text: str) -> str:
    """The new text of a reply: up to the quoted mail below it, no NULs, capped."""
    kept = []
    for line in text.replace("\x00", "").replace("\r\n", "\n").split("\n"):
        if _QUOTE_START.match(line.strip()):
            break
        kept.append(line.rstrip())
    return "\n".join(kept).strip()[:MAX_BODY_CHARS]
