"""The loop on the real broker when a record cannot be handled or its outputs cannot be written.

Each test names a way an accepted record was once lost, wedged its partition or crash-looped the
service: the record is dead-lettered in a transaction that commits, every other record is
handled exactly once, and the partition moves on.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from prometheus_client import CollectorRegistry

from services.leads.events import DeadLetter
from services.leads.topics import Topic, TopicSpec
from services.streaming.admin import create_topics
from services.streaming.codec import AvroCodec
from services.streaming.errors import InvalidRecord
from services.streaming.local_broker import LocalBroker, free_port_pair
from services.streaming.loop import LoopSettings, Processor, TransactionalLoop
from services.streaming.records import InputRecord, OutputRecord, Serde
from services.streaming.settings import KafkaSettings
from services.streaming.state import StateStore
from tests.integration.streaming.counting_app import INPUT, OUTPUT, STATE
from tests.integration.streaming.loop_runner import Running, aborts
from tests.integration.streaming.test_exactly_once import Instance
from tests.integration.streaming.test_runtime import consume_all

pytestmark = pytest.mark.integration
COUNTS = Serde[int](encode=lambda n: str(n).encode(), decode=int)


def make_topics(settings: KafkaSettings, **max_bytes: int) -> None:
    """in, out, state (compacted) and the dead-letter topic, one partition each;
    `max_bytes` maps a short name (out, dead) to the topic's max.message.bytes."""
    names = {"in": "in", "out": "out", "state": "state", "dead": Topic.DEAD_LETTER}
    topics = []
    for short, name in names.items():
        config = {"cleanup.policy": "compact" if short == "state" else "delete"}
        if short in max_bytes:
            config["max.message.bytes"] = str(max_bytes[short])
        topics.append(NewTopic(settings.topic(name), 1, 1, config=config))
    admin = AdminClient(settings.admin())  # referenced until the futures are done
    for future in admin.create_topics(topics).values():
        future.result(30)


def feed(settings: KafkaSettings, values: list[bytes]) -> None:
    producer = Producer(settings.producer())
    for value in values:
        producer.produce(settings.topic("in"), key=b"k", value=value)
    producer.flush(10)


class Counting:
    """Counts records per key in a state store and echoes `value|count`; what the record's value
    starts with decides what goes wrong (`huge`: a 2 MB output, over the producer's limit;
    `big`: a 50 kB output, over a small topic limit; `bad`: a PermanentError after the state
    write; `bug`: a plain exception after the state write)."""

    def __init__(self, settings: KafkaSettings) -> None:
        self.out = settings.topic("out")
        self.store = StateStore(settings.topic("state"), COUNTS)
        self.processor = Processor(
            app_id=settings.topic("faults"),
            inputs=[settings.topic("in")],
            handle=self.handle,
            stores=[self.store],
            dead_letter_topic=settings.topic(Topic.DEAD_LETTER),
        )

    def handle(self, record: InputRecord) -> Iterator[OutputRecord]:
        value = record.value or b""
        count = (self.store.get(record.partition, "k") or 0) + 1
        self.store.put(record.partition, "k", count)
        if value.startswith(b"bad"):
            raise InvalidRecord("bad_test", f"value {value[:10]!r} starts with bad")
        if value.startswith(b"bug"):
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        body = value + f"|{count}".encode()
        if value.startswith(b"huge"):
            body = body.ljust(2_000_000, b".")
        elif value.startswith(b"big"):
            body = body.ljust(50_000, b".")
        yield OutputRecord(self.out, b"k", body)


def run_until(loop: TransactionalLoop, settings: KafkaSettings, outputs: int, letters: int):  # type: ignore[no-untyped-def]
    running = Running(loop)
    try:
        out = consume_all(settings, settings.topic("out"), outputs, timeout_s=60)
        dead = consume_all(settings, settings.topic(Topic.DEAD_LETTER), letters, timeout_s=30)
        wait_until_ready(loop)
    finally:
        running.stop()
    assert not running.failures, running.failures
    assert not running.thread.is_alive()
    return [m.value() for m in out], [AvroCodec(DeadLetter).decode(m.value()) for m in dead]


def wait_until_ready(loop: TransactionalLoop, timeout_s: float = 10.0) -> None:
    """Ready again once a transaction commits after the failures (an empty turn suffices)."""
    for _ in range(int(timeout_s / 0.05)):
        if loop.health().ready:
            return
        threading.Event().wait(0.05)
    raise AssertionError(f"never ready again: {loop.health().detail}")


def test_a_first_record_whose_output_is_over_the_producer_limit_is_dead_lettered_not_skipped(
    kafka_settings: KafkaSettings,
) -> None:
    make_topics(kafka_settings)
    feed(kafka_settings, [b"huge-0", b"ok-1", b"ok-2"])
    app = Counting(kafka_settings)
    loop = TransactionalLoop(app.processor, kafka_settings, LoopSettings())

    outputs, letters = run_until(loop, kafka_settings, outputs=2, letters=1)

    assert outputs == [b"ok-1|1", b"ok-2|2"]  # the refused record's count is not kept either
    assert [(d.reason, d.original_offset, d.original_value) for d in letters] == [
        ("outputs_refused", 0, b"huge-0")
    ]
    assert "MSG_SIZE_TOO_LARGE" in letters[0].detail


def test_records_the_broker_refuses_mid_batch_are_dead_lettered_and_the_partition_moves_on(
    kafka_settings: KafkaSettings,
) -> None:
    make_topics(kafka_settings, out=10_000)
    values = [f"{'big' if i in (7, 8, 20) else 'ok'}-{i}".encode() for i in range(30)]
    feed(kafka_settings, values)
    app = Counting(kafka_settings)
    registry = CollectorRegistry()
    loop = TransactionalLoop(app.processor, kafka_settings, LoopSettings(), registry=registry)

    outputs, letters = run_until(loop, kafka_settings, outputs=27, letters=3)

    good = [v for v in values if v.startswith(b"ok")]
    assert outputs == [v + f"|{n}".encode() for n, v in enumerate(good, start=1)]
    assert sorted((d.original_offset, d.original_value) for d in letters) == [
        (7, b"big-7"),
        (8, b"big-8"),
        (20, b"big-20"),
    ]
    assert {d.reason for d in letters} == {"outputs_refused"}
    counted = registry.get_sample_value(
        "leadrouter_dead_letters_total", {"app": app.processor.app_id, "reason": "outputs_refused"}
    )
    assert counted == 3  # the metric counts what the topic holds, not every retry


def test_a_dead_letter_too_large_to_carry_its_bytes_names_where_they_are(
    kafka_settings: KafkaSettings,
) -> None:
    make_topics(kafka_settings, out=10_000, dead=20_000)
    big_input = b"big-0" + b"#" * 30_000  # fits its own topic, not inside a dead letter
    feed(kafka_settings, [big_input, b"ok-1"])
    app = Counting(kafka_settings)
    loop = TransactionalLoop(app.processor, kafka_settings, LoopSettings())

    outputs, letters = run_until(loop, kafka_settings, outputs=1, letters=1)

    assert outputs == [b"ok-1|1"]
    (letter,) = letters
    assert letter.reason == "outputs_refused"
    assert letter.original_value is None
    assert (letter.original_topic, letter.original_partition, letter.original_offset) == (
        kafka_settings.topic("in"),
        0,
        0,
    )
    assert "bytes omitted" in letter.detail


def test_a_handler_failure_leaves_no_state_write_and_a_bug_is_a_dead_letter_not_a_crash(
    kafka_settings: KafkaSettings,
) -> None:
    make_topics(kafka_settings)
    values = [b"ok-0", b"bad-1", b"ok-2", b"bug-3", b"ok-4"]
    feed(kafka_settings, values)
    app = Counting(kafka_settings)
    loop = TransactionalLoop(app.processor, kafka_settings, LoopSettings())

    outputs, letters = run_until(loop, kafka_settings, outputs=3, letters=2)

    assert outputs == [b"ok-0|1", b"ok-2|2", b"ok-4|3"]
    assert sorted((d.original_offset, d.reason) for d in letters) == [
        (1, "bad_test"),
        (3, "handler_failed"),
    ]
    assert "UnicodeEncodeError" in next(d.detail for d in letters if d.original_offset == 3)
    restored = StateStore(kafka_settings.topic("state"), COUNTS)
    restored.restore(kafka_settings, [0])
    assert dict(restored.items(0)) == {"k": 3}


@pytest.fixture(scope="module")
def frozen_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """A broker of this module's own, so a test may freeze it (SIGSTOP) and thaw it."""
    broker = LocalBroker(port=free_port_pair(), run_dir=tmp_path_factory.mktemp("frozen"))
    broker.start()
    try:
        yield broker
    finally:
        thaw(broker)
        broker.stop()


def freeze(broker: LocalBroker) -> None:
    pid = broker.running_pid()
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)


def thaw(broker: LocalBroker) -> None:
    pid = broker.running_pid()
    if pid is not None:
        os.kill(pid, signal.SIGCONT)


def slow_loop(
    broker: LocalBroker, unique: str, records: int, transaction_timeout_ms: int = 60_000
) -> tuple[TransactionalLoop, KafkaSettings, CollectorRegistry]:
    """A loop over a backlog at 10 ms a record, so a transaction is nearly always open."""
    settings = KafkaSettings(bootstrap_servers=broker.bootstrap, topic_prefix=f"f{unique}.")
    make_topics(settings)
    feed(settings, [f"ok-{i}".encode() for i in range(records)])
    app = Counting(settings)
    handle = app.processor.handle

    def slow(record: InputRecord) -> Iterator[OutputRecord]:
        threading.Event().wait(0.01)
        return handle(record)

    app.processor.handle = slow
    registry = CollectorRegistry()
    # By default the broker does not time the frozen transaction out (a test of its own).
    loop_settings = LoopSettings(transaction_timeout_ms=transaction_timeout_ms)
    loop = TransactionalLoop(app.processor, settings, loop_settings, registry=registry)
    return loop, settings, registry


def committing(loop: TransactionalLoop, registry: CollectorRegistry) -> Callable[[], bool]:
    """True once the loop has committed transactions: it owns its partitions and works."""
    name, labels = "leadrouter_transactions_committed_total", {"app": loop.p.app_id}
    return lambda: (registry.get_sample_value(name, labels) or 0) >= 3


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        time.sleep(0.05)


def through_a_freeze(
    broker: LocalBroker,
    loop: TransactionalLoop,
    settings: KafkaSettings,
    registry: CollectorRegistry,
    *,
    while_frozen: Callable[[], None],
    expected: int = 600,
) -> list:  # type: ignore[type-arg]
    """Run `loop` until it commits, freeze the broker for `while_frozen`, thaw it; the
    `expected` outputs once the loop is ready again. The loop must not stop on the way."""
    running = Running(loop)
    try:
        wait_for(committing(loop, registry), 30, "committing at first")
        freeze(broker)
        try:
            while_frozen()
        finally:
            thaw(broker)
        outputs = consume_all(settings, settings.topic("out"), expected, timeout_s=90)
        wait_for(lambda: loop.health().ready or bool(running.failures), 30,
                 "ready again once commits go through")  # fmt: skip
    finally:
        running.stop()
    assert running.failures == []  # a loop that stopped on the way is named here
    return outputs


def test_a_loop_that_cannot_commit_is_not_ready_and_catches_up_once_the_broker_answers(
    frozen_broker: LocalBroker, unique: str
) -> None:
    loop, settings, registry = slow_loop(frozen_broker, unique, records=600)

    def not_ready() -> None:
        wait_for(lambda: not loop.health().ready, 15, "not ready while the broker is frozen")
        assert "cannot commit" in loop.health().detail

    outputs = through_a_freeze(frozen_broker, loop, settings, registry, while_frozen=not_ready)
    assert [m.value() for m in outputs] == [f"ok-{i}|{i + 1}".encode() for i in range(600)]


def test_a_transaction_that_outlived_its_timeout_is_given_up_and_the_loop_goes_on(
    frozen_broker: LocalBroker, unique: str
) -> None:
    """Frozen past the transaction timeout, the open transaction fails one of two ways, by
    timing: librdkafka times its messages out first (abortable: abort and rewind), or the
    broker aborts the transaction when it thaws and librdkafka reports the producer fenced (a
    new producer takes over). Either way the loop goes on from the last commit, in process,
    exactly once. (The fenced path alone: test_loop_faults.py, on the twin and the broker.)"""
    loop, settings, registry = slow_loop(
        frozen_broker, unique, records=600, transaction_timeout_ms=4_000
    )
    outputs = through_a_freeze(
        frozen_broker, loop, settings, registry, while_frozen=lambda: time.sleep(7)
    )  # 7 s: past the 4 s transaction timeout
    assert aborts(loop) >= 1, "the frozen transaction was never given up"
    assert [m.value() for m in outputs] == [f"ok-{i}|{i + 1}".encode() for i in range(600)]


def test_sigterm_while_the_broker_does_not_answer_stops_the_service_within_its_grace(
    frozen_broker: LocalBroker, unique: str, tmp_path: Path
) -> None:
    """A blocked commit (librdkafka waits out its 30 s request timeout for a frozen broker)
    must not hold a SIGTERM past the grace period an orchestrator gives before it kills."""
    settings = KafkaSettings(bootstrap_servers=frozen_broker.bootstrap, topic_prefix=f"g{unique}.")
    specs = [TopicSpec(INPUT, False), TopicSpec(OUTPUT, False), TopicSpec(STATE, True)]
    create_topics(settings, partitions=4, specs=specs)
    producer = Producer(settings.producer())
    for i in range(100_000):
        producer.produce(settings.topic(INPUT), key=f"k{i % 50}", value=f"v{i}")
        if i % 10_000 == 0:
            producer.poll(0)
    producer.flush(30)
    instance = Instance(settings, 0, tmp_path)
    instance.start()
    assert instance.process is not None
    try:
        outputs = consume_all(settings, settings.topic(OUTPUT), 2_000, timeout_s=60)
        assert len(outputs) >= 2_000  # it works through the backlog, a transaction always open
        freeze(frozen_broker)
        time.sleep(1.0)
        stopped = time.monotonic()
        instance.process.send_signal(signal.SIGTERM)
        code = instance.process.wait(20)
        took = time.monotonic() - stopped
    finally:
        thaw(frozen_broker)
        instance.kill()
    grace = LoopSettings().stop_grace_s + 3  # what TransactionalLoop.serve allows
    assert took <= grace + 2, f"SIGTERM took {took:.1f} s with the broker frozen"
    assert code == 0
