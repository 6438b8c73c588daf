"""Builders for routing config documents and leads: valid by default, one field changed per test."""

from __future__ import annotations

import copy
from typing import Any

from services.leads.events import Channel, Lead
from services.leads.routing_config import RoutingConfig, parse_routing_config

Doc = dict[str, Any]


def make_rep(rep_id: str = "ann", **fields: Any) -> Doc:
    return {"id": rep_id, "name": rep_id.title(), "email": f"{rep_id}@example.com", **fields}


def make_pool(pool_id: str = "general", reps: tuple[str, ...] = ("ann",), **fields: Any) -> Doc:
    return {"id": pool_id, "members": [{"rep": r} for r in reps], **fields}


def make_doc(**overrides: Any) -> Doc:
    """A small valid document: two reps, one pool, no rules."""
    doc: Doc = {
        "reps": [make_rep("ann"), make_rep("bob")],
        "pools": [make_pool("general", ("ann", "bob"))],
        "default_pool": "general",
    }
    doc.update(copy.deepcopy(overrides))
    return doc


def make_config(**overrides: Any) -> RoutingConfig:
    return parse_routing_config(make_doc(**overrides))


def make_lead(lead_id: str = "lead-1", **fields: Any) -> Lead:
    values: dict[str, Any] = {
        "lead_id": lead_id,
        "identity_key": "jane@acme.example",
        "channel": Channel.FORM,
        "source": "form:contact",
        "source_message_id": f"msg-{lead_id}",
        "received_at_ms": 1_763_900_000_000,
        "email": "jane@acme.example",
        "company_domain": "acme.example",
    }
    values.update(fields)
    return Lead(**values)
