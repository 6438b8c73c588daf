"""The SMTP front door: mail to configured addresses or domains becomes a lead.

RCPT to any other address is refused (550), so nobody's mail is taken by mistake; so is one
that is not valid UTF-8 (553), and past `MAX_RECIPIENTS` on one connection (452). DATA is
answered 250 only after the broker acknowledged the lead, 451 (try again later) when it did
not or when handling it failed on our side, 550 when the message cannot be a lead, 552 over
the size limit (the listener's own check) or when the lead would be too large for the topic.
The recipient that accepted it is the lead's source.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any
from weakref import WeakKeyDictionary

from aiosmtpd.controller import Controller

from services.ingest.email_mime import normalize_email_message
from services.ingest.http_channels import normalized
from services.ingest.metrics import IngestMetrics
from services.ingest.publisher import BrokerUnavailable, Publishing
from services.ingest.rejection import InvalidLead
from services.ingest.settings import IngestSettings
from services.streaming.records import Clock

log = logging.getLogger(__name__)

LABELS = {"door": "smtp", "channel": "email"}
MAX_RECIPIENTS = 100
"""RCPTs accepted on one connection: RFC 5321's minimum a server must take in one message;
one message is one lead whatever its recipients, so more only costs memory."""


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
        self.recipients: WeakKeyDictionary[Any, int] = WeakKeyDictionary()
        """RCPTs accepted per connection (aiosmtpd's session), forgotten with it."""

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        accepted = self.recipients.get(session, 0)
        if accepted >= MAX_RECIPIENTS:
            self.metrics.rejected.labels(**LABELS, reason="too_many_recipients").inc()
            return f"452 4.5.3 Too many recipients: at most {MAX_RECIPIENTS} per connection"
        try:
            address.encode("utf-8")  # aiosmtpd keeps undecodable bytes as lone surrogates
        except UnicodeEncodeError:
            self.metrics.rejected.labels(**LABELS, reason="bad_recipient").inc()
            return "553 5.1.3 Recipient address is not valid UTF-8"
        if not self.settings.accepts_recipient(address):
            self.metrics.rejected.labels(**LABELS, reason="unknown_recipient").inc()
            return "550 5.1.1 Recipient not accepted here"
        self.recipients[session] = accepted + 1
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        started = self.clock.monotonic()
        self.metrics.received.labels(**LABELS).inc()
        try:
            return await self._accept(envelope)
        except Exception:  # a bug, not bad mail: the sender keeps it and retries
            self.metrics.errors.labels(**LABELS).inc()
            log.exception("email lead failed")
            return "451 4.3.0 Lead not stored (error on our side), try again later"
        finally:
            self.metrics.request_seconds.labels(**LABELS).observe(self.clock.monotonic() - started)

    async def _accept(self, envelope: Any) -> str:
        raw: bytes = envelope.original_content or envelope.content or b""
        recipient = envelope.rcpt_tos[0] if envelope.rcpt_tos else None
        try:
            now_ms = self.clock.now_ms()
            lead = await normalized(raw, partial(normalize_email_message, raw, recipient, now_ms))
            await self.publisher.publish(lead)
        except InvalidLead as exc:
            self.metrics.rejected.labels(**LABELS, reason=exc.reason).inc()
            log.info("refused email lead: %s (%s)", exc.reason, exc.field)
            if exc.reason == "too_large":
                return f"552 5.3.4 Lead too large: {_one_line(exc.detail)}"
            return f"550 5.6.0 Not a usable lead: {_one_line(exc.detail)}"
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
