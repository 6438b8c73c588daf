"""`leadrouter topics create|check` against the real broker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from services.leads.topics import Topic, topic_specs
from services.streaming.admin import create_topics, partition_counts
from services.streaming.settings import KafkaSettings

pytestmark = pytest.mark.integration
REPO_ROOT = Path(__file__).resolve().parents[3]


def cli(settings: KafkaSettings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": settings.topic_prefix,
    }
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "topics", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_create_makes_every_topic_with_its_cleanup_policy_and_is_idempotent(
    kafka_settings: KafkaSettings,
) -> None:
    first = cli(kafka_settings, "create", "--partitions", "3")
    second = cli(kafka_settings, "create", "--partitions", "3")
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "created" in first.stdout and "created" not in second.stdout
    counts = partition_counts(kafka_settings)
    for spec in topic_specs():
        assert counts[kafka_settings.topic(spec.name)] == (1 if spec.single_partition else 3)
    admin = AdminClient(kafka_settings.admin())
    resource = ConfigResource("topic", kafka_settings.topic(Topic.SLA_TIMERS))
    config = admin.describe_configs([resource])[resource].result()
    assert config["cleanup.policy"].value == "compact"
    assert cli(kafka_settings, "check").returncode == 0


def test_check_refuses_a_state_topic_not_co_partitioned_with_its_input(
    kafka_settings: KafkaSettings,
) -> None:
    mismatched = kafka_settings.topic(Topic.ROTATION_STATE)
    admin = AdminClient(kafka_settings.admin())  # must outlive the future it returns
    admin.create_topics([NewTopic(mismatched, 2, 1)])[mismatched].result()
    create_topics(kafka_settings, partitions=4)
    result = cli(kafka_settings, "check")
    assert result.returncode == 1
    assert f"{mismatched} has 2 partitions but" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_names_missing_topics(kafka_settings: KafkaSettings) -> None:
    result = cli(kafka_settings, "check")
    assert result.returncode == 1
    assert "missing (run `leadrouter topics create`)" in result.stderr
