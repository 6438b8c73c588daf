"""The open transaction's bookkeeping: what it consumed, what to commit, where to rewind."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from confluent_kafka import Message, TopicPartition

from services.streaming.records import Headers, InputRecord


@dataclass
class Batch:
    started: float
    """When the transaction began, on the loop's monotonic clock."""
    count: int = 0
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    """Per input partition, the offset to commit with the transaction (last handled + 1)."""
    first_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    """Per input partition, where to seek back to if the transaction aborts."""
    alone: InputRecord | None = None
    """The one input record of a transaction that isolates it (see isolation.py)."""
    per_topic: dict[str, int] = field(default_factory=dict)
    """Records handled per input topic: the loop adds them to its counter once, at commit."""

    def add(self, record: InputRecord) -> None:
        partition = (record.topic, record.partition)
        self.first_offsets.setdefault(partition, record.offset)
        self.next_offsets[partition] = record.offset + 1
        self.count += 1
        self.per_topic[record.topic] = self.per_topic.get(record.topic, 0) + 1

    def offsets(self) -> list[TopicPartition]:
        return [TopicPartition(t, p, o) for (t, p), o in self.next_offsets.items()]


def uncommitted(batch: Batch | None, unhandled: Sequence[Message]) -> dict[tuple[str, int], range]:
    """Per input partition, the offsets taken from the consumer and not committed: those the
    open batch handled, and those taken but not handled yet. An abort rewinds to each start."""
    spans: dict[tuple[str, int], range] = {}
    if batch is not None:
        for partition, first in batch.first_offsets.items():
            spans[partition] = range(first, batch.next_offsets.get(partition, first + 1))
    for message in unhandled:
        if message.error() is not None:
            continue
        partition = (message.topic() or "", message.partition() or 0)
        offset = message.offset() or 0
        span = spans.get(partition)
        if span is None:
            spans[partition] = range(offset, offset + 1)
        else:
            spans[partition] = range(min(span.start, offset), max(span.stop, offset + 1))
    return spans


def input_record(message: Message) -> InputRecord:
    """A consumed Kafka message as the plain value a handler receives."""
    return InputRecord(
        topic=message.topic() or "",
        partition=message.partition() or 0,
        offset=message.offset() or 0,
        key=message.key(),
        value=message.value(),
        timestamp_ms=message.timestamp()[1],
        headers=_headers(message),
    )


def _headers(message: Message) -> Headers:
    raw = message.headers()
    if not raw:
        return ()
    pairs = tuple(raw.items() if isinstance(raw, dict) else raw)
    for _, value in pairs:  # confluent-kafka gives bytes, or None for a header without a value
        if value.__class__ is not bytes:
            return tuple(
                (name, value if isinstance(value, bytes) else (value or "").encode())
                for name, value in pairs
            )
    return pairs  # type: ignore[return-value]  # every value checked to be bytes above
