"""Writing `OutputRecord`s to a confluent-kafka producer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.streaming.kafka_clients import ProducerClient
from services.streaming.records import OutputRecord


def produce_all(producer: ProducerClient, outputs: Iterable[OutputRecord]) -> None:
    """Hand every record to the producer, waiting out a full local queue rather than failing."""
    for out in outputs:
        kwargs: dict[str, Any] = {"key": out.key, "value": out.value}
        if out.headers:
            kwargs["headers"] = list(out.headers)
        if out.partition is not None:
            kwargs["partition"] = out.partition
        while True:
            try:
                producer.produce(out.topic, **kwargs)
                break
            except BufferError:
                producer.poll(0.05)  # the local queue is full: let deliveries drain
