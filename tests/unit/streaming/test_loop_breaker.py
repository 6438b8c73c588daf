"""The dead-letter breaker on the in-memory twin: the loop stops after `max_consecutive_failures`
records in a row fail, and not before."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from services.streaming.errors import FatalError, InvalidRecord
from services.streaming.loop import LoopSettings, Processor, TransactionalLoop
from services.streaming.memory_broker import MemoryBroker
from services.streaming.records import InputRecord, OutputRecord
from services.streaming.settings import KafkaSettings
from services.streaming.state import read_to_end

SETTINGS = KafkaSettings(bootstrap_servers="memory:0")


def refusing_processor() -> Processor:
    def handle(record: InputRecord) -> Iterator[OutputRecord]:
        if record.value == b"bad":
            raise InvalidRecord("refused", "the test refuses it")
        yield OutputRecord("out", record.key, record.value)

    return Processor("breaker", ["in"], handle, dead_letter_topic="dead")


def send(broker: MemoryBroker, *values: bytes) -> None:
    producer = broker.producer(SETTINGS.producer())
    for value in values:
        producer.produce("in", value=value, partition=0)


def letters(broker: MemoryBroker) -> int:
    seen: list[object] = []
    read_to_end(SETTINGS, "dead", [0], lambda *r: seen.append(r), timeout_s=5, clients=broker)
    return len(seen)


def test_breaker_stops_the_loop_at_the_nth_failure_in_a_row_and_not_before() -> None:
    broker = MemoryBroker()
    for topic in ("in", "out", "dead"):
        broker.create_topic(topic)
    loop = TransactionalLoop(
        refusing_processor(), SETTINGS, LoopSettings(max_consecutive_failures=3), clients=broker
    )
    stopped: list[BaseException] = []
    runner = threading.Thread(target=lambda: _run(loop, stopped))
    runner.start()
    try:
        send(broker, b"bad", b"bad", b"good", b"bad", b"bad")
        deadline = time.monotonic() + 10
        while letters(broker) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        running_after_two_in_a_row = runner.is_alive()
        send(broker, b"bad")
        runner.join(10)
    finally:
        loop.stop()
        runner.join(10)
    assert (letters(broker), running_after_two_in_a_row) == (4, True)
    assert [type(e) for e in stopped] == [FatalError]


def _run(loop: TransactionalLoop, stopped: list[BaseException]) -> None:
    try:
        loop.run()
    except FatalError as exc:
        stopped.append(exc)
