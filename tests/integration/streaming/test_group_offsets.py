"""`adopt_offsets` on the real broker: a group takes over from the furthest offset any other
layout committed, never moves backwards, and leaves a running group alone."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer, TopicPartition

from services.leads.topics import TopicSpec
from services.streaming.admin import create_topics
from services.streaming.group_offsets import adopt_offsets
from services.streaming.settings import KafkaSettings

pytestmark = pytest.mark.integration


def commit(settings: KafkaSettings, group: str, offsets: dict[int, int], topic: str) -> None:
    consumer = Consumer(settings.consumer(group))
    try:
        consumer.commit(
            offsets=[TopicPartition(topic, p, o) for p, o in offsets.items()], asynchronous=False
        )
    finally:
        consumer.close()


def committed(settings: KafkaSettings, group: str, topic: str) -> dict[int, int]:
    consumer = Consumer(settings.consumer(group))
    try:
        answered = consumer.committed([TopicPartition(topic, p) for p in (0, 1, 2)], timeout=10)
    finally:
        consumer.close()
    return {tp.partition: tp.offset for tp in answered if tp.offset >= 0}


def test_a_group_takes_over_from_the_furthest_offset_of_any_layout(
    kafka_settings: KafkaSettings,
) -> None:
    create_topics(kafka_settings, partitions=3, specs=[TopicSpec("moved", False)])
    topic = kafka_settings.topic("moved")
    old, new, older = (kafka_settings.topic(g) for g in ("old", "new", "older"))
    commit(kafka_settings, old, {0: 5, 1: 3}, topic)
    commit(kafka_settings, older, {1: 9}, topic)
    commit(kafka_settings, new, {0: 7}, topic)

    moved = adopt_offsets(kafka_settings, new, {topic: (new, old, older)})

    assert [(tp.partition, tp.offset) for tp in moved] == [(1, 9)]
    assert committed(kafka_settings, new, topic) == {0: 7, 1: 9}  # 0 never moves backwards
    assert adopt_offsets(kafka_settings, new, {topic: (new, old, older)}) == []


def test_a_running_group_keeps_its_own_offsets(kafka_settings: KafkaSettings) -> None:
    create_topics(kafka_settings, partitions=3, specs=[TopicSpec("busy", False)])
    topic = kafka_settings.topic("busy")
    old, running = kafka_settings.topic("old"), kafka_settings.topic("running")
    commit(kafka_settings, old, {0: 4}, topic)
    member = Consumer(kafka_settings.consumer(running))
    member.subscribe([topic])
    try:
        deadline = time.monotonic() + 30
        while not member.assignment() and time.monotonic() < deadline:
            member.poll(0.2)
        assert member.assignment(), "the member never joined"

        assert adopt_offsets(kafka_settings, running, {topic: (old,)}) == []
        assert committed(kafka_settings, running, topic) == {}
    finally:
        member.close()
