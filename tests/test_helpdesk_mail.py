"""Mail both ways against real servers on this machine, no mock of the mail path:
Django's SMTP backend sends to an aiosmtpd server; a person's reply goes by SMTP to the
inbound relay (`akun helpdesk mail-relay`'s aiosmtpd server), which posts it to the webhook
of a live Akun server. Forged, replayed and cross-report replies are refused (550)."""

import email
import email.policy
import email.utils
import smtplib
import time
import urllib.error
import urllib.request
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from akun.audit.models import AuditEvent
from akun.helpdesk import actions, mail
from akun.helpdesk.models import Message, Report
from akun.helpdesk.relay import controller as relay_controller
from tests import helpdesk_support as hs

pytestmark = pytest.mark.django_db(transaction=True)

SMTP_PORT = RELAY_PORT = 0  # set by the servers fixture (tests.helpdesk_support.port)
SECRET = "test-inbound-secret-0123456789abcdef"


class Sink:
    """An SMTP server that keeps what it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (
                envelope.rcpt_tos,
                email.message_from_bytes(envelope.content, policy=email.policy.default),
            )
        )
        return "250 OK"

    def wait(self, n, timeout=10):
        end = time.time() + timeout
        while len(self.messages) < n and time.time() < end:
            time.sleep(0.05)
        assert len(self.messages) >= n, self.messages
        return self.messages[n - 1][1]


@pytest.fixture
def servers(settings):
    global SMTP_PORT, RELAY_PORT
    SMTP_PORT, RELAY_PORT, WEB_PORT = hs.port(1), hs.port(2), hs.port(3)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", SMTP_PORT
    settings.AKUN_HELPDESK_INBOUND_SECRET = SECRET
    settings.AKUN_HELPDESK_ADDRESS = "bantuan@belajar.test"
    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=SMTP_PORT)
    smtp.start()
    web = hs.live_server_on(WEB_PORT)
    url = f"http://127.0.0.1:{WEB_PORT}/bantuan/surel-masuk"
    relay = relay_controller("127.0.0.1", RELAY_PORT, url, SECRET)
    relay.start()
    yield sink, url
    relay.stop()
    web.terminate()
    smtp.stop()


def _reply(to, sender, subject, in_reply_to="", body="Terima kasih, sudah bisa masuk."):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = email.utils.make_msgid(domain="gmail.com")
    msg["Date"] = email.utils.formatdate()
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(body + "\n\nOn Mon, Bantuan wrote:\n> pesan lama\n")
    return msg


def _send(msg):
    with smtplib.SMTP("127.0.0.1", RELAY_PORT, timeout=20) as s:
        s.send_message(msg)


def test_mail_out_threaded_and_replies_in_through_the_relay(servers):
    sink, url = servers
    w = hs.world()
    report = hs.report_for(w["issued"], email="siti.n@gmail.com")
    first = sink.wait(1)
    assert first["To"] == "siti.n@gmail.com"
    assert report.display_number in first["Subject"]
    root_id = first["Message-ID"]
    assert report.messages.filter(message_id=root_id).exists()
    reply_to = first["Reply-To"]
    assert reply_to.startswith(f"bantuan+{report.number.lower()}.")

    agent = hs.agent("3204")
    actions.do_reply(report, "Silakan masuk dengan kata sandi awal dari slip.", by=agent)
    answer = sink.wait(2)
    assert answer["In-Reply-To"] == root_id and root_id in answer["References"]
    assert answer["Subject"].startswith("Re: ") and report.display_number in answer["Subject"]
    report.refresh_from_db()
    assert report.state == "waiting_person" and report.first_answer_at is not None

    # The person replies to the answer: through SMTP, the relay, the signed webhook.
    good = _reply(
        answer["Reply-To"],
        "Siti N <SITI.N@gmail.com>",
        "Re: " + answer["Subject"],
        in_reply_to=answer["Message-ID"],
    )
    _send(good)
    added = Message.objects.get(report=report, kind="person", author="siti.n@gmail.com")
    assert added.body == "Terima kasih, sudah bisa masuk."  # the quoted mail is cut
    report.refresh_from_db()
    assert report.state == "new"

    # Replayed: the same message again is refused.
    with pytest.raises(smtplib.SMTPDataError) as e:
        _send(good)
    assert e.value.smtp_code == 550
    # Forged: another sender, to the right reply address.
    with pytest.raises(smtplib.SMTPDataError):
        _send(_reply(answer["Reply-To"], "penipu@evil.example", answer["Subject"]))
    # Forged: the right sender spoofed, the number in the subject, but no token and no
    # Message-ID of ours.
    with pytest.raises(smtplib.SMTPDataError):
        _send(_reply("bantuan@belajar.test", "siti.n@gmail.com", f"Re: {report.display_number}"))
    # Cross-report: the attacker's own report's token, aimed at Siti's number.
    own = hs.report_for(w["other"], email="penipu@evil.example")
    own_token = mail.reply_token(own.number, own.contact_email)
    forged_to = f"bantuan+{report.number.lower()}.{own_token}@belajar.test"
    for sender in ("penipu@evil.example", "siti.n@gmail.com"):
        with pytest.raises(smtplib.SMTPDataError):
            _send(_reply(forged_to, sender, f"Re: {report.display_number}"))
    assert Message.objects.filter(report=report, kind="person").count() == 2  # form + reply
    refused = AuditEvent.objects.filter(action="helpdesk.mail_refused").values_list(
        "reason", flat=True
    )
    assert sorted(refused) == sorted(
        ["replayed", "wrong_sender", "not_a_reply", "wrong_sender", "not_a_reply"]
    )


def _post(url, body, ts=None, secret=SECRET, sig=None):
    ts = ts or str(int(time.time()))
    req = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "X-Akun-Timestamp": ts,
            "X-Akun-Signature": sig if sig is not None else mail.sign(body, ts, secret),
            "Content-Type": "message/rfc822",
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_webhook_refuses_unsigned_stale_oversized_and_garbage(servers):
    _sink, url = servers
    w = hs.world()
    report = hs.report_for(w["issued"])
    raw = _reply(mail.reply_address(report), "siti.n@gmail.com", "Re: x").as_bytes()
    assert _post(url, raw, secret="wrong") == 403
    assert _post(url, raw, sig="") == 403
    assert _post(url, raw, ts=str(int(time.time()) - 3600)) == 403
    assert _post(url, b"x" * (mail.MAX_MESSAGE_BYTES + 1)) == 413
    for garbage in (b"\x00\xff\xfe" * 100, b"", b"From: a\r\n\r\n", "ü".encode("latin-1") * 50):
        assert _post(url, garbage) == 422
    # Invalid UTF-8 and NULs in the body of a real reply: added, cleaned.
    msg = _reply(mail.reply_address(report), "siti.n@gmail.com", "Re: x")
    raw = msg.as_bytes().replace(b"Terima kasih", b"Terima\x00 kasih \xff\xfe")
    assert _post(url, raw) == 202
    body = Message.objects.filter(report=report, kind="person").latest("at").body
    assert "\x00" not in body and body.startswith("Terima")
    # With the webhook's secret unset, the door does not exist.
    from django.conf import settings

    settings.AKUN_HELPDESK_INBOUND_SECRET = ""
    assert _post(url, raw) == 404
    assert Report.objects.filter(pk=report.pk).exists()
