"""Records for the projection's tests: a small routing config, a lead's life as topic records."""

from __future__ import annotations

import yaml

from services.console.projection import Applied, Record
from services.leads.events import (
    Lead,
    PresenceStatus,
    RepPresence,
    RequestKind,
    RoutingConfigRecord,
    RoutingRequest,
)
from services.leads.topics import Topic
from services.router.config_document import content_hash
from tests.unit.console.builders import candidate, make_assignment
from tests.unit.sla_watcher.builders import T0, make_activity, make_lead

REPS = ("ann", "bob", "cy")


def config_text(weights: tuple[int, ...] = (1, 1, 2)) -> str:
    doc = {
        "managers": [{"id": "maria", "name": "Maria"}],
        "reps": [{"id": r, "name": r.title(), "email": f"{r}@example.com"} for r in REPS],
        "pools": [
            {
                "id": "emea",
                "strategy": "weighted",
                "sla_policy": "quick",
                "manager": "maria",
                "members": [{"rep": r, "weight": w} for r, w in zip(REPS, weights, strict=True)],
            }
        ],
        "default_pool": "emea",
        "sla_policies": [{"id": "quick", "first_touch": "10m"}],
    }
    return yaml.safe_dump(doc, sort_keys=False)


def config_record(version: int = 1, text: str | None = None) -> RoutingConfigRecord:
    text = text or config_text()
    return RoutingConfigRecord(
        version=version, content_hash=content_hash(text), document=text,
        published_at_ms=T0, published_by="ops",
    )  # fmt: skip


def request_for(lead: Lead, reason: str = "rule dach", **fields: object) -> RoutingRequest:
    values: dict[str, object] = {
        "request_id": f"req-{lead.lead_id}", "kind": RequestKind.ASSIGN,
        "lead_id": lead.lead_id, "pool_id": "emea", "lead": lead, "reason": reason,
        "rule_id": "dach", "score": 40, "received_at_ms": lead.received_at_ms,
        "requested_at_ms": lead.received_at_ms + 5,
    }  # fmt: skip
    return RoutingRequest(**(values | fields))  # type: ignore[arg-type]


class Log:
    """Records appended per topic with their offsets, as a broker would number them."""

    def __init__(self) -> None:
        self.items: list[Applied] = []
        self.next: dict[str, int] = {}

    def add(self, topic: Topic, value: Record | None, partition: int = 0) -> Applied:
        offset = self.next.get(f"{topic}/{partition}", 0)
        self.next[f"{topic}/{partition}"] = offset + 1
        item = Applied(topic.value, partition, offset, value)
        self.items.append(item)
        return item


def day_of_leads(count: int = 6, first: int = 0) -> Log:
    """Config, presence, and `count` leads (ids from `lead-<first>`) each received, requested
    and assigned in turn; the first lead is then touched by its owner."""
    log = Log()
    log.add(Topic.ROUTING_CONFIG, config_record())
    log.add(Topic.REPS_PRESENCE, RepPresence(
        rep_id="bob", status=PresenceStatus.AWAY, until_ms=None, changed_at_ms=T0))  # fmt: skip
    for n in range(first, first + count):
        lead = make_lead(f"lead-{n}", email=f"p{n}@acme.example", phone=f"+4930000{n}")
        rep = REPS[n % 3] if n % 3 != 1 else "cy"
        log.add(Topic.INBOUND, lead, partition=n % 2)
        log.add(Topic.ROUTING_REQUESTS, request_for(lead), partition=n % 2)
        assignment = make_assignment(
            lead.lead_id, rep, received_at_ms=lead.received_at_ms, decided_at_ms=T0 + n,
            candidates=(candidate("ann"), candidate("bob", "away"), candidate("cy")),
        ).model_copy(update={"lead": lead})  # fmt: skip
        log.add(Topic.ASSIGNMENTS, assignment, partition=n % 2)
    log.add(Topic.ACTIVITY, make_activity(lead_id=f"lead-{first}", rep_id="ann"))
    return log
