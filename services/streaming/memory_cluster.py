"""The state of the in-memory broker twin: partition logs, transactions, consumer groups,
and the failures a test has queued (see memory_broker.py for what the twin models)."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from confluent_kafka import KafkaError, KafkaException, Message

if TYPE_CHECKING:
    from services.streaming.memory_consumer import MemoryConsumer

Partition = tuple[str, int]
TxnState = Literal["open", "committed", "aborted"]


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (Java `Utils.murmur2`) as an unsigned 32-bit value."""
    m, mask = 0x5BD1E995, 0xFFFFFFFF
    h = (0x9747B28C ^ len(data)) & mask
    whole = len(data) - len(data) % 4
    for i in range(0, whole, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * m) & mask
        k ^= k >> 24
        k = (k * m) & mask
        h = ((h * m) & mask) ^ k
    tail = data[whole:]
    if len(tail) == 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if tail:
        h ^= tail[0]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    return h ^ (h >> 15)


def key_partition(key: bytes, partitions: int) -> int:
    """Where Java's default partitioner (and librdkafka's murmur2_random) puts a keyed record."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


@dataclass(eq=False)
class Transaction:
    transactional_id: str
    state: TxnState = "open"
    partitions: set[Partition] = field(default_factory=set)
    offsets: dict[str, dict[Partition, int]] = field(default_factory=dict)
    """Per consumer group, the offsets to commit with the transaction."""
    failure: KafkaError | None = None
    """Set when the broker refused one of its records: the transaction can only abort."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One offset of a partition's log: a record, or a transaction marker."""

    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    timestamp_ms: int
    txn: Transaction | None = None
    marker: bool = False

    def message(self, topic: str, partition: int, offset: int) -> Message:
        return Message(
            topic=topic,
            partition=partition,
            offset=offset,
            key=self.key,
            value=self.value,
            headers=list(self.headers) or None,
            timestamp=(1, self.timestamp_ms),  # TIMESTAMP_CREATE_TIME
        )


@dataclass
class Topic:
    partitions: list[list[Entry]]
    max_message_bytes: int | None = None
    open_since: list[dict[Transaction, int]] = field(default_factory=list)
    """Per partition, the first offset of each open transaction: the oldest bounds reading."""


@dataclass(frozen=True, slots=True)
class GroupMetadata:
    """What `consumer_group_metadata()` returns: the group a transaction commits offsets to."""

    group_id: str


@dataclass
class Group:
    committed: dict[Partition, int] = field(default_factory=dict)
    members: list[MemoryConsumer] = field(default_factory=list)
    generation: int = 0
    rejoined: set[int] = field(default_factory=set)
    """ids of the members that have revoked what they held in this generation."""
    assignments: dict[int, list[Partition]] | None = None
    """This generation's assignment, once every member has rejoined."""


def kafka_error(code: int, reason: str, **flags: bool) -> KafkaException:
    return KafkaException(KafkaError(code, reason, **flags))


class Cluster:
    """Topics, transactions and groups in memory, shared by the twin's clients."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        """Notified whenever something becomes readable or a group changes."""
        self.topics: dict[str, Topic] = {}
        self.groups: dict[str, Group] = {}
        self.epochs: dict[str, int] = {}
        """Per transactional.id, the epoch of the producer allowed to use it."""
        self.open: dict[str, Transaction] = {}
        """Per transactional.id, its open transaction."""
        self._faults: dict[str, list[KafkaError | BufferError]] = {}
        self._round_robin = itertools.count()

    def fence(self, transactional_id: str) -> None:
        """What a newer producer with this transactional.id does to the current one."""
        with self.lock:
            self.epochs[transactional_id] = self.epochs.get(transactional_id, 0) + 1
            txn = self.open.pop(transactional_id, None)
            if txn is not None:
                self.end(txn, "aborted")

    # -- what the clients use ----------------------------------------------------------------
    def injected(self, call: str) -> KafkaError | None:
        """The failure queued for `call`, if any; a queued BufferError is raised here."""
        with self.lock:
            queued = self._faults.get(call)
            fault = queued.pop(0) if queued else None
        if isinstance(fault, BufferError):
            raise fault
        return fault

    def topic(self, name: str) -> Topic:
        try:
            return self.topics[name]
        except KeyError:
            raise kafka_error(KafkaError._UNKNOWN_TOPIC, f"unknown topic {name}") from None

    def append(self, topic: str, partition: int, entry: Entry) -> int:
        log = self.topics[topic].partitions[partition]
        log.append(entry)
        if entry.txn is not None and not entry.marker:
            self.topics[topic].open_since[partition].setdefault(entry.txn, len(log) - 1)
        self.changed.notify_all()
        return len(log) - 1

    def next_partition(self, topic: Topic, key: bytes | None) -> int:
        if key is None:
            return next(self._round_robin) % len(topic.partitions)
        return key_partition(key, len(topic.partitions))

    def end(self, txn: Transaction, outcome: TxnState) -> None:
        """Write the commit or abort marker in every partition the transaction touched."""
        txn.state = outcome
        for name, number in sorted(txn.partitions):
            topic = self.topics[name]
            topic.open_since[number].pop(txn, None)
            self.append(name, number, Entry(None, None, (), now_ms(), txn, marker=True))
        if outcome == "committed":
            for group_id, offsets in txn.offsets.items():
                self.groups.setdefault(group_id, Group()).committed.update(offsets)
        self.changed.notify_all()

    def stable_end(self, topic: str, partition: int) -> int:
        """The last stable offset: read_committed consumers read up to here."""
        t = self.topics[topic]
        return min(t.open_since[partition].values(), default=len(t.partitions[partition]))

    def join(self, group_id: str, member: MemoryConsumer) -> Group:
        group = self.groups.setdefault(group_id, Group())
        if member not in group.members:
            group.members.append(member)
        self.bump(group)
        return group

    def leave(self, member: MemoryConsumer) -> None:
        group = self.groups.get(member.group_id)
        if group is not None and member in group.members:
            group.members.remove(member)
            self.bump(group)

    def bump(self, group: Group) -> None:
        group.generation += 1
        group.rejoined = set()
        group.assignments = None
        self.changed.notify_all()

    def assignment_of(self, group: Group, member: MemoryConsumer) -> list[Partition] | None:
        """The member's share of this generation, once every member has rejoined (range
        assignment per topic, members in order of joining); None while some have not."""
        if {m.member_id for m in group.members} - group.rejoined:
            return None
        if group.assignments is None:
            shares: dict[int, list[Partition]] = {m.member_id: [] for m in group.members}
            for name in sorted({t for m in group.members for t in m.subscription}):
                members = [m for m in group.members if name in m.subscription]
                count = len(self.topic(name).partitions)
                per, extra = divmod(count, len(members))
                start = 0
                for i, m in enumerate(members):
                    size = per + (1 if i < extra else 0)
                    shares[m.member_id] += [(name, p) for p in range(start, start + size)]
                    start += size
            group.assignments = shares
        return group.assignments.get(member.member_id, [])

    # -- what a test arranges ----------------------------------------------------------------


def now_ms() -> int:
    return time.time_ns() // 1_000_000
