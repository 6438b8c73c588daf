"""The Kafka clients of one loop instance slot, and how the loop takes input from its consumer.

Each instance slot has a stable `transactional.id` and `group.instance.id` (`<app>-<instance>`),
so a restarted slot fences its predecessor at once and takes its partitions straight back.

Taking input is shaped for latency as much as for batches: a record that arrives while the loop
is idle is handed over at once, not when a batch fills or a timeout passes. The broker answers a
read_committed fetch as soon as a commit makes records readable (measured on the local broker:
about 2 ms after `commit_transaction` returns, with librdkafka's default `fetch.wait.max.ms`
of 500), so no fetch setting is needed for that.
"""

from __future__ import annotations

from confluent_kafka import Message

from services.streaming.arrivals import arrivals
from services.streaming.downstream_first import PACED_FETCH
from services.streaming.kafka_clients import CONFLUENT, ConsumerClient, KafkaClients, ProducerClient
from services.streaming.processor import LoopSettings
from services.streaming.settings import KafkaSettings


def slot_producer(
    kafka: KafkaSettings, app_id: str, settings: LoopSettings, clients: KafkaClients = CONFLUENT
) -> ProducerClient:
    return clients.producer(
        kafka.transactional_producer(
            f"{app_id}-{settings.instance}",
            **{"transaction.timeout.ms": settings.transaction_timeout_ms},
        )
    )


def slot_consumer(
    kafka: KafkaSettings,
    app_id: str,
    settings: LoopSettings,
    clients: KafkaClients = CONFLUENT,
    *,
    paced: bool = False,
) -> ConsumerClient:
    """`paced`: the loop pauses and resumes some inputs, so the consumer fetches as
    downstream_first.py says."""
    return clients.consumer(
        kafka.consumer(
            app_id,
            **{
                "group.instance.id": f"{app_id}-{settings.instance}",
                "session.timeout.ms": settings.session_timeout_ms,
                "partition.assignment.strategy": "range",
                **(PACED_FETCH if paced else {}),
                **settings.extra_consumer_config,
            },
        )
    )


def take_input(
    consumer: ConsumerClient, settings: LoopSettings, *, batch_open: bool
) -> list[Message]:
    """Idle: wait up to the next tick for one record, then take what the consumer already
    holds (see arrivals.py). With a batch open: take what arrives within `drain_wait_ms`; the
    loop commits on an empty answer, so a record waits for one commit, not a whole interval."""
    if batch_open:
        return consumer.consume(settings.max_batch_records, timeout=settings.drain_wait_ms / 1000)
    idle_s = min(settings.commit_interval_ms, settings.tick_interval_ms) / 1000
    return arrivals(consumer, settings.max_batch_records, idle_s)
