"""A fused loop under a backlog of new input keeps its later stage moving (downstream_first.py),
on the in-memory twin and on the real broker alike.

Two stages, `first` (in -> mid) and `second` (mid -> out), fused into one loop over a backlog
in `in`. Both brokers hand a consumer the backlog ahead of what the first stage writes (the
twin reads `in` before `mid`; librdkafka's fetch queue is full of `in`), so without pausing
`in`, the second stage handles nothing until the first has handled everything.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from services.streaming.loop import LoopSettings, TransactionalLoop
from services.streaming.processor import Processor, fuse
from services.streaming.records import InputRecord, OutputRecord
from tests.integration.streaming.backends import Backend, values
from tests.integration.streaming.loop_runner import Running

pytestmark = pytest.mark.integration
BACKLOG, BATCH = 20_000, 100


def stage(name: str, source: str, target: str, handled: list[str]) -> Processor:
    def handle(record: InputRecord) -> Iterator[OutputRecord]:
        handled.append(name)
        yield OutputRecord(target, record.key, record.value)

    return Processor(app_id=name, inputs=[source], handle=handle)


def test_a_backlog_of_new_input_does_not_hold_the_later_stage_back(backend: Backend) -> None:
    source = backend.create_topic("in", partitions=2)
    mid = backend.create_topic("mid", partitions=2)
    out = backend.create_topic("out", partitions=2)
    producer = backend.clients.producer(backend.settings.producer())
    for i in range(BACKLOG):
        producer.produce(source, key=f"k{i % 50}".encode(), value=f"v{i}".encode())
    producer.flush(30)
    handled: list[str] = []
    fused = fuse(
        backend.settings.topic("fused"),
        stage("first", source, mid, handled),
        stage("second", mid, out, handled),
    )
    assert fused.downstream_inputs == {mid}
    settings = LoopSettings(max_batch_records=BATCH, session_timeout_ms=6000)
    loop = TransactionalLoop(fused, backend.settings, settings, clients=backend.clients)
    running = Running(loop)
    try:
        deadline = time.monotonic() + 120
        while handled.count("second") < BACKLOG and time.monotonic() < deadline:
            assert not running.failures
            time.sleep(0.1)
    finally:
        running.stop()
    assert running.failures == []
    assert handled.count("first") == handled.count("second") == BACKLOG
    assert len(values(backend, out, partitions=2)) == BACKLOG
    # How far the first stage ever ran ahead of the second: a few batches and one check
    # interval's worth, never the backlog.
    ahead, largest = 0, 0
    for name in handled:
        ahead += 1 if name == "first" else -1
        largest = max(largest, ahead)
    assert largest < BACKLOG // 4, f"the first stage ran {largest} records ahead"
