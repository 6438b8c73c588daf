"""Builders for the notifier's tests: a config with contacts, deliveries; valid by default."""

from __future__ import annotations

from typing import Any

from services.leads.routing_config import RoutingConfig, parse_routing_config
from services.notifier.deliveries import Delivery
from services.notifier.messages import assignment_payload
from services.notifier.plan import plan
from tests.unit.sla_watcher.builders import T0, make_assignment

__all__ = ["T0", "make_assignment"]


def config_doc(notifications: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "managers": [{"id": "maria", "name": "Maria", "email": "maria@example.com"}],
        "reps": [
            {
                "id": "ann",
                "name": "Ann",
                "email": "ann@example.com",
                "manager": "maria",
                "time_zone": "Europe/Berlin",
            },
            {"id": "bob", "name": "Bob", "email": "bob@example.com", "manager": "maria"},
        ],
        "pools": [
            {"id": "inside", "members": [{"rep": "ann"}, {"rep": "bob"}], "manager": "maria"}
        ],
        "default_pool": "inside",
    }
    if notifications is not None:
        doc["notifications"] = notifications
    return doc | extra


def make_config(notifications: dict[str, Any] | None = None) -> RoutingConfig:
    return parse_routing_config(config_doc(notifications))


def make_delivery(channel: str = "webhook", **point: str) -> Delivery:
    """One delivery to a subscriber point of `channel`, for an assignment of lead-1 to ann."""
    fields = point or {"url": "http://127.0.0.1:9/hook"}
    config = make_config(
        {
            "subscribers": [{"channel": channel, **fields}],
            "console_url": "https://console.example/leads/{lead_id}",
        }
    )
    (delivery,) = plan(assignment_payload(make_assignment()), config)
    return delivery
