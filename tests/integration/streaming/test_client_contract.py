"""The contract the loop relies on, run against the in-memory twin and the real broker alike.

If the twin passes a test the broker fails (or the reverse), the twin models Kafka wrongly and
every fault-path test built on it would prove nothing.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict

import pytest
from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_INVALID,
    KafkaError,
    KafkaException,
    TopicPartition,
)

from services.streaming.errors import FatalError
from services.streaming.kafka_clients import ConsumerClient, ProducerClient
from services.streaming.loop import LoopSettings, TransactionalLoop
from services.streaming.memory_cluster import key_partition
from tests.integration.streaming.backends import Backend, values
from tests.integration.streaming.counting_app import INPUT, OUTPUT, STATE, build

pytestmark = pytest.mark.integration


def transactional(backend: Backend, name: str) -> ProducerClient:
    producer = backend.clients.producer(
        backend.settings.transactional_producer(backend.settings.topic(name))
    )
    producer.init_transactions(30)
    return producer


def settled(backend: Backend, topic: str, expected: list[bytes]) -> list[bytes | None]:
    """What read_committed shows in `topic`, read again until it is `expected` or 10 s pass:
    `commit_transaction` returns before the broker has written every marker."""
    deadline = time.monotonic() + 10
    while (seen := values(backend, topic)) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return seen


def group_consumer(backend: Backend, topic: str) -> ConsumerClient:
    """A member of the test's group, assigned partition 0 of `topic` from the beginning."""
    consumer = backend.clients.consumer(backend.settings.consumer(backend.settings.topic("g")))
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    return consumer


def test_read_committed_hides_open_and_aborted_transactions(backend: Backend) -> None:
    topic = backend.create_topic("out")
    producer = transactional(backend, "p")
    producer.begin_transaction()
    producer.produce(topic, value=b"aborted", partition=0)
    producer.abort_transaction(30)
    producer.begin_transaction()
    producer.produce(topic, value=b"committed later", partition=0)
    producer.flush(10)
    assert values(backend, topic) == []
    producer.commit_transaction(30)
    assert settled(backend, topic, [b"committed later"]) == [b"committed later"]


def test_commit_makes_outputs_and_offsets_visible_together(backend: Backend) -> None:
    source, out = backend.create_topic("in"), backend.create_topic("out")
    plain = backend.clients.producer(backend.settings.producer())
    plain.produce(source, value=b"input", partition=0)
    plain.flush(10)
    consumer = group_consumer(backend, source)
    producer = transactional(backend, "p")
    producer.begin_transaction()
    producer.produce(out, value=b"output", partition=0)
    producer.send_offsets_to_transaction(
        [TopicPartition(source, 0, 1)], consumer.consumer_group_metadata(), 30
    )
    producer.flush(10)
    assert values(backend, out) == []
    with pytest.raises(KafkaException):  # the broker holds offsets of an open transaction back
        consumer.committed([TopicPartition(source, 0)], 2)
    producer.commit_transaction(30)
    assert (
        settled(backend, out, [b"output"]),
        consumer.committed([TopicPartition(source, 0)], 10)[0].offset,
    ) == (
        [b"output"],
        1,
    )
    consumer.close()


def test_abort_leaves_neither_outputs_nor_offsets(backend: Backend) -> None:
    source, out = backend.create_topic("in"), backend.create_topic("out")
    consumer = group_consumer(backend, source)
    producer = transactional(backend, "p")
    producer.begin_transaction()
    producer.produce(out, value=b"output", partition=0)
    producer.send_offsets_to_transaction(
        [TopicPartition(source, 0, 1)], consumer.consumer_group_metadata(), 30
    )
    producer.abort_transaction(30)
    assert (
        values(backend, out),
        consumer.committed([TopicPartition(source, 0)], 10)[0].offset,
    ) == (
        [],
        OFFSET_INVALID,
    )
    consumer.close()


def test_a_producer_with_the_same_transactional_id_fences_the_old_one(backend: Backend) -> None:
    topic = backend.create_topic("out")
    old = transactional(backend, "slot-0")
    old.begin_transaction()
    old.produce(topic, value=b"from the old instance", partition=0)
    old.flush(10)
    new = transactional(backend, "slot-0")
    with pytest.raises(KafkaException) as raised:
        old.produce(topic, value=b"after fencing", partition=0)
        old.commit_transaction(30)
    error: KafkaError = raised.value.args[0]
    assert (error.code(), error.fatal()) == (KafkaError._FENCED, True)
    new.begin_transaction()
    new.produce(topic, value=b"from the new instance", partition=0)
    new.commit_transaction(30)
    assert settled(backend, topic, [b"from the new instance"]) == [b"from the new instance"]


def test_position_past_markers_reaches_the_high_watermark(backend: Backend) -> None:
    topic = backend.create_topic("out")
    producer = transactional(backend, "p")
    for outcome in ("commit", "abort", "commit"):
        producer.begin_transaction()
        producer.produce(topic, value=outcome.encode(), partition=0)
        producer.flush(10)  # an abort purges what is still queued: it would take no offset
        if outcome == "commit":
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)
    reader = backend.clients.consumer(backend.settings.reader())
    reader.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    seen = [m.offset() for m in reader.consume(10, timeout=5) if m.error() is None]
    _, high = reader.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    position = reader.position([TopicPartition(topic, 0)])[0].offset
    reader.close()
    # three records and three markers: the last record is at 4, the end is 6
    assert (seen, position, high) == ([0, 4], 6, 6)


def test_a_record_over_the_producers_max_is_refused_at_once(backend: Backend) -> None:
    topic = backend.create_topic("out")
    producer = transactional(backend, "p")
    producer.begin_transaction()
    with pytest.raises(KafkaException) as raised:
        producer.produce(topic, value=b"x" * 1_100_000, partition=0)
    error: KafkaError = raised.value.args[0]
    assert (error.code(), error.txn_requires_abort()) == (KafkaError.MSG_SIZE_TOO_LARGE, False)
    producer.produce(topic, value=b"small", partition=0)
    producer.commit_transaction(30)
    assert settled(backend, topic, [b"small"]) == [b"small"]


def test_a_record_over_the_topics_max_fails_the_commit_as_abortable(backend: Backend) -> None:
    topic = backend.create_topic("small", max_message_bytes=2000)
    producer = transactional(backend, "p")
    producer.begin_transaction()
    producer.produce(topic, value=b"fits", partition=0)
    producer.produce(topic, value=b"y" * 3000, partition=0)
    with pytest.raises(KafkaException) as raised:
        producer.commit_transaction(30)
    error: KafkaError = raised.value.args[0]
    assert (error.code(), error.txn_requires_abort()) == (KafkaError.MSG_SIZE_TOO_LARGE, True)
    producer.abort_transaction(30)
    assert values(backend, topic) == []


def test_a_key_lands_on_the_partition_java_would_pick(backend: Backend) -> None:
    topic = backend.create_topic("keyed", partitions=3)
    producer = backend.clients.producer(backend.settings.producer())
    landed: dict[bytes, int] = {}
    for key in (b"a", b"lead-1", b"pool-7", b"21", b"xyz123", b"sofia@example.com"):
        producer.produce(
            topic,
            key=key,
            value=b"v",
            on_delivery=lambda _e, m: landed.update({m.key(): m.partition()}),
        )
    producer.flush(10)
    assert landed == {key: key_partition(key, 3) for key in landed} and len(landed) == 6


def test_loop_handles_each_input_once_across_an_aborted_commit(backend: Backend) -> None:
    settings = backend.settings
    source = backend.create_topic(INPUT, partitions=2)
    out = backend.create_topic(OUTPUT)
    backend.create_topic(STATE, partitions=2, compacted=True)
    plain = backend.clients.producer(settings.producer())
    for i in range(40):
        plain.produce(source, key=f"k{i % 4}".encode(), value=f"v{i}".encode())
    plain.flush(10)
    error = KafkaError(KafkaError._TIMED_OUT, "injected", txn_requires_abort=True)
    backend.fail_next("commit_transaction", error)
    loop = TransactionalLoop(
        build(settings),
        settings,
        LoopSettings(max_batch_records=8, session_timeout_ms=6000),
        clients=backend.clients,
    )
    failures: list[BaseException] = []
    runner = threading.Thread(target=_run, args=(loop, failures))
    runner.start()
    try:
        deadline = time.monotonic() + 60
        while len(outputs := values(backend, out)) < 40 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        loop.stop()
        runner.join(30)
    counts: dict[str, list[int]] = defaultdict(list)
    for value in outputs:
        text, count = (value or b"").decode().split("|")
        counts[f"k{int(text[1:]) % 4}"].append(int(count))
    aborts = loop.metrics.aborts.labels(app=loop.p.app_id, reason="_TIMED_OUT")._value.get()
    assert (failures, aborts) == ([], 1)
    assert sorted((v or b"").split(b"|")[0] for v in outputs) == sorted(
        f"v{i}".encode() for i in range(40)
    )
    assert {key: sorted(seen) for key, seen in counts.items()} == {
        f"k{k}": list(range(1, 11)) for k in range(4)
    }


def _run(loop: TransactionalLoop, failures: list[BaseException]) -> None:
    try:
        loop.run()
    except (FatalError, KafkaException) as exc:
        failures.append(exc)
