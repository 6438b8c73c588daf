"""The SMTP front door: mail to configured addresses or domains becomes a lead.

RCPT to any other address is refused (550), so nobody's mail is taken by mistake. DATA is
answered 250 only after the broker acknowledged the lead, 451 (try again later) when it did
not, 550 when the message cannot be a lead, 552 over the size limit (the listener's own check).
The recipient that accepted it is the lead's source.
"""

from __future__ import annotations

import logging
from typing import Any

from aiosmtpd.controller import Controller

from services.ingest.email_mime import normalize_email_message
from services.ingest.metrics import IngestMetrics
from services.ingest.publisher import BrokerUnavailable, Publishing
from services.ingest.rejection import InvalidLead
from services.ingest.settings import IngestSettings
from services.streaming.records import Clock

log = logging.getLogger(__name__)

LABELS = {"door": "smtp", "channel": "email"}


class LeadMailHandler:
    """aiosmtpd's handler hooks (`handle_RCPT`, `handle_DATA`)."""

    def __init__(
        self,
        settings: IngestSettings,
        publisher: Publishing,
        metrics: IngestMetrics,
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.publisher = publisher
        self.metrics = metrics
        self.clock = clock

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if not self.settings.accepts_recipient(address):
            self.metrics.rejected.labels(**LABELS, reason="unknown_recipient").inc()
            return "550 5.1.1 Recipient not accepted here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        started = self.clock.monotonic()
        self.metrics.received.labels(**LABELS).inc()
        try:
            return await self._accept(envelope)
        finally:
            self.metrics.request_seconds.labels(**LABELS).observe(self.clock.monotonic() - started)

    async def _accept(self, envelope: Any) -> str:
        raw: bytes = envelope.original_content or envelope.content or b""
        recipient = envelope.rcpt_tos[0] if envelope.rcpt_tos else None
        try:
            lead = normalize_email_message(raw, recipient, self.clock.now_ms())
        except InvalidLead as exc:
            self.metrics.rejected.labels(**LABELS, reason=exc.reason).inc()
            log.info("refused email lead: %s (%s)", exc.reason, exc.field)
            return f"550 5.6.0 Not a usable lead: {_one_line(exc.detail)}"
        try:
            await self.publisher.publish(lead)
        except BrokerUnavailable:
            self.metrics.unavailable.labels(**LABELS).inc()
            log.warning("email lead not accepted: broker unavailable")
            return "451 4.3.0 Lead not stored, try again later"
        self.metrics.accepted.labels(**LABELS).inc()
        log.debug("accepted email lead %s", lead.lead_id)  # counted in metrics
        return f"250 2.0.0 OK lead {lead.lead_id}"


def smtp_controller(
    handler: LeadMailHandler, settings: IngestSettings, hostname: str | None = None
) -> Controller:
    """The listener, not started: `.start()` runs it in its own thread, `.stop()` ends it."""
    return Controller(
        handler,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        data_size_limit=settings.email_max_bytes,
        enable_SMTPUTF8=True,
        server_hostname=hostname,
        ready_timeout=10,
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]
