"""A fused loop finishes the work under way before it takes new work.

A fused processor (processor.py's `fuse`) reads its first stage's input and the topics its own
later stages are fed by, with one consumer. librdkafka fills one fetch queue for all of them,
and under a backlog of new input that queue is full of it: the records the first stage wrote
for the next one are fetched behind tens of thousands of new ones. The router then triages
the whole backlog before it assigns any of it, and every lead waits for all the others.

So, every `every_s`, the loop asks the broker where its downstream inputs end and compares that
with its position in them. Above `pause_above` records waiting, the first stage's partitions
are paused (librdkafka drops what it prefetched of them, and fetches it again on resume); at
`resume_at` or fewer, they are resumed, while the later stage still has that much to do. A
Kafka Streams task does the same with its per-partition buffers.

It asks through a client of its own: the broker answers a connection's requests in order, and
the loop's consumer often has a fetch waiting there. librdkafka keeps one fetch in flight per
broker, so a resumed partition is fetched once the fetch under way returns: a paced loop's
consumer waits at most 100 ms for data (slot_clients.py), not librdkafka's 500.

The count is of offsets, so transaction markers count too: it is a bound, not a figure to show.
librdkafka keeps a partition paused through a rebalance, so each change of ownership resumes
the upstream partitions now owned and starts counting afresh.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Set

from confluent_kafka import KafkaException, TopicPartition

from services.streaming.kafka_clients import ConsumerClient
from services.streaming.processor import Processor
from services.streaming.progress import InputProgress
from services.streaming.records import Clock

log = logging.getLogger(__name__)

PACED_FETCH: dict[str, str | int] = {"fetch.wait.max.ms": 100}
"""A paced consumer's settings: wait at most 100 ms for data (see above)."""


class DownstreamFirst:
    def __init__(
        self,
        consumer: ConsumerClient,
        ends: Callable[[], ConsumerClient],
        progress: InputProgress,
        clock: Clock,
        *,
        upstream: Iterable[str],
        downstream: Iterable[str],
        pause_above: int,
        resume_at: int,
        every_s: float = 0.05,
        shown: Callable[[bool], None] = lambda _paused: None,
    ) -> None:
        """`shown` hears every pause (True) and resume (False), for a metric."""
        self._consumer = consumer
        self._make_ends = ends
        self._ends: ConsumerClient | None = None
        """Made when first needed: a loop without downstream inputs never connects it."""
        self._progress = progress
        self._clock = clock
        self._upstream = tuple(upstream)
        self._downstream = tuple(downstream)
        self._pause_above = pause_above
        self._resume_at = resume_at
        self._every_s = every_s
        self._shown = shown
        self._owned: frozenset[int] = frozenset()
        self._paused = False
        self._checked = float("-inf")

    @classmethod
    def of(
        cls,
        processor: Processor,
        consumer: ConsumerClient,
        ends: Callable[[], ConsumerClient],
        progress: InputProgress,
        clock: Clock,
        *,
        max_batch_records: int,
        shown: Callable[[bool], None] = lambda _paused: None,
    ) -> DownstreamFirst:
        """How a loop running `processor` in batches of `max_batch_records` paces its inputs:
        the first stage's held back above two batches waiting downstream, let go at one."""
        return cls(
            consumer,
            ends,
            progress,
            clock,
            upstream=[t for t in processor.inputs if t not in processor.downstream_inputs],
            downstream=sorted(processor.downstream_inputs),
            pause_above=2 * max_batch_records,
            resume_at=max_batch_records,
            shown=shown,
        )

    @property
    def paused(self) -> bool:
        return self._paused

    def adjust(self, owned: Set[int]) -> None:
        """Pause or resume the upstream partitions of `owned`, as the downstream backlog says.
        Called between turns, when every record taken has been handled."""
        if not self._downstream:
            return
        if owned != self._owned:
            self._owned = frozenset(owned)
            self._set(paused=False, force=True)
        now = self._clock.monotonic()
        if not self._owned or now - self._checked < self._every_s:
            return
        self._checked = now
        if self._ends is None:
            self._ends = self._make_ends()
        waiting = self._progress.waiting(self._downstream, self._owned, self._ends)
        if waiting is None:  # the broker did not say: never hold input back on a guess
            self._set(paused=False)
        elif self._paused:
            self._set(paused=waiting > self._resume_at)
        else:
            self._set(paused=waiting > self._pause_above)

    def close(self) -> None:
        if self._ends is not None:
            self._ends.close()
            self._ends = None

    def _set(self, *, paused: bool, force: bool = False) -> None:
        if paused == self._paused and not force:
            return
        partitions = [TopicPartition(t, p) for t in self._upstream for p in sorted(self._owned)]
        if not partitions:
            self._paused = False
            return
        try:
            if paused:
                self._consumer.pause(partitions)
            else:
                self._consumer.resume(partitions)
        except KafkaException as exc:  # revoked meanwhile: the next adjust starts afresh
            log.info("could not %s %s: %s", "pause" if paused else "resume", self._upstream, exc)
            self._owned = frozenset()
            return
        self._paused = paused
        self._shown(paused)
