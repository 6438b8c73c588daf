"""The router's two processors wired onto the exactly-once loop, one loop per thread.

    leads.inbound    -> triage (state router.identity)  -> routing.requests
    routing.requests -> assign (state router.rotation)   -> leads.assignments, router.owners,
                                                            routing.requests (fallbacks)

Each processor follows `routing.config` through its own table (a table belongs to one loop);
assign also follows `reps.presence`. Both loops take the same instance slot, so a restarted
process fences its predecessor's two transactional ids and takes its partitions straight back.
If either loop stops on an error the other is stopped too and the process exits non-zero: a
half-running router would leave one stage silently idle.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric
from pydantic_settings import SettingsConfigDict

from services.leads.events import RepPresence
from services.leads.topics import Topic
from services.router.assign import AssignHandler, AssignTopics
from services.router.config_source import ActiveConfig, config_table
from services.router.metrics import RouterMetrics
from services.router.presence import PresenceBook, PresenceView
from services.router.rotation_serde import rotation_serde
from services.router.triage import build_triage_processor
from services.streaming.admin import require_co_partitioned
from services.streaming.codec import AvroCodec
from services.streaming.env_settings import EnvSettings
from services.streaming.errors import DecodeError
from services.streaming.loop import LoopSettings, Processor, TransactionalLoop
from services.streaming.records import Clock, Serde, SystemClock
from services.streaming.settings import KafkaSettings
from services.streaming.state import StateStore
from services.streaming.tables import GlobalTable

log = logging.getLogger(__name__)

ASSIGN_APP_ID = "leadrouter-assign"


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
    kafka: KafkaSettings, registry: CollectorRegistry, clock: Clock
) -> Processor:
    """The assign processor; FatalError if routing.requests and router.rotation differ."""
    topics = AssignTopics(
        requests=kafka.topic(Topic.ROUTING_REQUESTS),
        assignments=kafka.topic(Topic.ASSIGNMENTS),
        owners=kafka.topic(Topic.OWNERS),
    )
    store = StateStore(kafka.topic(Topic.ROTATION_STATE), rotation_serde())
    require_co_partitioned(kafka, [topics.requests, store.topic])
    active = ActiveConfig(config_table(kafka))
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


class MergedRegistries:
    """One /metrics view over several registries, merging families that share a name.

    Each loop registers the runtime metrics in a registry of its own (they would collide in
    one); their samples carry an `app` label, so merging them by family name is lossless.
    """

    def __init__(self, registries: Iterable[CollectorRegistry]) -> None:
        self.registries = tuple(registries)

    def collect(self) -> Iterator[Metric]:
        merged: dict[str, Metric] = {}
        for registry in self.registries:
            for family in registry.collect():
                seen = merged.get(family.name)
                if seen is None:
                    merged[family.name] = family
                else:
                    seen.samples.extend(family.samples)
        yield from merged.values()


@dataclass
class Router:
    """The loops of one router process and the registry that serves their metrics."""

    loops: list[TransactionalLoop]
    registry: CollectorRegistry
    failures: list[BaseException] = field(default_factory=list)

    def run(self) -> None:
        """Run every loop in its own thread until all stop; re-raise the first failure."""
        threads = [
            threading.Thread(target=self._run_one, args=(loop,), name=loop.p.app_id)
            for loop in self.loops
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.failures:
            raise self.failures[0]

    def stop(self, *_: object) -> None:
        for loop in self.loops:
            loop.stop()

    def _run_one(self, loop: TransactionalLoop) -> None:
        try:
            loop.run()
        except BaseException as exc:
            log.exception("%s stopped on an error; stopping the router", loop.p.app_id)
            self.failures.append(exc)
            self.stop()


def build_router(
    kafka: KafkaSettings,
    settings: RouterSettings,
    *,
    instance: int,
    stage: Stage = Stage.ALL,
    clock: Clock | None = None,
) -> Router:
    clock = clock or SystemClock()
    loop_settings = LoopSettings(
        instance=instance,
        commit_interval_ms=settings.commit_interval_ms,
        session_timeout_ms=settings.session_timeout_ms,
    )
    registries: list[CollectorRegistry] = []
    loops = []
    if stage in (Stage.ALL, Stage.TRIAGE):
        registry = CollectorRegistry()
        processor = build_triage_processor(kafka, registry=registry)
        loops.append(TransactionalLoop(processor, kafka, loop_settings, registry, clock))
        registries.append(registry)
    if stage in (Stage.ALL, Stage.ASSIGN):
        registry = CollectorRegistry()
        processor = build_assign_processor(kafka, registry, clock)
        loops.append(TransactionalLoop(processor, kafka, loop_settings, registry, clock))
        registries.append(registry)
    served = CollectorRegistry(auto_describe=False)
    served.register(MergedRegistries(registries))
    return Router(loops, served)
