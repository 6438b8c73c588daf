"""Dead letters: input a service cannot process, kept whole with the reason and provenance.

The record goes to `leads.dead-letter` inside the same transaction that moves the input offset,
so a dead letter is never lost and never written twice. Headers carry the provenance too, so an
operator can filter without decoding.
"""

from __future__ import annotations

from functools import cache

from services.leads.events import DeadLetter
from services.streaming.codec import AvroCodec
from services.streaming.errors import PermanentError
from services.streaming.records import InputRecord, OutputRecord


@cache
def dead_letter_codec() -> AvroCodec[DeadLetter]:
    return AvroCodec(DeadLetter)


def dead_letter_record(
    topic: str, service: str, record: InputRecord, error: PermanentError, now_ms: int
) -> OutputRecord:
    letter = DeadLetter(
        service=service,
        reason=error.reason,
        detail=error.detail,
        original_topic=record.topic,
        original_partition=record.partition,
        original_offset=record.offset,
        original_key=record.key,
        original_value=record.value,
        failed_at_ms=now_ms,
    )
    key = record.key or f"{record.topic}/{record.partition}/{record.offset}".encode()
    headers = (
        ("original_topic", record.topic.encode()),
        ("original_partition", str(record.partition).encode()),
        ("original_offset", str(record.offset).encode()),
        ("error", error.reason.encode()),
    )
    return OutputRecord(topic, key, dead_letter_codec().encode(letter), headers)
