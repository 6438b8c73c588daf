"""Topic bootstrap and co-partitioning checks (`leadrouter topics create|check`)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from confluent_kafka import IsolationLevel, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined]
from confluent_kafka.cimpl import NewTopic

from services.leads.topics import CO_PARTITIONED_INPUTS, STATE_TOPICS, TopicSpec, topic_specs
from services.streaming.errors import FatalError, TransientError
from services.streaming.settings import KafkaSettings


@dataclass(frozen=True, slots=True)
class TopicResult:
    name: str
    partitions: int
    created: bool


def create_topics(
    settings: KafkaSettings,
    partitions: int = 4,
    replication_factor: int = 1,
    specs: Iterable[TopicSpec] | None = None,
    timeout_s: float = 30.0,
) -> list[TopicResult]:
    """Create every topic that does not exist yet; existing ones are left as they are."""
    admin = AdminClient(settings.admin())
    wanted = list(specs if specs is not None else topic_specs())
    new_topics = []
    for spec in wanted:
        config = {"cleanup.policy": "compact" if spec.compacted else "delete"}
        if spec.compacted:
            config |= {"min.cleanable.dirty.ratio": "0.1", "segment.ms": "600000"}
        count = 1 if spec.single_partition else partitions
        new_topics.append(
            NewTopic(settings.topic(spec.name), count, replication_factor, config=config)
        )
    results: list[TopicResult] = []
    futures = admin.create_topics(
        new_topics, operation_timeout=timeout_s, request_timeout=timeout_s
    )
    for topic in new_topics:
        try:
            futures[topic.topic].result()
            results.append(TopicResult(topic.topic, topic.num_partitions, created=True))
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise TransientError(f"creating {topic.topic} failed: {exc}") from exc
            results.append(TopicResult(topic.topic, topic.num_partitions, created=False))
    _wait_for_leaders(admin, [t.topic for t in new_topics], timeout_s)
    return results


def _wait_for_leaders(admin: AdminClient, topics: list[str], timeout_s: float) -> None:
    """Return once every partition of `topics` has a leader.

    CreateTopics answers before leaders are elected; a read or write in that gap fails with
    NOT_LEADER_FOR_PARTITION, so callers that use the topics at once would race.
    """
    deadline = time.monotonic() + timeout_s
    waiting = set(topics)
    while waiting:
        metadata = admin.list_topics(timeout=max(1.0, deadline - time.monotonic()))
        for name in list(waiting):
            topic = metadata.topics.get(name)
            if (
                topic is not None
                and topic.error is None
                and topic.partitions
                and all(p.leader >= 0 and p.error is None for p in topic.partitions.values())
            ):
                waiting.discard(name)
        if waiting and time.monotonic() > deadline:
            raise TransientError(f"no leader within {timeout_s:.0f} s for: {sorted(waiting)}")
        if waiting:
            time.sleep(0.1)


_LEADERLESS = (KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE)


def end_offsets(
    settings: KafkaSettings, partitions: Iterable[TopicPartition], timeout_s: float = 10.0
) -> dict[TopicPartition, int]:
    """Each partition's last stable offset: where a read_committed reader ends today.

    Asked again, for up to `timeout_s`, while a partition has no leader: just after a topic is
    made (or its broker restarted), metadata can name a leader that does not yet answer
    ListOffsets (NOT_LEADER_FOR_PARTITION). TransientError when it never answers.
    """
    admin = AdminClient(settings.admin())
    asked = {TopicPartition(tp.topic, tp.partition): OffsetSpec.latest() for tp in partitions}  # type: ignore[no-untyped-call]
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            futures = admin.list_offsets(
                asked, isolation_level=IsolationLevel.READ_COMMITTED, request_timeout=timeout_s
            )
            return {tp: future.result().offset for tp, future in futures.items()}
        except KafkaException as exc:
            error = exc.args[0]
            settling = error.retriable() or error.code() in _LEADERLESS
            if not settling or time.monotonic() > deadline:
                raise TransientError(f"cannot read the topics' end offsets: {exc}") from exc
            time.sleep(0.2)


def partition_counts(settings: KafkaSettings, timeout_s: float = 10.0) -> dict[str, int]:
    try:
        metadata = AdminClient(settings.admin()).list_topics(timeout=timeout_s)
    except KafkaException as exc:
        raise TransientError(f"cannot reach Kafka at {settings.bootstrap_servers}: {exc}") from exc
    return {name: len(t.partitions) for name, t in metadata.topics.items() if t.error is None}


def co_partitioning_problems(settings: KafkaSettings, counts: dict[str, int]) -> list[str]:
    """Every way the topics break the contract, one line each; empty when all is well."""
    problems = []
    for spec in topic_specs():
        name = settings.topic(spec.name)
        if name not in counts:
            problems.append(f"{name}: missing (run `leadrouter topics create`)")
    pairs = [(s, i) for s, i in STATE_TOPICS.items()] + list(CO_PARTITIONED_INPUTS)
    for left, right in pairs:
        a, b = settings.topic(left), settings.topic(right)
        if a in counts and b in counts and counts[a] != counts[b]:
            problems.append(
                f"{a} has {counts[a]} partitions but {b} has {counts[b]}: "
                "they must match so partition N of both moves together"
            )
    return problems


def require_co_partitioned(settings: KafkaSettings, topics: Iterable[str]) -> int:
    """The common partition count of `topics`, or FatalError: never start on a broken layout."""
    counts = partition_counts(settings)
    found = {t: counts.get(t) for t in topics}
    missing = [t for t, n in found.items() if n is None]
    if missing:
        raise FatalError(f"topics missing: {', '.join(missing)} (run `leadrouter topics create`)")
    if len(set(found.values())) != 1:
        listing = ", ".join(f"{t}={n}" for t, n in found.items())
        raise FatalError(f"topics must have equal partition counts to work together: {listing}")
    return next(n for n in found.values() if n is not None)
