"""Where the history comes from: `leads.inbound`, `routing.config`, `reps.presence` and
`leads.activity` on the broker, or an exported file of leads (Avro object container file, or
JSON Lines).

Leads and closes are yielded in time order and never held: a topic's partitions are each read
in offset order and merged by record time (a heap of one record per partition); a file is read
as written (an export is in time order) with each lead's `received_at_ms` as its time.
Records that do not decode are skipped and counted, as the live router dead-lettered them.
One read is held whole: `reps.presence` (compacted, bounded by reps). For the SLA projection,
`leads.assignments` and `leads.activity` are streamed merged, holding only untouched leads.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import fastavro
from confluent_kafka import Consumer, KafkaException, TopicPartition
from pydantic import ValidationError

from services.backtest.backtest import Inbound
from services.backtest.pipeline import ConfigTimeline
from services.backtest.sla_projection import TouchTimes, touch_times
from services.cli.replay_cmd import read_log
from services.leads.config_errors import ConfigInvalid
from services.leads.events import Assignment, Lead, LeadActivity, RepPresence
from services.leads.routing_config import VersionedConfig
from services.leads.topics import Topic
from services.router.app import presence_serde
from services.router.config_document import parse_config_text
from services.router.config_source import read_published
from services.sla_watcher.activity_transitions import CLOSES
from services.streaming.codec import AvroCodec
from services.streaming.errors import DecodeError, TransientError
from services.streaming.settings import KafkaSettings

AVRO_MAGIC = b"Obj\x01"
T = TypeVar("T")
Recorded = Assignment | LeadActivity


@dataclass
class Skipped:
    """Records of the history that could not be read as leads."""

    count: int = 0


def file_leads(path: Path, skipped: Skipped) -> Iterator[Inbound]:
    """Leads from an export: an Avro container file (by its magic bytes) or JSON Lines."""
    with path.open("rb") as handle:
        avro = handle.read(4) == AVRO_MAGIC
    if avro:
        with path.open("rb") as handle:
            for record in fastavro.reader(handle):
                yield from _validated(record, skipped)
        return
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                try:
                    yield from _validated(json.loads(line), skipped)
                except json.JSONDecodeError:
                    skipped.count += 1


def _validated(record: object, skipped: Skipped) -> Iterator[Inbound]:
    try:
        lead = Lead.model_validate(record)
    except ValidationError:
        skipped.count += 1
        return
    yield Inbound(lead, lead.received_at_ms)


def topic_leads(
    settings: KafkaSettings, skipped: Skipped, since_ms: int | None = None
) -> Iterator[Inbound]:
    """`leads.inbound` (read_committed, to its high watermarks) merged by record time."""
    codec = AvroCodec(Lead)

    def parse(value: bytes | None, at_ms: int) -> Inbound | None:
        try:
            return Inbound(codec.decode(value), at_ms)
        except DecodeError:
            skipped.count += 1
            return None

    yield from _merged(settings, Topic.INBOUND, since_ms, parse)


def topic_closes(settings: KafkaSettings) -> Iterator[tuple[int, str]]:
    """(record time, lead id) of each lead closed in `leads.activity`, merged by record time."""
    codec = AvroCodec(LeadActivity)

    def parse(value: bytes | None, at_ms: int) -> tuple[int, str] | None:
        try:
            event = codec.decode(value)
        except DecodeError:
            return None
        return (at_ms, event.lead_id) if event.type in CLOSES else None

    yield from _merged(settings, Topic.ACTIVITY, None, parse)


def _merged(
    settings: KafkaSettings,
    name: str,
    since_ms: int | None,
    parse: Callable[[bytes | None, int], T | None],
) -> Iterator[T]:
    topic = settings.topic(name)
    probe = Consumer(settings.reader())
    try:
        partitions = sorted(probe.list_topics(topic, timeout=10).topics[topic].partitions)
    except KafkaException as exc:
        raise TransientError(f"listing {topic}: {exc}") from exc
    finally:
        probe.close()
    streams = [_partition(settings, topic, p, since_ms) for p in partitions]
    for at_ms, value in heapq.merge(*streams, key=lambda item: item[0]):
        parsed = parse(value, at_ms)
        if parsed is not None:
            yield parsed


def _partition(
    settings: KafkaSettings, topic: str, partition: int, since_ms: int | None
) -> Iterator[tuple[int, bytes | None]]:
    """(record time, value) of one partition in offset order, from `since_ms` (or the start)."""
    consumer = Consumer(settings.reader(**{"fetch.wait.max.ms": 10}))
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
        start = low
        if since_ms is not None:
            found = consumer.offsets_for_times([TopicPartition(topic, partition, since_ms)], 10)
            start = high if found[0].offset < 0 else max(low, found[0].offset)
        consumer.assign([TopicPartition(topic, partition, start)])
        position = start
        while position < high:
            batch = consumer.consume(500, timeout=0.2)
            for m in batch:
                if m.error():
                    raise TransientError(f"reading {topic}[{partition}]: {m.error()}")
                position = (m.offset() or 0) + 1
                yield m.timestamp()[1], m.value()
            if not batch:  # transaction markers take offsets: ask where the consumer is
                position = consumer.position([TopicPartition(topic, partition)])[0].offset
    except KafkaException as exc:
        raise TransientError(f"reading {topic}[{partition}]: {exc}") from exc
    finally:
        consumer.close()


def config_history(settings: KafkaSettings) -> ConfigTimeline:
    """Every valid published version with the time it was published (invalid ones the router
    skipped, so the backtest does too)."""
    published = {}
    for version, record in read_published(settings).items():
        try:
            config = parse_config_text(record.document)
        except ConfigInvalid:
            continue
        versioned = VersionedConfig(version, record.content_hash, config)
        published[version] = (record.published_at_ms, versioned)
    return ConfigTimeline(published)


def presence_history(settings: KafkaSettings) -> list[tuple[int, RepPresence]]:
    """`reps.presence` as (record time, change); tombstones and bad records change nothing."""
    decode = presence_serde().decode
    changes = []
    for record in read_log(settings, Topic.REPS_PRESENCE):
        value = None if record.value is None else decode(record.value)
        if value is not None:
            changes.append((record.timestamp_ms, value))
    return changes


def touch_history(settings: KafkaSettings, end_ms: int) -> TouchTimes:
    """Recorded times to first touch per rep: `leads.assignments` and `leads.activity` merged
    by record time and streamed; `end_ms`: when the reading started (a lead untouched then has
    waited since its decision)."""
    decisions, events = AvroCodec(Assignment), AvroCodec(LeadActivity)

    def parse_assignment(value: bytes | None, at_ms: int) -> tuple[int, Recorded] | None:
        try:
            return at_ms, decisions.decode(value)
        except DecodeError:
            return None

    def parse_activity(value: bytes | None, at_ms: int) -> tuple[int, Recorded] | None:
        try:
            return at_ms, events.decode(value)
        except DecodeError:
            return None

    assigned = _merged(settings, Topic.ASSIGNMENTS, None, parse_assignment)
    touched = _merged(settings, Topic.ACTIVITY, None, parse_activity)
    merged = heapq.merge(assigned, touched, key=lambda item: item[0])
    return touch_times((event for _at, event in merged), end_ms)
