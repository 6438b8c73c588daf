"""Finding, and setting aside, the input record whose outputs the broker refuses to write.

When a transaction aborts because the broker refused a record (too large, invalid: see
`kafka_calls.RECORD_LEVEL`), the culprit is one of the batch's input records, but the error
does not say which: librdkafka sends records in batches, and a refused produce request fails
every record in it. So the loop goes back to the batch's start and takes the records it had
taken again, one per transaction ("isolated"), up to the last offset the aborted batch held.
A lone record whose transaction is refused is the culprit, and steps down one rung per refusal:

    OUTPUTS      its own outputs, as the handler made them
    LETTER       a dead letter with its original bytes
    REFERENCE    a dead letter naming topic, partition and offset, without the bytes

A refusal on the last rung means not even a small dead letter can be written: the setup is
broken and the loop stops. A transient failure (a timeout, or the epoch bump librdkafka needs
after a refusal, which fails the next transaction once) retries the same rung.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from confluent_kafka import KafkaError, Message

from services.streaming.errors import FatalError, PermanentError
from services.streaming.records import InputRecord

Partition = tuple[str, int]


class Rung(IntEnum):
    OUTPUTS = 0
    LETTER = 1
    REFERENCE = 2


class OutputsRefused(PermanentError):
    """The broker refused to write what this input record produced."""

    def __init__(self, detail: str) -> None:
        super().__init__("outputs_refused", detail)


@dataclass
class Isolation:
    until: dict[Partition, int] = field(default_factory=dict)
    """Per input partition, the last offset to take one record per transaction."""
    rungs: dict[tuple[str, int, int], tuple[Rung, str]] = field(default_factory=dict)
    """Records refused at least once: the rung to try next, and the broker's last refusal."""

    def covers(self, message: Message) -> bool:
        """Whether `message` is to be taken alone; forgets partitions it has gone past."""
        if not self.until:
            return False
        partition = (message.topic() or "", message.partition() or 0)
        last = self.until.get(partition)
        if last is None:
            return False
        if (message.offset() or 0) > last:
            del self.until[partition]
            return False
        return True

    def isolate(self, last_taken: dict[Partition, int]) -> None:
        for partition, last in last_taken.items():
            self.until[partition] = max(self.until.get(partition, -1), last)

    def rung(self, record: InputRecord) -> tuple[Rung, str]:
        return self.rungs.get((record.topic, record.partition, record.offset), (Rung.OUTPUTS, ""))

    def refused(self, record: InputRecord, error: KafkaError) -> None:
        """The record's lone transaction was refused: the next try steps down a rung."""
        rung, _ = self.rung(record)
        where = f"{record.topic}[{record.partition}]@{record.offset}"
        if rung is Rung.REFERENCE:
            raise FatalError(
                f"{where}: even a dead letter without its bytes was refused ({error.name()}): "
                "check the dead-letter topic and max.message.bytes"
            )
        refusal = f"{error.name()}: {error.str()}"
        self.rungs[record.topic, record.partition, record.offset] = (Rung(rung + 1), refusal)

    def written(self, record: InputRecord) -> None:
        self.rungs.pop((record.topic, record.partition, record.offset), None)


def refusal_error(rung: Rung, refusal: str) -> OutputsRefused:
    if rung is Rung.LETTER:
        return OutputsRefused(f"the broker refused this record's outputs ({refusal})")
    return OutputsRefused(
        f"the broker refused this record's outputs, then a dead letter carrying its bytes "
        f"({refusal}); original bytes omitted, read them at the original offset"
    )
