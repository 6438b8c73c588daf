"""A small routing config for the watcher's tests, built with the real config model."""

from __future__ import annotations

import copy
from typing import Any

from services.leads.routing_config import RoutingConfig, parse_routing_config

OFFICE = {day: "09:00-17:00" for day in ("mon", "tue", "wed", "thu", "fri")}


def make_config_doc(policy: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """Reps ann, bob, cy (Maria's) and zoe (no manager) in pool `inside`, `global` as fallback."""
    reps = [
        {"id": rep, "name": rep.title(), "email": f"{rep}@example.com", "manager": "maria",
         "time_zone": "Europe/Berlin", "working_hours": OFFICE}
        for rep in ("ann", "bob", "cy")
    ]  # fmt: skip
    reps.append({"id": "zoe", "name": "Zoe", "email": "zoe@example.com", "time_zone": "Asia/Tokyo"})
    doc: dict[str, Any] = {
        "managers": [{"id": "maria", "name": "Maria"}, {"id": "tom", "name": "Tom"}],
        "reps": reps,
        "pools": [
            {
                "id": "inside",
                "members": [{"rep": r} for r in ("ann", "bob", "cy")],
                "fallback": "global",
                "sla_policy": "fast",
                "manager": "tom",
            },
            {"id": "global", "members": [{"rep": "zoe"}], "manager": "tom"},
        ],
        "default_pool": "inside",
        "sla_policies": [
            {
                "id": "fast",
                "first_touch": "5m",
                "notify_at": [0.5],
                "escalate": {"after_reassignments": 2, "to": "manager"},
                **(policy or {}),
            },
        ],
    }
    doc.update(copy.deepcopy(overrides))
    return doc


def make_config(policy: dict[str, Any] | None = None, **overrides: Any) -> RoutingConfig:
    return parse_routing_config(make_config_doc(policy, **overrides))
