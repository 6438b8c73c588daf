from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from services.streaming.errors import TransientError
from services.streaming.records import Serde
from services.streaming.state import StateStore, drain_to_end

INTS = Serde[int](encode=lambda n: str(n).encode(), decode=int)


def make_store(*partitions: int) -> StateStore[int]:
    store = StateStore("counts", INTS)
    for partition in partitions:
        store.adopt(partition)
    return store


def test_writes_are_visible_before_commit_and_survive_it() -> None:
    store = make_store(0)
    store.put(0, "a", 1)
    assert store.get(0, "a") == 1
    store.commit()
    assert store.get(0, "a") == 1
    assert not store.has_pending


def test_rollback_returns_to_the_last_commit() -> None:
    store = make_store(0)
    store.put(0, "a", 1)
    store.commit()
    store.put(0, "a", 2)
    store.delete(0, "a")
    store.put(0, "b", 5)
    store.rollback()
    assert store.get(0, "a") == 1
    assert store.get(0, "b") is None


def test_flush_writes_one_record_per_key_to_the_inputs_partition() -> None:
    store = make_store(2, 3)
    for n in range(5):
        store.put(3, "a", n)
    store.delete(2, "gone")
    records = sorted(store.flush(), key=lambda r: r.partition or 0)
    assert [(r.partition, r.key, r.value) for r in records] == [
        (2, b"gone", None),
        (3, b"a", b"4"),
    ]


def test_items_merge_committed_and_pending_entries() -> None:
    store = make_store(0)
    store.adopt(0, {"a": 1, "b": 2})
    store.put(0, "b", 20)
    store.put(0, "c", 3)
    store.delete(0, "a")
    assert dict(store.items(0)) == {"b": 20, "c": 3}


def test_a_partition_this_instance_does_not_own_is_refused() -> None:
    store = make_store(0)
    with pytest.raises(KeyError, match=r"counts\[1\] is not restored"):
        store.put(1, "a", 1)


def test_dropping_a_partition_forgets_its_state_and_pending_writes() -> None:
    store = make_store(0, 1)
    store.put(1, "a", 1)
    store.drop([1])
    assert store.partitions == {0}
    assert store.flush() == []


class _SettlingConsumer:
    """Knows no partition for its first `unknown_for` questions, as a client does whose
    metadata has not yet caught up with a topic just made; the topic is empty."""

    def __init__(self, unknown_for: int, code: int = KafkaError._UNKNOWN_PARTITION) -> None:
        self.unknown_for, self.code, self.asked = unknown_for, code, 0
        self.assigned: list[TopicPartition] = []

    def get_watermark_offsets(self, partition: TopicPartition, timeout: float) -> tuple[int, int]:
        self.asked += 1
        if self.asked <= self.unknown_for:
            raise KafkaException(KafkaError(self.code))
        return 0, 0

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.assigned = partitions


def test_restoring_a_topic_the_client_does_not_know_yet_asks_again_until_it_does() -> None:
    consumer = _SettlingConsumer(unknown_for=2)
    restored = drain_to_end(consumer, "counts", [0], lambda *_: None)
    assert restored == 0 and consumer.asked == 3
    assert [tp.partition for tp in consumer.assigned] == [0]


def test_restoring_gives_up_at_once_on_an_error_that_is_not_settling() -> None:
    consumer = _SettlingConsumer(unknown_for=1, code=KafkaError.TOPIC_AUTHORIZATION_FAILED)
    with pytest.raises(TransientError, match="restoring counts"):
        drain_to_end(consumer, "counts", [0], lambda *_: None)
    assert consumer.asked == 1
