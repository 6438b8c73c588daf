"""Take what a consumer has as soon as anything arrives.

librdkafka's `consume(n, timeout)` returns only once it holds n records or the timeout has
passed, so waiting in it holds a lone record for the whole wait: up to 100 ms per hop in the
loop, and as long again in every reader that times records. `poll(timeout)` returns with the
first record; what else is already held then comes with `consume(n, 0)`.
"""

from __future__ import annotations

from confluent_kafka import Message

from services.streaming.kafka_clients import ConsumerClient


def arrivals(consumer: ConsumerClient, max_records: int, timeout_s: float) -> list[Message]:
    """Up to `max_records` messages, waiting at most `timeout_s` for the first of them."""
    first = consumer.poll(timeout_s)
    if first is None:
        return []
    if max_records <= 1:
        return [first]
    return [first, *consumer.consume(max_records - 1, timeout=0)]
