"""The broker a benchmark run uses: its own `LocalBroker` on a free port, or one given."""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from services.leads.topics import TopicSpec
from services.streaming.admin import create_topics
from services.streaming.local_broker import LocalBroker, free_port_pair
from services.streaming.settings import KafkaSettings


@contextmanager
def bench_broker(bootstrap: str | None) -> Iterator[str]:
    """Yield a bootstrap address: `bootstrap` as given, else a fresh broker stopped at the end."""
    if bootstrap:
        yield bootstrap
        return
    with tempfile.TemporaryDirectory(prefix="leadrouter-bench-") as run_dir:
        broker = LocalBroker(port=free_port_pair(), run_dir=Path(run_dir), heap="1g")
        try:
            yield broker.start()
        finally:
            broker.stop()


def warm_up(bootstrap: str) -> None:
    """Make a fresh broker create its internal topics (transactions, group offsets) now.

    The first transaction and the first offset commit on a new broker create
    `__transaction_state` and `__consumer_offsets`; without this, that one-time cost would land
    in whichever figure happens to come first.
    """
    settings = fresh_settings(bootstrap, partitions=1)
    try:
        topic = settings.topic("bench.warm-up")
        created = create_topics(settings, partitions=1, specs=[TopicSpec("bench.warm-up", False)])
        wait_for_topics(settings, {r.name for r in created})
        producer = Producer(settings.transactional_producer(f"{settings.topic_prefix}warm-up"))
        producer.init_transactions(60)
        producer.begin_transaction()
        producer.produce(topic, key=b"warm-up", value=b"warm-up")
        producer.commit_transaction(60)
        consumer = Consumer(settings.consumer(f"{settings.topic_prefix}warm-up"))
        try:
            _commit_once_the_coordinator_answers(consumer, TopicPartition(topic, 0, 1))
        finally:
            consumer.close()
    finally:
        delete_prefixed_topics(settings)


def _commit_once_the_coordinator_answers(consumer: Consumer, offset: TopicPartition) -> None:
    """The first commit creates `__consumer_offsets`; on a loaded machine its coordinator can
    answer NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS for a few seconds. Absorbing that
    here is the warm-up's job."""
    deadline = time.monotonic() + 60
    while True:
        try:
            consumer.commit(offsets=[offset], asynchronous=False)
            return
        except KafkaException as exc:
            if not exc.args[0].retriable() and exc.args[0].code() not in _COORDINATOR_MOVING:
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


_COORDINATOR_MOVING = {
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
}


def fresh_settings(bootstrap: str, partitions: int = 4) -> KafkaSettings:
    """Settings under a new topic prefix with every leadrouter topic created."""
    settings = KafkaSettings(
        bootstrap_servers=bootstrap, topic_prefix=f"bench{uuid.uuid4().hex[:8]}."
    )
    created = {r.name for r in create_topics(settings, partitions=partitions)}
    wait_for_topics(settings, created)
    return settings


def wait_for_topics(settings: KafkaSettings, names: set[str], timeout_s: float = 30.0) -> None:
    """Return once every topic in `names` shows in metadata with leaders for its partitions."""
    admin = AdminClient(settings.admin())
    deadline = time.monotonic() + timeout_s
    while True:
        topics = admin.list_topics(timeout=10).topics
        ready = {
            name
            for name in names
            if name in topics
            and topics[name].error is None
            and all(p.leader >= 0 for p in topics[name].partitions.values())
        }
        if ready == names:
            return
        if time.monotonic() > deadline:
            missing = ", ".join(sorted(names - ready))
            raise RuntimeError(f"topics not ready after {timeout_s:.0f} s: {missing}")
        time.sleep(0.1)


def delete_prefixed_topics(settings: KafkaSettings) -> None:
    """Remove this run's topics, so a shared broker is left as it was found."""
    admin = AdminClient(settings.admin())
    names = [t for t in admin.list_topics(timeout=10).topics if t.startswith(settings.topic_prefix)]
    if names:
        for future in admin.delete_topics(names, operation_timeout=30).values():
            future.result()
