"""A transactional consume->produce passthrough: the ceiling the router is measured against.

`--mode raw` is plain confluent-kafka: no decoding, no logic, the router's batch and commit
settings (a transaction per 100 ms or 2,000 records, offsets sent inside it). `--mode loop` runs
the foundation's `TransactionalLoop` with a handler that copies each record, so the difference
between the two is what the loop itself costs per record. `--mode router-io` is the router's
Kafka traffic with none of its logic: the fused loop reading and writing, per lead, the records
the router reads and writes (see `RouterShape`), so the router's figure divided by this one is
what its Python costs beyond its I/O. Runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

from services.streaming.loop import LoopSettings, Processor, TransactionalLoop
from services.streaming.processor import fuse
from services.streaming.records import InputRecord, OutputRecord
from services.streaming.settings import KafkaSettings

COMMIT_INTERVAL_MS = LoopSettings().commit_interval_ms
MAX_BATCH_RECORDS = LoopSettings().max_batch_records


class RawPassthrough:
    def __init__(self, settings: KafkaSettings, source: str, sink: str, slot: str) -> None:
        self.source, self.sink = source, sink
        self.producer = Producer(
            settings.transactional_producer(slot, **{"transaction.timeout.ms": 10000})
        )
        self.consumer = Consumer(
            settings.consumer(
                f"{slot}-group",
                **{"partition.assignment.strategy": "range", "group.instance.id": slot},
            )
        )
        self.running = True

    def stop(self, *_: object) -> None:
        self.running = False

    def run(self) -> None:
        self.producer.init_transactions(30)
        self.consumer.subscribe([self.source])
        positions: dict[int, int] = {}
        started: float | None = None
        count = 0
        while self.running:
            wait = COMMIT_INTERVAL_MS / 1000
            if started is not None:
                wait = max(0.0, wait - (time.monotonic() - started))
            for message in self.consumer.consume(MAX_BATCH_RECORDS, timeout=wait):
                if message.error():
                    continue
                if started is None:
                    self.producer.begin_transaction()
                    started = time.monotonic()
                self._produce(message.key(), message.value(), message.headers())
                positions[message.partition() or 0] = (message.offset() or 0) + 1
                count += 1
            elapsed_ms = 0.0 if started is None else (time.monotonic() - started) * 1000
            if started is not None and (
                count >= MAX_BATCH_RECORDS or elapsed_ms >= COMMIT_INTERVAL_MS or not self.running
            ):
                offsets = [TopicPartition(self.source, p, o) for p, o in positions.items()]
                self.producer.send_offsets_to_transaction(
                    offsets, self.consumer.consumer_group_metadata(), 30
                )
                self.producer.commit_transaction(60)
                positions.clear()
                started, count = None, 0
        self.consumer.close()

    def _produce(self, key: bytes | None, value: bytes | None, headers: Any) -> None:
        while True:
            try:
                self.producer.produce(self.sink, key=key, value=value, headers=headers)
                return
            except BufferError:
                self.producer.poll(0.05)  # the local queue is full: let deliveries drain


def copier(sink: str) -> Any:
    def handle(record: InputRecord) -> Iterable[OutputRecord]:
        return (OutputRecord(sink, record.key, record.value, record.headers),)

    return handle


SIDE_BYTES = 128
"""The size of a side record (state, owner fact, link): the router's are 60-200 B."""


@dataclass(frozen=True)
class RouterShape:
    """The router's records per lead (counted on the topics after a bench run of 20,000 leads),
    as copies: triage reads the lead and writes the request, the person's state and a link
    request; the link request, read back, writes two links; assign reads the request and
    writes the assignment, two owner facts and a rotation-store record. 3 reads, 9 writes."""

    source: str
    sink: str

    @property
    def requests(self) -> str:
        return f"{self.sink}.requests"

    @property
    def link_requests(self) -> str:
        return f"{self.sink}.link-requests"

    @property
    def side(self) -> str:
        """Where the state, owner and link copies go: written, never read back."""
        return f"{self.sink}.side"

    @property
    def topics(self) -> tuple[str, ...]:
        return (self.requests, self.link_requests, self.side)

    def processor(self, app_id: str) -> Processor:
        triage = Processor(
            app_id=app_id, inputs=[self.source, self.link_requests], handle=self._triage
        )
        assign = Processor(app_id=app_id, inputs=[self.requests], handle=self._assign)
        return fuse(app_id, triage, assign)

    def _triage(self, record: InputRecord) -> Iterable[OutputRecord]:
        if record.topic == self.link_requests:
            return self._sides(record, 2)
        return (
            OutputRecord(self.requests, record.key, record.value, record.headers),
            *self._sides(record, 1),
            OutputRecord(self.link_requests, record.key, _side(record.value)),
        )

    def _assign(self, record: InputRecord) -> Iterable[OutputRecord]:
        return (
            OutputRecord(self.sink, record.key, record.value, record.headers),
            *self._sides(record, 3),
        )

    def _sides(self, record: InputRecord, count: int) -> tuple[OutputRecord, ...]:
        value = _side(record.value)
        return tuple(OutputRecord(self.side, record.key, value) for _ in range(count))


def _side(value: bytes | None) -> bytes:
    return (value or b"")[:SIDE_BYTES]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--sink", required=True)
    parser.add_argument("--mode", choices=["raw", "loop", "router-io"], required=True)
    parser.add_argument("--slot", required=True, help="transactional id and group member id")
    args = parser.parse_args(argv)
    settings = KafkaSettings(bootstrap_servers=args.bootstrap)
    runner: RawPassthrough | TransactionalLoop
    if args.mode == "raw":
        runner = RawPassthrough(settings, args.source, args.sink, args.slot)
    elif args.mode == "loop":
        processor = Processor(app_id=args.slot, inputs=[args.source], handle=copier(args.sink))
        runner = TransactionalLoop(processor, settings, LoopSettings())
    else:
        shape = RouterShape(args.source, args.sink)
        runner = TransactionalLoop(shape.processor(args.slot), settings, LoopSettings())
    signal.signal(signal.SIGTERM, runner.stop)
    signal.signal(signal.SIGINT, runner.stop)
    runner.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
