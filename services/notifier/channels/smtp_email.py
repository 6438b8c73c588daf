"""Email over SMTP: multipart text + HTML, `Message-ID` from the notification id.

Plain SMTP, STARTTLS (`starttls`) or implicit TLS (`tls`, usually port 465), with AUTH when a
user is set. The Message-ID `<ntf_...@domain>` is the same on every retry, so a mail system
that drops repeats by Message-ID drops ours; most only thread them (at-least-once).

SMTP replies: 2xx sent; 4xx (greylisting, a full queue) retried; 5xx (no such mailbox, refused)
dead at once. A connection that fails is retried.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Literal

from services.notifier.deliveries import Answer, Delivery, Failed, Sent

Security = Literal["none", "starttls", "tls"]


@dataclass(frozen=True)
class SmtpServer:
    host: str = "127.0.0.1"
    port: int = 25
    security: Security = "none"
    username: str | None = None
    password: str | None = None
    sender: str = "leadrouter@localhost"
    timeout_s: float = 10.0
    tls_context: ssl.SSLContext | None = None
    """Who to trust; None: the system's CAs."""


def email_message(delivery: Delivery, sender: str, at_s: float) -> EmailMessage:
    mail = EmailMessage()
    domain = sender.rpartition("@")[2] or "localhost"
    mail["Message-ID"] = f"<{delivery.notification_id}@{domain}>"
    mail["From"] = sender
    mail["To"] = delivery.point["to"]
    mail["Subject"] = delivery.message["subject"] or ""
    mail["Date"] = formatdate(at_s, usegmt=True)
    mail["X-Leadrouter-Event"] = delivery.event_type.value
    mail.set_content(delivery.message["text"] or "")
    mail.add_alternative(delivery.message["html"] or "", subtype="html")
    return mail


class SmtpChannel:
    def __init__(self, server: SmtpServer, now_s: float | None = None) -> None:
        self.server = server
        self._now_s = now_s

    def send(self, delivery: Delivery) -> Answer:
        mail = email_message(delivery, self.server.sender, self._now_s or time.time())
        try:
            with self._connect() as smtp:
                refused = smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reason = next(iter(exc.recipients.values()))
            return _reply(code, reason)
        except smtplib.SMTPResponseException as exc:
            return _reply(exc.smtp_code, exc.smtp_error)
        except (smtplib.SMTPException, OSError) as exc:
            return Failed(True, f"{type(exc).__name__}: {exc}")
        if refused:
            code, reason = next(iter(refused.values()))
            return _reply(code, reason)
        return Sent(mail["Message-ID"])

    def _connect(self) -> smtplib.SMTP:
        s = self.server
        context = s.tls_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        try:
            if s.security == "starttls":
                smtp.starttls(context=context)
            if s.username is not None:
                smtp.login(s.username, s.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def close(self) -> None:
        pass


def _reply(code: int, reason: bytes | str) -> Failed:
    text = reason.decode(errors="replace") if isinstance(reason, bytes) else reason
    return Failed(retryable=400 <= code < 500, detail=text, status=code)
