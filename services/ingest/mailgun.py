"""Mailgun's inbound-parse post (multipart/form-data, or urlencoded when the mail has no
attachments) to a `Lead`. A route forwarding raw MIME posts `body-mime`: that message is
normalized as any raw email.

Fields used: `recipient`, `sender`, `from`, `subject`, `body-plain`, `stripped-text`,
`body-html`, `Message-Id`, `message-headers` (a JSON list of [name, value] pairs, for
Reply-To and Content-Language). Attachments arrive as files `attachment-1…`; the shell passes
their metadata. `timestamp`, `token` and `signature` are the webhook signature, checked before
this runs (`signatures.verify_mailgun`). Other fields are kept as attributes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from services.ingest.email_mime import normalize_email_message, sender
from services.ingest.html_text import html_to_text
from services.ingest.identity import content_id
from services.ingest.lead_fields import Envelope, build_lead
from services.ingest.rejection import InvalidLead
from services.leads.events import Attachment, Channel, Lead

MAPPED = frozenset(
    {"recipient", "sender", "from", "subject", "body-plain", "stripped-text", "body-html",
     "stripped-html", "Message-Id", "message-headers", "timestamp", "token", "signature",
     "stripped-signature", "attachment-count", "content-id-map", "To", "To-Header",
     "body-mime"}
)  # fmt: skip


def normalize_mailgun(
    fields: Iterable[tuple[str, str]], attachments: tuple[Attachment, ...], received_at_ms: int
) -> Lead:
    values: dict[str, str] = {}
    rest: list[tuple[str, str]] = []
    for name, value in fields:
        if name in MAPPED:
            values.setdefault(name, value)
        else:
            rest.append((name, value))
    recipient = (values.get("recipient") or "").split(",")[0].strip().lower()
    if values.get("body-mime"):  # a route forwarding to a URL ending in "mime": the raw message
        try:
            raw = values["body-mime"].encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise InvalidLead("body-mime", "is not valid Unicode text (a lone surrogate)",
                              "the raw message", "malformed") from None  # fmt: skip
        return normalize_email_message(raw, recipient or None, received_at_ms)
    headers = _message_headers(values.get("message-headers"))
    address, display_name = sender(
        values.get("from") or values.get("sender"), headers.get("reply-to")
    )
    if address is None:
        raise InvalidLead("from", "has no email address", "the sender's address", "missing_field")
    text = values.get("stripped-text") or values.get("body-plain")
    if not (text or "").strip() and values.get("body-html"):
        text = html_to_text(values["body-html"])
    message_id = (values.get("Message-Id") or headers.get("message-id") or "").strip()[:300]
    envelope = Envelope(
        channel=Channel.EMAIL,
        source=recipient[:300] or "mailgun",
        source_message_id=message_id or content_id([values.get("token", ""), text or ""]),
        received_at_ms=received_at_ms,
        language_hint=headers.get("content-language"),
        attachments=attachments,
        extra={
            "provider": "mailgun",
            **({"subject": values["subject"][:500]} if values.get("subject") else {}),
        },
    )
    try:
        fields = [("email", address), ("full_name", display_name or ""), ("message", text or "")]
        return build_lead(envelope, fields, attributes=rest)
    except InvalidLead as exc:
        if exc.field == "email":
            raise InvalidLead("from", exc.problem, exc.expected, exc.reason) from None
        raise


def _message_headers(raw: str | None) -> dict[str, str]:
    """Lower-cased header names to their first value; unreadable JSON is ignored (optional)."""
    try:
        pairs = json.loads(raw) if raw else []
    except (ValueError, RecursionError):
        return {}
    headers: dict[str, str] = {}
    for pair in pairs if isinstance(pairs, list) else []:
        if isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair):
            headers.setdefault(pair[0].lower(), pair[1])
    return headers
