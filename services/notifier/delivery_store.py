"""`notifier.deliveries`: every delivery's standing, a state store committed with the offsets.

Keyed by notification id, co-partitioned with `leads.assignments` (the partition of the event
that made the delivery). A pending entry is work for the sender; a sent one is the record that
stops a re-send after any restart; a dead one was dead-lettered. Finished entries are purged
after the retention period (tombstones), by which time no input can make them again.

Beside the committed map the store keeps, per partition, the ids of pending entries, so the
sender stage finds due work without reading every entry each tick. The index only ever holds
too much (an id is dropped when it is seen finished), and is rebuilt from the committed map
after a rollback, so it never misses a pending entry.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict

from services.leads.notification_config import NotificationEvent
from services.notifier.deliveries import Delivery, Status
from services.streaming.records import Serde
from services.streaming.state import StateStore


def encode(delivery: Delivery) -> bytes:
    return json.dumps(asdict(delivery), separators=(",", ":")).encode()


def decode(data: bytes) -> Delivery:
    fields = json.loads(data)
    fields["status"] = Status(fields["status"])
    fields["event_type"] = NotificationEvent(fields["event_type"])
    return Delivery(**fields)


class DeliveryStore(StateStore[Delivery]):
    def __init__(self, topic: str) -> None:
        super().__init__(topic, Serde(encode=encode, decode=decode))
        self._open: dict[int, set[str]] = {}

    def put(self, partition: int, key: str, value: Delivery) -> None:
        super().put(partition, key, value)
        if value.status is Status.PENDING:
            self._open.setdefault(partition, set()).add(key)

    def pending(self, partition: int) -> Iterator[Delivery]:
        """The partition's pending deliveries, pending writes included, in id order."""
        ids = self._open.get(partition, set())
        for key in sorted(ids):
            delivery = self.get(partition, key)
            if delivery is None or delivery.status is not Status.PENDING:
                ids.discard(key)
                continue
            yield delivery

    def pending_count(self) -> int:
        return sum(len(ids) for ids in self._open.values())

    def finished_before(self, partition: int, cutoff_ms: int) -> list[str]:
        """Ids of sent or dead entries finished before `cutoff_ms`: a full scan, run rarely."""
        return [
            key
            for key, delivery in self.items(partition)
            if delivery.finished_at_ms is not None and delivery.finished_at_ms < cutoff_ms
        ]

    def rollback(self) -> None:
        super().rollback()
        for partition in self.partitions:
            self._reindex(partition)

    def adopt(self, partition: int, entries: dict[str, Delivery] | None = None) -> None:
        super().adopt(partition, entries)
        self._reindex(partition)

    def drop(self, partitions: Iterable[int]) -> None:
        partitions = list(partitions)
        super().drop(partitions)
        for partition in partitions:
            self._open.pop(partition, None)

    def _reindex(self, partition: int) -> None:
        self._open[partition] = {
            key for key, d in self._committed[partition].items() if d.status is Status.PENDING
        }
