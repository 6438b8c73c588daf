"""Every Kafka topic leadrouter reads or writes, declared once.

Keys and cleanup policies are part of the contract (docs/architecture.md). A state topic is
co-partitioned with the input topic it is keyed like: `STATE_TOPICS` maps each state topic to
that input, and `leadrouter topics check` holds the pairs to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Topic(StrEnum):
    INBOUND = "leads.inbound"
    ROUTING_REQUESTS = "routing.requests"
    ASSIGNMENTS = "leads.assignments"
    ACTIVITY = "leads.activity"
    ESCALATIONS = "leads.escalations"
    DEAD_LETTER = "leads.dead-letter"
    IDENTITY_STATE = "router.identity"
    IDENTITY_LINKS = "router.identity-links"
    IDENTITY_LINK_REQUESTS = "router.identity-link-requests"
    ROTATION_STATE = "router.rotation"
    SLA_TIMERS = "sla.timers"
    ROUTING_CONFIG = "routing.config"
    REPS_PRESENCE = "reps.presence"
    OWNERS = "router.owners"
    NOTIFIER_DELIVERIES = "notifier.deliveries"
    NOTIFIER_DEAD_LETTER = "notifier.dead-letter"
    ADMIN_AUDIT = "admin.audit"


RAW_TOPIC_PREFIX = "leads.raw."
RAW_CHANNELS = ("email", "sms", "chat", "form")


def raw_topic(channel: str) -> str:
    """The topic upstream systems publish a channel's own payloads to."""
    return f"{RAW_TOPIC_PREFIX}{channel}"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    compacted: bool
    single_partition: bool = False
    """Global tables every instance reads whole (config, presence) need no more than one."""


def topic_specs() -> tuple[TopicSpec, ...]:
    """Every topic `leadrouter topics create` makes, raw front-door topics included."""
    compacted = {
        Topic.IDENTITY_STATE,
        Topic.IDENTITY_LINKS,
        Topic.ROTATION_STATE,
        Topic.SLA_TIMERS,
        Topic.ROUTING_CONFIG,
        Topic.REPS_PRESENCE,
        Topic.OWNERS,
        Topic.NOTIFIER_DELIVERIES,
    }
    single = {Topic.ROUTING_CONFIG, Topic.REPS_PRESENCE}
    specs = [TopicSpec(t.value, t in compacted, t in single) for t in Topic]
    specs += [TopicSpec(raw_topic(c), compacted=False) for c in RAW_CHANNELS]
    return tuple(specs)


STATE_TOPICS: dict[str, str] = {
    Topic.IDENTITY_STATE: Topic.INBOUND,
    Topic.IDENTITY_LINKS: Topic.INBOUND,
    Topic.ROTATION_STATE: Topic.ROUTING_REQUESTS,
    Topic.SLA_TIMERS: Topic.ASSIGNMENTS,
    Topic.NOTIFIER_DELIVERIES: Topic.ASSIGNMENTS,
}
"""State topic -> the input topic whose partitioning it shares."""

CO_PARTITIONED_INPUTS: tuple[tuple[str, str], ...] = (
    (Topic.INBOUND, Topic.IDENTITY_LINK_REQUESTS),
    (Topic.ASSIGNMENTS, Topic.ACTIVITY),
    (Topic.ASSIGNMENTS, Topic.ESCALATIONS),
)
"""Input topics read together by one processor, so they need equal partition counts."""
