"""`sla.timers` as a state store that also knows which of its entries a tick may act on.

A tick must only look at timers that can fire (and parked activity that can expire), not at
every finished entry kept for late activity. This store keeps that set beside the committed
map: rebuilt on restore, updated on commit, untouched by a rollback (the set follows the
committed map, and pending writes are looked at directly), so it never disagrees with what
`sla.timers` says.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from services.sla_watcher.timer_state import SlaTimer
from services.streaming.codec import AvroCodec
from services.streaming.records import Serde
from services.streaming.state import StateStore


def timer_serde() -> Serde[SlaTimer]:
    codec = AvroCodec(SlaTimer)
    return Serde(encode=codec.encode, decode=codec.decode)


class TimerStore(StateStore[SlaTimer]):
    def __init__(self, topic: str) -> None:
        super().__init__(topic, timer_serde())
        self._waking: dict[int, set[str]] = {}
        self._written: dict[int, set[str]] = {}

    def waking(self, partition: int) -> Iterator[SlaTimer]:
        """Entries of `partition` a tick may act on (`wakes_at()`), pending writes included."""
        keys = self._waking.get(partition, set()) | self._written.get(partition, set())
        for key in sorted(keys):  # sorted: a tick's outputs come in a reproducible order
            timer = self.get(partition, key)
            if timer is not None and timer.wakes_at() is not None:
                yield timer

    def running_count(self, partition: int) -> int:
        """Timers of `partition` whose first-touch clock is running."""
        return sum(1 for timer in self.waking(partition) if timer.next_step() is not None)

    # -- keeping the running set in step with the committed map ------------------------------
    def put(self, partition: int, key: str, value: SlaTimer) -> None:
        super().put(partition, key, value)
        self._written.setdefault(partition, set()).add(key)

    def delete(self, partition: int, key: str) -> None:
        super().delete(partition, key)
        self._written.setdefault(partition, set()).add(key)

    def commit(self) -> None:
        super().commit()
        for partition, keys in self._written.items():
            if partition not in self.partitions:
                continue  # revoked while the transaction was open
            waking = self._waking.setdefault(partition, set())
            for key in keys:
                timer = self.get(partition, key)
                if timer is not None and timer.wakes_at() is not None:
                    waking.add(key)
                else:
                    waking.discard(key)
        self._written.clear()

    def rollback(self) -> None:
        super().rollback()
        self._written.clear()

    def adopt(self, partition: int, entries: dict[str, SlaTimer] | None = None) -> None:
        super().adopt(partition, entries)
        self._written.pop(partition, None)
        self._waking[partition] = {
            key for key, timer in (entries or {}).items() if timer.wakes_at() is not None
        }

    def drop(self, partitions: Iterable[int]) -> None:
        partitions = list(partitions)
        super().drop(partitions)
        for partition in partitions:
            self._waking.pop(partition, None)
            self._written.pop(partition, None)
