"""Feeding the projection from Kafka: every partition of the projected topics, read_committed,
from the offsets the projection itself stored.

The projector belongs to no consumer group and commits nothing to Kafka: the SQLite file holds
its offsets, written with the rows they cover (`Projection.apply`), so a crash at any point
restarts from exactly the records not yet applied. A broker that goes away is waited out
(librdkafka reconnects by itself); the projector then catches up.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import cache

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    TopicPartition,
)

from services.console.projection import Applied, Projection, Record
from services.leads.events import (
    AdminAudit,
    Assignment,
    Escalation,
    Lead,
    LeadActivity,
    RepPresence,
    RoutingConfigRecord,
    RoutingRequest,
)
from services.leads.topics import Topic
from services.streaming.admin import end_offsets
from services.streaming.arrivals import arrivals
from services.streaming.codec import AvroCodec
from services.streaming.errors import DecodeError, TransientError
from services.streaming.settings import KafkaSettings

log = logging.getLogger(__name__)

PROJECTED: dict[Topic, type[Record]] = {
    Topic.INBOUND: Lead,
    Topic.ROUTING_REQUESTS: RoutingRequest,
    Topic.ASSIGNMENTS: Assignment,
    Topic.ESCALATIONS: Escalation,
    Topic.ACTIVITY: LeadActivity,
    Topic.REPS_PRESENCE: RepPresence,
    Topic.ROUTING_CONFIG: RoutingConfigRecord,
    Topic.ADMIN_AUDIT: AdminAudit,
}
"""Each topic the console reads, and the record type on it."""


@cache
def _codec(model: type[Record]) -> AvroCodec[Record]:
    return AvroCodec(model)


def decoded(topic: Topic, value: bytes | None, where: str) -> Record | None:
    """The record, or None for a tombstone or bytes that are not one (logged, then skipped).
    The log names the record's place, not the decode error: that may quote the bytes."""
    if value is None:
        return None
    try:
        return _codec(PROJECTED[topic]).decode(value)
    except DecodeError:
        log.warning("skipping an undecodable record at %s", where)
        return None


class Projector:
    def __init__(
        self,
        settings: KafkaSettings,
        projection: Projection,
        *,
        batch_records: int = 2000,
        on_applied: Callable[[int], None] = lambda _n: None,
    ) -> None:
        self.batch_records = batch_records
        self.settings = settings
        self.projection = projection
        self.on_applied = on_applied
        self.by_name = {settings.topic(t): t for t in PROJECTED}
        self.consumer = Consumer(settings.reader(**{"fetch.wait.max.ms": 100}))
        self.partitions: list[TopicPartition] = []
        self.caught_up = threading.Event()
        """Set once the projection reached the end of every partition (`/readyz`)."""

    def assign(self, timeout_s: float = 10.0) -> None:
        """Assign every partition of the projected topics, each at the offset stored for it."""
        try:
            metadata = self.consumer.list_topics(timeout=timeout_s)
        except KafkaException as exc:
            raise TransientError(f"cannot reach the broker: {exc}") from exc
        stored = self.projection.next_offsets()
        partitions = []
        for name, topic in sorted(self.by_name.items()):
            described = metadata.topics.get(name)
            if described is None or described.error is not None:
                raise TransientError(f"topic {name} is missing (run `leadrouter topics create`)")
            for partition in sorted(described.partitions):
                start = stored.get((topic.value, partition), OFFSET_BEGINNING)
                partitions.append(TopicPartition(name, partition, start))
        self.partitions = partitions
        self.consumer.assign(partitions)

    def step(self, timeout_s: float = 0.2) -> int:
        """Apply what arrives within `timeout_s` in one transaction; returns how many."""
        batch = []
        for message in arrivals(self.consumer, self.batch_records, timeout_s):
            error = message.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    log.warning("reading %s: %s", message.topic(), error.str())
                continue
            topic = self.by_name[message.topic() or ""]
            partition, offset = message.partition() or 0, message.offset() or 0
            value = decoded(topic, message.value(), f"{topic.value}[{partition}]@{offset}")
            batch.append(Applied(topic.value, partition, offset, value))
        applied = self.projection.apply(batch) if batch else 0
        if applied:
            self.on_applied(applied)
        return applied

    def end_offsets(self) -> dict[tuple[str, int], int]:
        """Per assigned partition, the offset a read_committed reader reaches today (the last
        stable offset), asked of the broker in one request."""
        ends = end_offsets(self.settings, self.partitions)
        return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}

    def reached(self, targets: dict[tuple[str, int], int]) -> bool:
        """Whether the projection has applied every partition up to `targets`."""
        stored = self.projection.next_offsets()
        for (name, partition), end in targets.items():
            topic = self.by_name[name]
            if stored.get((topic.value, partition), 0) < end and not self._past(
                name, partition, end
            ):
                return False
        return True

    def _past(self, name: str, partition: int, end: int) -> bool:
        # Transaction markers and records removed by retention take offsets no record fills:
        # the consumer's position, not the last applied offset, tells that they are behind us.
        [position] = self.consumer.position([TopicPartition(name, partition)])
        return position.offset >= end

    def run(self, stop: threading.Event) -> None:
        """Apply records until `stop` is set; a missing broker or topic is retried. Sets
        `caught_up` once the records that existed at start are applied."""
        targets: dict[tuple[str, int], int] | None = None
        while not stop.is_set():
            try:
                if not self.partitions:
                    self.assign()
                if targets is None:
                    targets = self.end_offsets()
            except TransientError as exc:
                log.warning("projection waits: %s", exc)
                stop.wait(2.0)
                continue
            applied = self.step()
            if not self.caught_up.is_set() and applied == 0 and self.reached(targets):
                self.caught_up.set()

    def close(self) -> None:
        self.consumer.close()


def catch_up(projector: Projector) -> int:
    """Apply every record written before the call; returns how many were applied.

    The end offsets are asked again once they are reached, until two answers agree (at most
    `_ASKS` times, so a topic written without pause still ends the call): a broker that has
    just made or elected a partition can answer a moment behind what it holds."""
    projector.assign()
    targets = projector.end_offsets()
    total = 0
    for _ in range(_ASKS):
        while not projector.reached(targets):
            total += projector.step(timeout_s=0.5)
        latest = projector.end_offsets()
        if latest == targets:
            break
        targets = latest
    return total


_ASKS = 3
