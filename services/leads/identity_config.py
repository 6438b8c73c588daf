"""The routing config's `identity` section: when identifiers seen together make one person.

Identifiers a lead carries together (email, phone, chat handle, CRM id) are linked into one
person (services/router/identity_graph.py). An identifier many people share (a company
switchboard, a shared inbox) would join strangers, so linking stops at a fan-out: an identifier
linked to more than `max_links_per_kind` identifiers of one kind is *shared*, and no person is
joined through it. Role addresses (`info@`, `sales@`, ...) are shared from their first lead.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from services.leads.config_base import ConfigModel

MAX_KEPT_PER_KIND = 16
"""Links an identifier's record keeps per kind (router.identity-links): the fan-out guard can
count up to one past any allowed setting, and a record never grows past this."""

ROLE_LOCAL_PARTS = (
    "admin", "billing", "contact", "enquiries", "hello", "help", "info", "inquiries", "marketing",
    "noreply", "no-reply", "office", "sales", "support", "team",
)  # fmt: skip
"""Local parts of addresses that belong to a role, not a person: shared from the start."""


class IdentityLinking(ConfigModel):
    """Defaults are chosen and justified in docs/routing.md, "Identity"."""

    max_links_per_kind: int = Field(default=1, ge=1, le=MAX_KEPT_PER_KIND - 1)
    """An identifier linked to more identifiers of one kind than this is shared: not a bridge.
    1: a phone seen with two different emails may be one person with two addresses or two
    people at one desk; the graph does not guess, so it joins neither (today's behaviour)."""
    shared_local_parts: tuple[str, ...] = ROLE_LOCAL_PARTS
    """Email local parts (before the `@`) that are shared whatever their fan-out."""
    enabled: bool = True
    """False: every identifier is its own person, as before the identity graph."""

    @field_validator("shared_local_parts")
    @classmethod
    def _local_parts(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        parts = {v.strip().lower() for v in values}
        bad = sorted(p for p in parts if not p or "@" in p or " " in p)
        if bad:
            raise ValueError(f"expected local parts without '@' or spaces (like 'info'), got {bad}")
        return tuple(sorted(parts))
