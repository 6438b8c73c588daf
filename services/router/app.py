"""The router's two stages wired onto the exactly-once loop.

    leads.inbound    -> triage (state router.identity,  -> routing.requests,
                      router.identity-links)             router.identity-link-requests
    router.identity-link-requests -> triage (merged into router.identity-links)
    routing.requests -> assign (state router.rotation)   -> leads.assignments, router.owners,
                                                            routing.requests (fallbacks)

By default (`--stage all`) both stages are one processor (`processor.fuse`) on one loop: one
consumer reads both inputs, and one transaction per batch commits triage's requests, assign's
assignments, both stores' writes and both inputs' offsets, with one config table shared by
the two. That needs leads.inbound, routing.requests and both state topics co-partitioned.
`--stage triage` or `--stage assign` runs one stage on a loop of its own, to scale them apart.

A stage's consumer group differs between the layouts (leadrouter-router when fused,
leadrouter-triage and leadrouter-assign when split). On start, each group takes over, per
partition, from the furthest offset any layout committed (`adopt_offsets`), so switching the
layout neither reads a lead again nor skips one; stop the old layout before starting the new.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from prometheus_client import CollectorRegistry
from pydantic_settings import SettingsConfigDict

from services.leads.events import RepPresence
from services.leads.topics import Topic
from services.router.assign import AssignHandler, AssignTopics
from services.router.config_source import ActiveConfig, config_table
from services.router.metrics import RouterMetrics
from services.router.presence import PresenceBook, PresenceView
from services.router.rotation_serde import rotation_serde
from services.router.triage import APP_ID as TRIAGE_APP_ID
from services.router.triage import build_triage_processor
from services.streaming.admin import require_co_partitioned
from services.streaming.codec import AvroCodec
from services.streaming.env_settings import EnvSettings
from services.streaming.errors import DecodeError
from services.streaming.group_offsets import adopt_offsets
from services.streaming.loop import LoopSettings, Processor, TransactionalLoop
from services.streaming.processor import fuse
from services.streaming.records import Clock, Serde, SystemClock
from services.streaming.settings import KafkaSettings
from services.streaming.state import StateStore
from services.streaming.tables import GlobalTable

log = logging.getLogger(__name__)

ASSIGN_APP_ID = "leadrouter-assign"
ROUTER_APP_ID = "leadrouter-router"


class RouterSettings(EnvSettings):
    """From `ROUTER_*` environment variables (Kafka's own come from `KAFKA_*`)."""

    model_config = SettingsConfigDict(env_prefix="ROUTER_", frozen=True)

    metrics_port: int = 9102
    commit_interval_ms: int = 100
    session_timeout_ms: int = 10_000


class Stage(StrEnum):
    ALL = "all"
    TRIAGE = "triage"
    ASSIGN = "assign"


def presence_serde() -> Serde[RepPresence | None]:
    """Avro `RepPresence`; a value that does not decode is logged and read as no record.

    `reps.presence` is written by CRMs and scripts, not only by leadrouter: one bad record must
    not stop every router from starting (the table is read whole on start), nor hide the rest.
    """
    codec = AvroCodec(RepPresence)

    def encode(presence: RepPresence | None) -> bytes:
        if presence is None:
            raise ValueError("a tombstone has no value to encode")
        return codec.encode(presence)

    def decode(data: bytes) -> RepPresence | None:
        try:
            return codec.decode(data)
        except DecodeError as exc:
            log.error("ignoring a reps.presence record that does not decode: %s", exc.detail)
            return None

    return Serde(encode=encode, decode=decode)


def presence_table(kafka: KafkaSettings) -> GlobalTable[RepPresence | None]:
    return GlobalTable(kafka, kafka.topic(Topic.REPS_PRESENCE), presence_serde())


class FollowedPresence:
    """The presence view decisions read: a book fed by the `reps.presence` table, at the
    table's position. The table moves between transactions only, so one view serves a batch
    (and is good until the table next moves); noticing a move costs one identity check per
    record."""

    def __init__(self, table: GlobalTable[RepPresence | None]) -> None:
        self.table = table
        self.book = PresenceBook()
        table.on_change.append(self.book.on_change)
        self._view = PresenceView(self.book.status_at, table.position)

    def current(self) -> PresenceView:
        if self._view.position is not self.table.position:
            self._view = PresenceView(self.book.status_at, self.table.position)
        return self._view


def build_assign_processor(
    kafka: KafkaSettings,
    registry: CollectorRegistry,
    clock: Clock,
    active: ActiveConfig | None = None,
) -> Processor:
    """The assign processor; FatalError if routing.requests and router.rotation differ.
    Without `active`, it follows `routing.config` through a table of its own."""
    topics = AssignTopics(
        requests=kafka.topic(Topic.ROUTING_REQUESTS),
        assignments=kafka.topic(Topic.ASSIGNMENTS),
        owners=kafka.topic(Topic.OWNERS),
    )
    store = StateStore(kafka.topic(Topic.ROTATION_STATE), rotation_serde())
    require_co_partitioned(kafka, [topics.requests, store.topic])
    active = active or ActiveConfig(config_table(kafka))
    presence = FollowedPresence(presence_table(kafka))
    handler = AssignHandler(
        topics=topics,
        store=store,
        config=active.current,
        presence=presence.current,
        metrics=RouterMetrics.create(registry),
        monotonic=clock.monotonic,
    )
    return Processor(
        app_id=kafka.topic(ASSIGN_APP_ID),
        inputs=[topics.requests],
        handle=handler.handle,
        stores=[store],
        tables=[active.table, presence.table],
        dead_letter_topic=kafka.topic(Topic.DEAD_LETTER),
    )


def build_router_processor(
    kafka: KafkaSettings, registry: CollectorRegistry, clock: Clock, stage: Stage = Stage.ALL
) -> Processor:
    """The processor `--stage` names: both stages fused (one loop, one transaction), or one."""
    if stage is Stage.TRIAGE:
        return build_triage_processor(kafka, registry=registry)
    if stage is Stage.ASSIGN:
        return build_assign_processor(kafka, registry, clock)
    active = ActiveConfig(config_table(kafka))  # one config for both stages of a batch
    triage = build_triage_processor(kafka, active, registry)
    assign = build_assign_processor(kafka, registry, clock, active)
    require_co_partitioned(kafka, [*triage.inputs, *assign.inputs])
    return fuse(kafka.topic(ROUTER_APP_ID), triage, assign)


def layouts(kafka: KafkaSettings) -> dict[str, tuple[str, ...]]:
    """Per router input, every consumer group that may have read it (fused or split)."""
    router, triage, assign = (kafka.topic(a) for a in (ROUTER_APP_ID, TRIAGE_APP_ID, ASSIGN_APP_ID))
    return {
        kafka.topic(Topic.INBOUND): (router, triage),
        kafka.topic(Topic.IDENTITY_LINK_REQUESTS): (router, triage),
        kafka.topic(Topic.ROUTING_REQUESTS): (router, assign),
    }


def build_router(
    kafka: KafkaSettings,
    settings: RouterSettings,
    *,
    instance: int,
    stage: Stage = Stage.ALL,
    clock: Clock | None = None,
    registry: CollectorRegistry | None = None,
) -> TransactionalLoop:
    """The router's loop, its group first taking over from any other layout's offsets."""
    clock = clock or SystemClock()
    registry = registry or CollectorRegistry()
    processor = build_router_processor(kafka, registry, clock, stage)
    adopt_offsets(kafka, processor.app_id, {t: layouts(kafka)[t] for t in processor.inputs})
    loop_settings = LoopSettings(
        instance=instance,
        commit_interval_ms=settings.commit_interval_ms,
        session_timeout_ms=settings.session_timeout_ms,
    )
    return TransactionalLoop(processor, kafka, loop_settings, registry, clock)
