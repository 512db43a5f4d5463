"""The inbound mail relay: an SMTP server (aiosmtpd) that takes the replies to the
helpdesk's mail (an MX, or a local MTA's transport, delivers them here) and posts each raw
message to the webhook /bantuan/surel-masuk, signed with AKUN_HELPDESK_INBOUND_SECRET.
The webhook's answer decides the SMTP answer: added 250, refused 550, anything else 451
(the sending MTA tries again later)."""

import logging
import time
import urllib.error
import urllib.request

from aiosmtpd.controller import Controller

from akun.helpdesk import mail

log = logging.getLogger("akun.helpdesk.relay")


class RelayHandler:
    def __init__(self, url: str, secret: str, timeout: float = 20):
        self.url, self.secret, self.timeout = url, secret, timeout

    def post(self, raw: bytes) -> int:
        ts = str(int(time.time()))
        request = urllib.request.Request(
            self.url,
            data=raw,
            method="POST",
            headers={
                "Content-Type": "message/rfc822",
                "X-Akun-Timestamp": ts,
                "X-Akun-Signature": mail.sign(raw, ts, self.secret),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as e:
            return e.code

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            status = await asyncio.get_running_loop().run_in_executor(None, self.post, raw)
        except Exception:
            log.exception("relay: the webhook could not be reached")
            return "451 Requested action aborted: try again later"
        if 200 <= status < 300:
            return "250 Message accepted"
        if status in (413, 422):
            return "550 Message refused"
        log.warning("relay: the webhook answered %s", status)
        return "451 Requested action aborted: try again later"


def controller(host: str, port: int, url: str, secret: str) -> Controller:
    return Controller(
        RelayHandler(url, secret),
        hostname=host,
        port=port,
        data_size_limit=mail.MAX_MESSAGE_BYTES,
        decode_data=False,
    )
