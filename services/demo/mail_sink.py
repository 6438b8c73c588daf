"""The demo's SMTP sink: where the notifier's email goes under `leadrouter run`.

A real SMTP server (aiosmtpd) on 127.0.0.1 that accepts every message, counts it and keeps
nothing else, so the demo shows notifications without mailing anyone.
"""

from __future__ import annotations

import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Counting:
    """aiosmtpd's handler: counts accepted messages."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        with self._lock:
            self.count += 1
        return "250 OK"


class MailSink:
    def __init__(self, port: int) -> None:
        self.handler = Counting()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    @property
    def received(self) -> int:
        return self.handler.count
