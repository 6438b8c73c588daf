"""Exactly-once on the real broker: SIGKILL the processor mid-stream and check every output.

Input keeps arriving while the processor is killed at random moments and restarted (and, in the
second test, while one of two instances dies and its partitions move). Reading the output with
read_committed must show every input exactly once, each key's counts must run 1, 2, 3, ... with
no gap or repeat, and the state topic's final count per key must equal that key's inputs.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer

from services.leads.topics import TopicSpec
from services.streaming.admin import create_topics
from services.streaming.settings import KafkaSettings
from services.streaming.state import read_to_end
from tests.integration.streaming.counting_app import INPUT, OUTPUT, STATE

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[3]
RECORDS = 20_000
KEYS = 50


@pytest.fixture
def counting_topics(kafka_settings: KafkaSettings) -> KafkaSettings:
    specs = [TopicSpec(INPUT, False), TopicSpec(OUTPUT, False), TopicSpec(STATE, True)]
    create_topics(kafka_settings, partitions=4, specs=specs)
    return kafka_settings


class Instance:
    """One processor process in its instance slot; restartable, killable."""

    def __init__(self, settings: KafkaSettings, slot: int, log_dir: Path) -> None:
        self.settings, self.slot, self.log_dir = settings, slot, log_dir
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": self.settings.bootstrap_servers}
        with (self.log_dir / f"slot{self.slot}-{self.starts}.log").open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.integration.streaming.counting_app",
                    self.settings.topic_prefix,
                    str(self.slot),
                ],
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def feed(settings: KafkaSettings, seconds: float) -> threading.Thread:
    """Produce RECORDS inputs spread over `seconds`, so kills land mid-stream."""

    def run() -> None:
        producer = Producer(settings.producer())
        chunk = 200
        pause = seconds / (RECORDS / chunk)
        for start in range(0, RECORDS, chunk):
            for i in range(start, start + chunk):
                key = f"k{i % KEYS}"
                producer.produce(settings.topic(INPUT), key=key, value=f"{key}:{i}")
            producer.poll(0)
            time.sleep(pause)
        assert producer.flush(30) == 0

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def read_outputs(settings: KafkaSettings, deadline_s: float) -> list[tuple[str, str]]:
    """Committed outputs until RECORDS are in, then a little longer to catch any extra."""
    consumer = Consumer(
        settings.consumer(settings.topic("verify"), **{"enable.partition.eof": False})
    )
    consumer.subscribe([settings.topic(OUTPUT)])
    seen: list[tuple[str, str]] = []
    deadline = time.monotonic() + deadline_s
    settle_until: float | None = None
    try:
        while time.monotonic() < (settle_until or deadline):
            for message in consumer.consume(1000, timeout=0.5):
                assert message.error() is None, message.error()
                seen.append((message.key().decode(), message.value().decode()))
            if settle_until is None and len(seen) >= RECORDS:
                settle_until = time.monotonic() + 3
    finally:
        consumer.close()
    return seen


def final_counts(settings: KafkaSettings) -> dict[str, int]:
    latest: dict[str, int] = {}

    def apply(_partition: int, key: bytes | None, value: bytes | None) -> None:
        assert key is not None and value is not None
        latest[key.decode()] = int(value)

    read_to_end(settings, settings.topic(STATE), [0, 1, 2, 3], apply)
    return latest


def assert_exactly_once(settings: KafkaSettings, outputs: list[tuple[str, str]]) -> None:
    inputs = Counter(value.split("|")[0] for _, value in outputs)
    doubled = {value: n for value, n in inputs.items() if n > 1}
    missing = RECORDS - len(inputs)
    assert not doubled, (
        f"{len(doubled)} inputs were output more than once, e.g. {list(doubled)[:5]}"
    )
    assert missing == 0, f"{missing} inputs never reached the output"
    counts_by_key: dict[str, list[int]] = defaultdict(list)
    for key, value in outputs:
        counts_by_key[key].append(int(value.split("|")[1]))
    for key, counts in counts_by_key.items():
        assert counts == list(range(1, len(counts) + 1)), f"{key}: counts skip or repeat"
    expected = Counter(f"k{i % KEYS}" for i in range(RECORDS))
    assert final_counts(settings) == dict(expected)


@pytest.fixture
def instances(counting_topics: KafkaSettings, tmp_path: Path) -> Iterator[list[Instance]]:
    pool = [Instance(counting_topics, slot, tmp_path) for slot in (0, 1)]
    try:
        yield pool
    finally:
        for instance in pool:
            instance.kill()


def test_sigkill_three_times_loses_and_doubles_nothing(
    counting_topics: KafkaSettings, instances: list[Instance]
) -> None:
    rng = random.Random(20261123)
    instance = instances[0]
    instance.start()
    feeder = feed(counting_topics, seconds=12)
    for _ in range(3):
        time.sleep(rng.uniform(1.5, 3.5))
        instance.kill()
        instance.start()
    feeder.join(60)
    outputs = read_outputs(counting_topics, deadline_s=120)
    instance.stop()
    assert_exactly_once(counting_topics, outputs)


def test_instance_killed_during_rebalance_loses_and_doubles_nothing(
    counting_topics: KafkaSettings, instances: list[Instance]
) -> None:
    first, second = instances
    first.start()
    second.start()
    feeder = feed(counting_topics, seconds=10)
    time.sleep(4)
    second.kill()  # its partitions move to the first once its session times out
    feeder.join(60)
    outputs = read_outputs(counting_topics, deadline_s=150)
    first.stop()
    assert_exactly_once(counting_topics, outputs)
    assert second.starts == 1


def test_sigterm_commits_what_was_handled_and_exits_cleanly(
    counting_topics: KafkaSettings, instances: list[Instance]
) -> None:
    instance = instances[0]
    instance.start()
    feeder = feed(counting_topics, seconds=6)
    time.sleep(3)
    assert instance.process is not None
    instance.process.send_signal(signal.SIGTERM)
    assert instance.process.wait(30) == 0
    feeder.join(60)
    instance.start()  # the same slot picks up exactly where the drained one committed
    outputs = read_outputs(counting_topics, deadline_s=120)
    instance.stop()
    assert_exactly_once(counting_topics, outputs)
