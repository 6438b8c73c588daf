"""How the loop takes input: a record that is already there never waits out a timeout.

The fake consumer follows librdkafka's contract, which is the point of the test:
`consume(n, timeout)` returns early only with n records, otherwise after the whole timeout;
`poll(timeout)` returns as soon as one record is there. It adds up the time a real consumer
would have waited instead of sleeping.
"""

from __future__ import annotations

from typing import cast

from confluent_kafka import Consumer, Message

from services.streaming.arrivals import arrivals
from services.streaming.processor import LoopSettings
from services.streaming.slot_clients import take_input


class HeldRecords:
    def __init__(self, held: int) -> None:
        self.held = [cast(Message, object()) for _ in range(held)]
        self.waited_s = 0.0

    def poll(self, timeout: float) -> Message | None:
        if self.held:
            return self.held.pop(0)
        self.waited_s += timeout
        return None

    def consume(self, num_messages: int, timeout: float) -> list[Message]:
        if len(self.held) < num_messages:
            self.waited_s += timeout  # librdkafka waits for the batch to fill or time out
        taken, self.held = self.held[:num_messages], self.held[num_messages:]
        return taken


def test_an_idle_loop_takes_held_records_without_waiting() -> None:
    consumer = HeldRecords(held=3)
    taken = take_input(cast(Consumer, consumer), LoopSettings(), batch_open=False)
    assert len(taken) == 3
    assert consumer.waited_s == 0.0


def test_an_idle_loop_waits_up_to_the_next_tick_when_nothing_is_held() -> None:
    consumer = HeldRecords(held=0)
    settings = LoopSettings(commit_interval_ms=100, tick_interval_ms=50)
    assert take_input(cast(Consumer, consumer), settings, batch_open=False) == []
    assert consumer.waited_s == 0.05


def test_with_a_batch_open_a_take_waits_no_longer_than_the_drain_wait() -> None:
    consumer = HeldRecords(held=2)
    settings = LoopSettings(drain_wait_ms=2)
    assert len(take_input(cast(Consumer, consumer), settings, batch_open=True)) == 2
    assert consumer.waited_s <= 0.002


def test_an_idle_take_is_bounded_by_the_batch_size() -> None:
    consumer = HeldRecords(held=10)
    settings = LoopSettings(max_batch_records=4)
    assert len(take_input(cast(Consumer, consumer), settings, batch_open=False)) == 4
    assert len(consumer.held) == 6


def test_arrivals_for_a_reader_take_at_most_what_was_asked_without_waiting() -> None:
    consumer = HeldRecords(held=3)
    assert len(arrivals(cast(Consumer, consumer), 1, timeout_s=1.0)) == 1
    assert len(arrivals(cast(Consumer, consumer), 5, timeout_s=1.0)) == 2
    assert consumer.waited_s == 0.0
    assert arrivals(cast(Consumer, consumer), 5, timeout_s=0.25) == []
    assert consumer.waited_s == 0.25
