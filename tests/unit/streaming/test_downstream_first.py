"""DownstreamFirst's decisions: pause above the bound, resume at the lower one, never hold input
back on an unknown backlog, and start afresh when the partitions owned change."""

from __future__ import annotations

from typing import Any, cast

from confluent_kafka import TopicPartition

from services.streaming.downstream_first import DownstreamFirst
from services.streaming.kafka_clients import ConsumerClient
from services.streaming.progress import InputProgress


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def now_ms(self) -> int:
        return int(self.now * 1000)

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Consumer:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[tuple[str, int]]]] = []

    def pause(self, partitions: list[TopicPartition]) -> None:
        self.calls.append(("pause", [(tp.topic, tp.partition) for tp in partitions]))

    def resume(self, partitions: list[TopicPartition]) -> None:
        self.calls.append(("resume", [(tp.topic, tp.partition) for tp in partitions]))


class Backlog:
    """Stands in for InputProgress: the backlog a test sets."""

    def __init__(self) -> None:
        self.value: int | None = 0

    def waiting(self, topics: Any, partitions: Any, ends: Any) -> int | None:
        return self.value


def pacing(shown: list[bool] | None = None) -> tuple[DownstreamFirst, Consumer, Backlog, FakeClock]:
    consumer, backlog, clock = Consumer(), Backlog(), FakeClock()
    heard = [] if shown is None else shown
    paced = DownstreamFirst(
        cast(ConsumerClient, consumer),
        lambda: cast(ConsumerClient, object()),
        cast(InputProgress, backlog),
        clock,
        upstream=["inbound"],
        downstream=["requests"],
        pause_above=200,
        resume_at=100,
        every_s=0.05,
        shown=heard.append,
    )
    return paced, consumer, backlog, clock


def test_pauses_above_the_bound_and_resumes_only_at_the_lower_one() -> None:
    shown: list[bool] = []
    paced, consumer, backlog, clock = pacing(shown)
    paced.adjust({0, 1})
    assert consumer.calls == [("resume", [("inbound", 0), ("inbound", 1)])]  # a fresh start
    for waiting, paused in [(200, False), (201, True), (150, True), (100, False), (150, False)]:
        clock.advance(0.06)
        backlog.value = waiting
        paced.adjust({0, 1})
        assert paced.paused is paused, waiting
    assert [call for call, _ in consumer.calls] == ["resume", "pause", "resume"]
    assert shown == [False, True, False]  # what the metric shows


def test_checks_at_most_every_interval() -> None:
    paced, _, backlog, clock = pacing()
    paced.adjust({0})
    backlog.value = 1_000
    paced.adjust({0})
    assert not paced.paused  # checked a moment ago
    clock.advance(0.06)
    paced.adjust({0})
    assert paced.paused


def test_an_unknown_backlog_holds_nothing_back() -> None:
    paced, _, backlog, clock = pacing()
    backlog.value = 1_000
    paced.adjust({0})
    assert paced.paused
    backlog.value = None
    clock.advance(0.06)
    paced.adjust({0})
    assert not paced.paused


def test_a_change_of_partitions_resumes_the_new_ones_and_counts_afresh() -> None:
    paced, consumer, backlog, clock = pacing()
    backlog.value = 1_000
    paced.adjust({0, 1})
    assert paced.paused
    clock.advance(0.01)  # within the interval: the new partitions are resumed all the same
    paced.adjust({2})
    assert consumer.calls[-1] == ("resume", [("inbound", 2)])
    assert not paced.paused
