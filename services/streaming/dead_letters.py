"""Dead letters: input a service cannot process, kept whole with the reason and provenance.

The record goes to `leads.dead-letter` inside the same transaction that moves the input offset,
so a dead letter is never lost and never written twice. Headers carry the provenance too, so an
operator can filter without decoding.
"""

from __future__ import annotations

import logging
from functools import cache

from prometheus_client import Counter

from services.leads.events import DeadLetter
from services.streaming.codec import AvroCodec
from services.streaming.errors import FatalError, PermanentError
from services.streaming.records import InputRecord, OutputRecord

log = logging.getLogger(__name__)


@cache
def dead_letter_codec() -> AvroCodec[DeadLetter]:
    return AvroCodec(DeadLetter)


def dead_letter_record(
    topic: str,
    service: str,
    record: InputRecord,
    error: PermanentError,
    now_ms: int,
    *,
    keep_bytes: bool = True,
) -> OutputRecord:
    """`keep_bytes=False` when the bytes themselves cannot be written: the letter then names
    where they are (topic, partition, offset) instead of carrying them."""
    letter = DeadLetter(
        service=service,
        reason=error.reason,
        detail=error.detail,
        original_topic=record.topic,
        original_partition=record.partition,
        original_offset=record.offset,
        original_key=record.key if keep_bytes else None,
        original_value=record.value if keep_bytes else None,
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


class DeadLetterSink:
    """Turns a handler's PermanentError into a dead letter, behind a breaker.

    After `max_consecutive` failures in a row the sink stops the service (FatalError): when
    everything fails, something upstream is broken, and dead-lettering it all would hide that.
    Without a dead-letter topic any failure stops the service: bad input is never dropped.
    """

    def __init__(
        self, topic: str | None, service: str, max_consecutive: int, counter: Counter
    ) -> None:
        self.topic, self.service = topic, service
        self.max_consecutive = max_consecutive
        self.counter = counter
        self.consecutive = 0

    def handled(self) -> None:
        self.consecutive = 0

    def letter(
        self, record: InputRecord, error: PermanentError, now_ms: int, *, keep_bytes: bool = True
    ) -> OutputRecord:
        self.consecutive += 1
        if self.consecutive >= self.max_consecutive:
            raise FatalError(
                f"{self.consecutive} records in a row failed ({error.reason}): stopping"
            )
        if self.topic is None:
            raise FatalError(f"no dead-letter topic configured and a record failed: {error}")
        self.counter.labels(app=self.service, reason=error.reason).inc()
        log.warning(
            "dead-lettered %s[%d]@%d: %s",
            record.topic,
            record.partition,
            record.offset,
            error.reason,
        )
        return dead_letter_record(
            self.topic, self.service, record, error, now_ms, keep_bytes=keep_bytes
        )
