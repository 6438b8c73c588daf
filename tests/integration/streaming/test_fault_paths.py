"""The loop on the real broker when a record cannot be handled or its outputs cannot be written.

Each test names a way an accepted record was once lost, wedged its partition or crash-looped the
service: the record is dead-lettered in a transaction that commits, every other record is
handled exactly once, and the partition moves on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from prometheus_client import CollectorRegistry

from services.leads.events import DeadLetter
from services.leads.topics import Topic
from services.streaming.codec import AvroCodec
from services.streaming.errors import InvalidRecord
from services.streaming.loop import LoopSettings, Processor, TransactionalLoop
from services.streaming.records import InputRecord, OutputRecord, Serde
from services.streaming.settings import KafkaSettings
from services.streaming.state import StateStore
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
    failures: list[BaseException] = []

    def run() -> None:
        try:
            loop.run()
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        out = consume_all(settings, settings.topic("out"), outputs, timeout_s=60)
        dead = consume_all(settings, settings.topic(Topic.DEAD_LETTER), letters, timeout_s=30)
        wait_until_ready(loop)
    finally:
        loop.stop()
        thread.join(30)
    assert not failures, failures
    assert not thread.is_alive()
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
