"""Writing records to the real broker for the console's tests."""

from __future__ import annotations

from collections.abc import Iterable

from confluent_kafka import Producer

from services.console.projection import Applied
from services.console.projector import PROJECTED
from services.leads.topics import Topic
from services.streaming.codec import AvroCodec
from services.streaming.settings import KafkaSettings


def produce(settings: KafkaSettings, items: Iterable[Applied]) -> int:
    """Each item to its topic and partition (its offset is the broker's to give); flushed."""
    producer = Producer(settings.producer(**{"linger.ms": 20}))
    count = 0
    for item in items:
        topic = Topic(item.topic)
        value = None if item.value is None else AvroCodec(PROJECTED[topic]).encode(item.value)  # type: ignore[arg-type]
        producer.produce(settings.topic(topic), value=value, key=b"k", partition=item.partition)
        count += 1
        if count % 5000 == 0:
            producer.flush(30)
    if producer.flush(30):
        raise RuntimeError("records not acknowledged within 30 s")
    return count
