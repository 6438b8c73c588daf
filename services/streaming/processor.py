"""What a service hands the exactly-once loop: its inputs, its logic, its state, its knobs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.streaming.dead_letters import DeadLetterSink
from services.streaming.records import InputRecord, OutputRecord
from services.streaming.state import StateStore
from services.streaming.tables import GlobalTable

Handler = Callable[[InputRecord], Iterable[OutputRecord]]
Ticker = Callable[[int, int, frozenset[str]], Iterable[OutputRecord]]
"""(partition, now_ms, behind) -> outputs: timers that fire without an input record. `behind`
names the input topics whose partition is not read to the end yet (see progress.py)."""


@dataclass
class Processor:
    """What a service runs on the loop: its inputs, its logic and its state."""

    app_id: str
    inputs: Sequence[str]
    handle: Handler
    stores: Sequence[StateStore[Any]] = ()
    tables: Sequence[GlobalTable[Any]] = ()
    tick: Ticker | None = None
    dead_letter_topic: str | None = None
    bind_dead_letters: Callable[[DeadLetterSink], None] | None = None
    """Hands the loop's dead-letter sink to a service that dead-letters outside `handle`'s
    exceptions (a tick giving up on parked input): one path, one breaker, one metric."""
    downstream_inputs: frozenset[str] = frozenset()
    """Inputs that this processor's own outputs feed (a fused processor's later stages). While
    they hold a backlog, the other inputs are paused (see downstream_first.py)."""


@dataclass
class LoopSettings:
    instance: int = 0
    commit_interval_ms: int = 100
    """The longest a transaction stays open while input keeps coming."""
    drain_wait_ms: int = 2
    """With a transaction open, how long a poll waits; an empty poll commits at once."""
    max_batch_records: int = 2000
    tick_interval_ms: int = 200
    session_timeout_ms: int = 10000
    transaction_timeout_ms: int = 10000
    """Bounds how long a dead instance's open transaction blocks read_committed readers."""
    max_consecutive_failures: int = 1000
    """Stop when this many records in a row are dead-lettered: something upstream is broken."""
    stop_grace_s: float = 5.0
    """After a stop request, how long a failing commit or abort is retried before the loop
    leaves its transaction to the broker (compose waits 10 s, Kubernetes 30 s, then kill)."""
    call_deadline_s: float = 60.0
    """How long a transactional call is retried on retriable errors before the loop aborts."""
    max_producer_renewals: int = 3
    """A fenced producer is replaced at most this often a minute; then the loop stops."""
    slow_call_s: float = 3.0
    """A transactional call blocked this long means the broker does not answer: not ready."""
    retry_backoff_max_s: float = 5.0
    """The longest wait between retries after aborts in a row."""
    stall_after_s: float = 180.0
    """A loop that has not turned for this long is not live (longer than any restore)."""
    extra_consumer_config: dict[str, Any] = field(default_factory=dict)


def fuse(app_id: str, *processors: Processor) -> Processor:
    """Several processors as one: one consumer over all their inputs, one transaction for all
    their outputs, state writes and offsets (as a Kafka Streams thread runs several
    sub-topologies under one producer). Each record goes to the processor that reads its topic.

    Work under way comes first: while a later processor's inputs hold a backlog, the first
    one's inputs are paused (see downstream_first.py), so a backlog of new input cannot starve
    the stages that finish what was started.

    The inputs must be co-partitioned with each other as well as with every store: the loop
    restores each store for the partition numbers it is assigned. Tables shared by two
    processors (the same object) are loaded and refreshed once. A processor with a tick or a
    bound dead-letter sink cannot be fused: neither would know which of its inputs to serve.
    """
    routes: dict[str, Handler] = {}
    for processor in processors:
        if processor.tick is not None or processor.bind_dead_letters is not None:
            raise ValueError(f"{processor.app_id}: a ticking processor cannot be fused")
        for topic in processor.inputs:
            if topic in routes:
                raise ValueError(f"{topic} is read by two of the fused processors")
            routes[topic] = processor.handle
    letters = {p.dead_letter_topic for p in processors} - {None}
    if len(letters) > 1:
        raise ValueError(f"fused processors must share one dead-letter topic, not {letters}")
    tables: list[GlobalTable[Any]] = []
    for table in (t for p in processors for t in p.tables):
        if not any(table is kept for kept in tables):
            tables.append(table)

    def handle(record: InputRecord) -> Iterable[OutputRecord]:
        return routes[record.topic](record)

    return Processor(
        app_id=app_id,
        inputs=list(routes),
        handle=handle,
        stores=[store for p in processors for store in p.stores],
        tables=tables,
        dead_letter_topic=next(iter(letters), None),
        downstream_inputs=frozenset(t for p in processors[1:] for t in p.inputs),
    )
