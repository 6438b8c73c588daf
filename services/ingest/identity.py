"""Deterministic ids: the lead id and the identity key (the Kafka key on leads.inbound).

`lead_id` is a name-based UUID of (channel, source message id), so a webhook the provider
retries, or a raw record replayed, yields the same id and the router can drop the duplicate.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable

from services.leads.events import Channel

LEAD_NAMESPACE = uuid.UUID("6f1c7a52-3d7e-5b7e-9a51-1e0d5c0a7e11")
"""Fixed forever: changing it would give every retried webhook a new lead id."""


def lead_id(channel: Channel, source_message_id: str) -> str:
    return str(uuid.uuid5(LEAD_NAMESPACE, f"{channel.value}\x1f{source_message_id}"))


def identity_key(email: str | None, phone: str | None, channel_id: str | None) -> str | None:
    """Normalized email, else E.164 phone, else a channel-scoped id (`chat:<visitor>`)."""
    return email or phone or channel_id


def content_id(parts: Iterable[str | bytes]) -> str:
    """A stable id for a payload that carries none of its own: `sha256:<hex>` of its parts."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return f"sha256:{digest.hexdigest()[:40]}"
