"""The local broker from Maven Central's jars: starts, takes a transaction, stops cleanly."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer

from services.leads.topics import TopicSpec
from services.streaming.admin import create_topics
from services.streaming.broker_config import cluster_id, server_properties
from services.streaming.local_broker import LocalBroker, free_port_pair
from services.streaming.settings import KafkaSettings

pytestmark = pytest.mark.integration


def test_broker_config_allows_transactions_on_one_node_and_never_auto_creates() -> None:
    props = dict(
        line.split("=", 1) for line in server_properties(9092, 9093, Path("d")).splitlines()
    )
    assert props["transaction.state.log.replication.factor"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["auto.create.topics.enable"] == "false"


def test_transactional_round_trip_then_stop_leaves_no_process(tmp_path: Path) -> None:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and not os.environ.get("CI"):
        pytest.skip("an external broker was given; this test starts its own")
    broker = LocalBroker(port=free_port_pair(), run_dir=tmp_path)
    settings = KafkaSettings(bootstrap_servers=broker.start())
    try:
        create_topics(settings, partitions=1, specs=[TopicSpec("roundtrip", False)])
        producer = Producer(settings.transactional_producer(f"rt-{uuid.uuid4().hex}"))
        producer.init_transactions(30)
        producer.begin_transaction()
        producer.produce("roundtrip", key=b"k", value=b"committed")
        producer.commit_transaction(30)
        producer.begin_transaction()
        producer.produce("roundtrip", key=b"k", value=b"aborted")
        producer.flush(10)
        producer.abort_transaction(30)
        consumer = Consumer(settings.consumer(f"rt-{uuid.uuid4().hex}"))
        consumer.subscribe(["roundtrip"])
        values = [m.value() for m in consumer.consume(10, timeout=10) if m.error() is None]
        consumer.close()
        assert values == [b"committed"]
        pid = broker.running_pid()
        assert pid is not None
    finally:
        broker.stop()
    assert broker.running_pid() is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_cluster_ids_never_look_like_an_option() -> None:
    ids = [cluster_id() for _ in range(2000)]
    assert not any(i.startswith("-") for i in ids)
    assert all(len(i) == 22 for i in ids)
