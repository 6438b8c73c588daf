"""Handing a topic's read position from one consumer group to another.

A service whose layout changes (the router's stages fused into one loop, or split again) reads
the same topics under another consumer group. Left alone, the new group would start from the
beginning (`auto.offset.reset=earliest`) and decide every lead again. `adopt_offsets` runs
before the group starts: per partition, the group takes the furthest offset that any group
which read the topic committed. Offsets in a partition only grow, so the furthest one is where
the topic was last read, whichever layout read it; with every layout stopped, nothing is read
twice or skipped.

Offsets are read with `isolation.level=read_uncommitted`, which asks the broker for committed
offsets without waiting for a transaction that still holds offsets (a crashed instance's):
that transaction is aborted or fenced before its offsets count, so the stable offset is the
right one, and the start never waits out a transaction timeout.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from services.streaming.errors import TransientError
from services.streaming.settings import KafkaSettings

log = logging.getLogger(__name__)

GROUP_BUSY = frozenset(
    {
        KafkaError.UNKNOWN_MEMBER_ID,
        KafkaError.ILLEGAL_GENERATION,
        KafkaError.REBALANCE_IN_PROGRESS,
        KafkaError.FENCED_INSTANCE_ID,
    }
)
"""The group has members: an instance already started, and took over before this one."""


def adopt_offsets(
    settings: KafkaSettings,
    group: str,
    readers: Mapping[str, Iterable[str]],
    timeout_s: float = 10.0,
) -> list[TopicPartition]:
    """Commit for `group`, per partition of each topic in `readers`, the furthest offset any of
    the topic's reader groups committed, where it is further than `group`'s own; returns
    what moved (nothing when the group is already running)."""
    probe = Consumer(settings.consumer(group, **{"isolation.level": "read_uncommitted"}))
    try:
        partitions = _partitions(probe, readers, timeout_s)
        own = _committed(probe, partitions, timeout_s)
        furthest = dict(own)
        for topic, groups in readers.items():
            mine = [tp for tp in partitions if tp.topic == topic]
            for other in set(groups) - {group}:
                for key, offset in _committed_by(settings, other, mine, timeout_s).items():
                    furthest[key] = max(furthest.get(key, -1), offset)
        moves = [
            TopicPartition(topic, partition, offset)
            for (topic, partition), offset in sorted(furthest.items())
            if offset > own.get((topic, partition), -1)
        ]
        if moves:
            probe.commit(offsets=moves, asynchronous=False)
            log.info("%s takes over from another layout at %s", group, _shown(moves))
        return moves
    except KafkaException as exc:
        if exc.args and exc.args[0].code() in GROUP_BUSY:
            log.info("%s is running already: its offsets are its own", group)
            return []
        raise TransientError(f"reading the offsets of {group}'s inputs: {exc}") from exc
    finally:
        probe.close()


def _partitions(
    probe: Consumer, readers: Mapping[str, Iterable[str]], timeout_s: float
) -> list[TopicPartition]:
    found = []
    for topic in readers:
        metadata = probe.list_topics(topic, timeout=timeout_s).topics.get(topic)
        if metadata is None or metadata.error is not None:
            raise TransientError(f"topic {topic} is missing (run `leadrouter topics create`)")
        found += [TopicPartition(topic, p) for p in sorted(metadata.partitions)]
    return found


def _committed(
    consumer: Consumer, partitions: list[TopicPartition], timeout_s: float
) -> dict[tuple[str, int], int]:
    """Committed offsets; a partition the group never committed is left out."""
    answered = consumer.committed(partitions, timeout=timeout_s) if partitions else []
    return {(tp.topic, tp.partition): tp.offset for tp in answered if tp.offset >= 0}


def _committed_by(
    settings: KafkaSettings, group: str, partitions: list[TopicPartition], timeout_s: float
) -> dict[tuple[str, int], int]:
    reader = Consumer(settings.consumer(group, **{"isolation.level": "read_uncommitted"}))
    try:
        return _committed(reader, partitions, timeout_s)
    finally:
        reader.close()


def _shown(moves: list[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]@{tp.offset}" for tp in moves)
