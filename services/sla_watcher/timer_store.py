"""`sla.timers` as a state store that restores fast and knows which entries a tick may act on.

Restore keeps each record as its bytes and reads only its standing (`timer_serde`): when it
wakes, its status, when it last changed. An entry is decoded the first time it is asked for (an
input for its lead, or a tick it is due at) and kept decoded from then on. Beside the committed
map the store keeps every entry's standing: rebuilt on restore, updated on commit, untouched by
a rollback (the index follows the committed map, and pending writes are looked at directly), so
it never disagrees with what `sla.timers` says, and a tick, the open-timers gauge and the purge
never decode an entry they have nothing to do with.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator

from services.sla_watcher.timer_serde import Standing, TimerSerde
from services.sla_watcher.timer_state import FINISHED, SlaTimer
from services.streaming.kafka_clients import CONFLUENT, KafkaClients
from services.streaming.records import Serde
from services.streaming.settings import KafkaSettings
from services.streaming.state import StateStore, read_to_end


def timer_serde() -> Serde[SlaTimer]:
    records = TimerSerde()
    return Serde(encode=records.encode, decode=records.decode)


class TimerStore(StateStore[SlaTimer]):
    def __init__(self, topic: str) -> None:
        self._records = TimerSerde()
        super().__init__(topic, Serde(encode=self._records.encode, decode=self._records.decode))
        self._standing: dict[int, dict[str, Standing]] = {}
        """Every committed entry's standing, decoded or not."""
        self._undecoded: dict[int, dict[str, bytes]] = {}
        """Committed entries restored and not asked for since: their record's bytes."""
        self._running: dict[int, int] = {}
        """Committed entries whose first-touch clock runs."""
        self._written: dict[int, set[str]] = {}

    def get(self, partition: int, key: str) -> SlaTimer | None:
        undecoded = self._undecoded.get(partition)
        if undecoded:
            data = undecoded.get(key)
            if data is not None:
                self._committed[partition][key] = self.serde.decode(data)
                del undecoded[key]
        return super().get(partition, key)

    def waking(
        self, partition: int, until_ms: int | None = None, limit: int | None = None
    ) -> Iterator[SlaTimer]:
        """Entries of `partition` a tick may act on (`wakes_at()`) at `until_ms`, or at any time
        when None; pending writes included. At most `limit` of them, the earliest to wake first;
        yielded in key order. Only these are decoded."""
        due = self._wake_times(partition, until_ms)
        if limit is None or len(due) <= limit:
            keys = sorted(due)
        else:
            keys = sorted(
                key for _, key in heapq.nsmallest(limit, ((w, k) for k, w in due.items()))
            )
        for key in keys:  # sorted: a tick's outputs come in a reproducible order
            timer = self.get(partition, key)
            if timer is not None:
                yield timer

    def _wake_times(self, partition: int, until_ms: int | None) -> dict[str, int]:
        written = self._written.get(partition, set())
        due = {
            key: entry.wakes_at_ms
            for key, entry in self._standing.get(partition, {}).items()
            if entry.wakes_at_ms is not None
            and (until_ms is None or entry.wakes_at_ms <= until_ms)
            and key not in written
        }
        for key in written:
            timer = self.get(partition, key)
            wakes_at = None if timer is None else timer.wakes_at()
            if wakes_at is not None and (until_ms is None or wakes_at <= until_ms):
                due[key] = wakes_at
        return due

    def running_count(self, partition: int) -> int:
        """Timers of `partition` whose first-touch clock is running, pending writes included."""
        count = self._running.get(partition, 0)
        standing = self._standing.get(partition, {})
        for key in self._written.get(partition, ()):
            before = standing.get(key)
            timer = self.get(partition, key)
            count -= before is not None and before.running
            count += timer is not None and Standing.of(timer).running
        return count

    def finished_before(self, partition: int, cutoff_ms: int) -> list[str]:
        """Keys of finished entries (`FINISHED`) last changed before `cutoff_ms`, pending writes
        included, in key order."""
        written = self._written.get(partition, set())
        idle = [
            key
            for key, entry in self._standing.get(partition, {}).items()
            if key not in written and entry.status in FINISHED and entry.updated_at_ms < cutoff_ms
        ]
        for key in written:
            timer = self.get(partition, key)
            if timer is not None and timer.status in FINISHED and timer.updated_at_ms < cutoff_ms:
                idle.append(key)
        return sorted(idle)

    def items(self, partition: int) -> Iterator[tuple[str, SlaTimer]]:
        """Every live entry, decoded: for tests and tools, never a tick."""
        for key in list(self._undecoded.get(partition, ())):
            self.get(partition, key)
        return super().items(partition)

    def __len__(self) -> int:
        return super().__len__() + sum(len(p) for p in self._undecoded.values())

    # -- keeping the index in step with the committed map ------------------------------------
    def put(self, partition: int, key: str, value: SlaTimer) -> None:
        super().put(partition, key, value)
        self._written.setdefault(partition, set()).add(key)

    def delete(self, partition: int, key: str) -> None:
        super().delete(partition, key)
        self._written.setdefault(partition, set()).add(key)

    def commit(self) -> None:
        for partition, keys in self._written.items():
            undecoded = self._undecoded.get(partition, {})
            for key in keys:
                undecoded.pop(key, None)  # what commits now supersedes the restored bytes
        super().commit()
        for partition, keys in self._written.items():
            if partition not in self.partitions:
                continue  # revoked while the transaction was open
            standing = self._standing.setdefault(partition, {})
            running = self._running.get(partition, 0)
            for key in keys:
                before = standing.pop(key, None)
                running -= before is not None and before.running
                timer = self.get(partition, key)
                if timer is not None:
                    standing[key] = now = Standing.of(timer)
                    running += now.running
            self._running[partition] = running
        self._written.clear()

    def rollback(self) -> None:
        super().rollback()
        self._written.clear()

    def restore(
        self, settings: KafkaSettings, partitions: Iterable[int], clients: KafkaClients = CONFLUENT
    ) -> int:
        """Read each partition from the beginning to its high watermark, keeping records as
        bytes (see the module docstring); returns records read."""
        wanted = sorted(set(partitions) - self.partitions)
        if not wanted:
            return 0
        records: dict[int, dict[str, bytes]] = {p: {} for p in wanted}

        def keep(partition: int, key: bytes | None, value: bytes | None) -> None:
            if key is None:
                return
            if value is None:
                records[partition].pop(key.decode(), None)
            else:
                records[partition][key.decode()] = value

        count = read_to_end(settings, self.topic, wanted, keep, clients=clients)
        for partition, entries in records.items():
            self.adopt_records(partition, entries)
        return count

    def adopt_records(self, partition: int, records: dict[str, bytes]) -> None:
        """Own `partition` with these committed records, decoding only those an older schema
        wrote (their standing is not where this one keeps it)."""
        standing: dict[str, Standing] = {}
        undecoded: dict[str, bytes] = {}
        decoded: dict[str, SlaTimer] = {}
        for key, data in records.items():
            entry = self._records.standing(data)
            if entry is None:
                decoded[key] = timer = self.serde.decode(data)
                entry = Standing.of(timer)
            else:
                undecoded[key] = data
            standing[key] = entry
        self._own(partition, decoded, standing, undecoded)

    def adopt(self, partition: int, entries: dict[str, SlaTimer] | None = None) -> None:
        entries = entries or {}
        standing = {key: Standing.of(timer) for key, timer in entries.items()}
        self._own(partition, entries, standing, {})

    def _own(
        self,
        partition: int,
        decoded: dict[str, SlaTimer],
        standing: dict[str, Standing],
        undecoded: dict[str, bytes],
    ) -> None:
        super().adopt(partition, decoded)
        self._written.pop(partition, None)
        self._standing[partition] = standing
        self._undecoded[partition] = undecoded
        self._running[partition] = sum(entry.running for entry in standing.values())

    def drop(self, partitions: Iterable[int]) -> None:
        partitions = list(partitions)
        super().drop(partitions)
        for partition in partitions:
            self._standing.pop(partition, None)
            self._undecoded.pop(partition, None)
            self._running.pop(partition, None)
            self._written.pop(partition, None)
