"""The open transaction's bookkeeping: what it consumed, what to commit, where to rewind."""

from __future__ import annotations

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

    def add(self, record: InputRecord) -> None:
        partition = (record.topic, record.partition)
        self.first_offsets.setdefault(partition, record.offset)
        self.next_offsets[partition] = record.offset + 1
        self.count += 1

    def offsets(self) -> list[TopicPartition]:
        return [TopicPartition(t, p, o) for (t, p), o in self.next_offsets.items()]

    def rewind_points(self, owned: set[int]) -> list[TopicPartition]:
        return [TopicPartition(t, p, o) for (t, p), o in self.first_offsets.items() if p in owned]


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
    pairs = raw.items() if isinstance(raw, dict) else (raw or ())
    return tuple(
        (name, value if isinstance(value, bytes) else (value or "").encode())
        for name, value in pairs
    )
