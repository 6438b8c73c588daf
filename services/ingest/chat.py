"""The chat-started webhook (JSON, documented in docs/channels.md) to a `Lead`.

    {"event": "conversation.started", "conversation_id": "c_8f2…", "site_id": "www",
     "visitor": {"id": "v_41…", "name": "…", "email": "…", "phone": "…", "country": "DE",
                 "language": "de", "company": "…"},
     "first_message": "…", "page_url": "https://…", "utm": {"source": "…"}, …}

`conversation_id` is the message id. A visitor with neither email nor phone is still reachable
in the chat, so the identity falls back to `chat:<visitor id>`. Unknown members, top level or in
`visitor`, are kept as attributes (`visitor.city`).
"""

from __future__ import annotations

import json

from services.ingest.contact import unicode_text
from services.ingest.forms import json_text
from services.ingest.lead_fields import Envelope, build_lead
from services.ingest.rejection import InvalidLead
from services.leads.events import Channel, Lead

EXPECTED = "a chat webhook object (see docs/channels.md)"
VISITOR_FIELDS = {
    "name": "full_name",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "phone": "phone",
    "country": "country",
    "language": "language",
    "company": "company",
}
TOP_FIELDS = {
    "first_message": "message",
    "message": "message",
    "page_url": "page_url",
    "product": "product",
    "campaign": "campaign",
}


def normalize_chat(body: bytes, received_at_ms: int) -> Lead:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidLead("body", "is not valid JSON", EXPECTED, "malformed") from None
    if not isinstance(document, dict):
        raise InvalidLead("body", "is not a JSON object", EXPECTED, "malformed")
    _refuse_invalid_text(document)
    conversation = _text(document.get("conversation_id"))
    if conversation is None:
        raise InvalidLead("conversation_id", "is missing", "the chat's id", "missing_field")
    visitor = document.get("visitor") or {}
    if not isinstance(visitor, dict):
        raise InvalidLead("visitor", "is not an object", "the visitor's details", "malformed")
    fields: list[tuple[str, str]] = []
    others: list[tuple[str, str]] = []
    for name, value in visitor.items():
        if (text := json_text(value)) is not None:
            if name in VISITOR_FIELDS:
                fields.append((VISITOR_FIELDS[name], text))
            else:
                others.append((f"visitor.{name}", text))
    utm = document.get("utm") or {}
    if isinstance(utm, dict):
        fields += [(f"utm_{k}", t) for k, v in utm.items() if (t := json_text(v)) is not None]
    for name, value in document.items():
        if name in {"conversation_id", "visitor", "utm"} or (text := json_text(value)) is None:
            continue
        if name in TOP_FIELDS:
            fields.append((TOP_FIELDS[name], text))
        else:
            others.append((str(name), text))
    visitor_id = _text(visitor.get("id")) or conversation
    envelope = Envelope(
        channel=Channel.CHAT,
        source=(_text(document.get("site_id")) or "chat")[:200],
        source_message_id=conversation[:200],
        received_at_ms=received_at_ms,
        channel_contact_id=f"chat:{visitor_id[:200]}",
    )
    try:
        return build_lead(envelope, fields, attributes=others)
    except InvalidLead as exc:
        if exc.field in VISITOR_FIELDS.values():
            raise InvalidLead(
                f"visitor.{exc.field}", exc.problem, exc.expected, exc.reason
            ) from None
        raise


def _refuse_invalid_text(document: dict[str, object]) -> None:
    """Every member name and string must be valid Unicode: JSON can spell a lone surrogate
    ("\\ud800"), which no Kafka record can carry. The refusal names its path (`visitor.email`).
    Iterative, so a deeply nested document costs no recursion."""
    stack: list[tuple[str, object]] = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            unicode_text(value, path)
        elif isinstance(value, dict):
            for name, item in value.items():
                child = f"{path}.{name}" if path else str(name)
                unicode_text(str(name), child)
                stack.append((child, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(value))


def _text(value: object) -> str | None:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value).strip() or None
    return None
