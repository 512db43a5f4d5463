"""SMS through a pluggable sender: AKUN_SMS_SENDER is a dotted path to a class with
`send(to, text)`. Development default: append to VAR_DIR/outbox/sms.jsonl and log it."""

import json
import logging

from django.conf import settings
from django.utils.module_loading import import_string

from akun.core import clock

log = logging.getLogger("akun.core.sms")


class FileSmsSender:
    def send(self, to: str, text: str) -> None:
        outbox = sms_outbox_path()
        outbox.parent.mkdir(parents=True, exist_ok=True)
        with outbox.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"at": clock.now().isoformat(), "to": to, "text": text}) + "\n")
        log.info("SMS to %s written to %s", to, outbox)


class ConsoleSmsSender:
    def send(self, to: str, text: str) -> None:
        print(f"SMS to {to}: {text}", flush=True)


def sms_outbox_path():
    return settings.VAR_DIR / "outbox" / "sms.jsonl"


def send_sms(to: str, text: str) -> None:
    path = getattr(settings, "AKUN_SMS_SENDER", "akun.core.sms.FileSmsSender")
    import_string(path)().send(to, text)
