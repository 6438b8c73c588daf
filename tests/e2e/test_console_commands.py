"""`leadrouter assignments tail` and `leadrouter top` as processes against a real broker, with
assignments published the way the router publishes them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from confluent_kafka import Producer

from services.leads.events import Assignment, Outcome
from services.leads.topics import Topic
from services.streaming.codec import AvroCodec
from services.streaming.settings import KafkaSettings
from tests.unit.console.builders import candidate, make_assignment

pytestmark = pytest.mark.integration


def publish(settings: KafkaSettings, values: list[tuple[str, bytes]]) -> None:
    producer = Producer(settings.producer())
    for key, value in values:
        producer.produce(settings.topic(Topic.ASSIGNMENTS), key=key.encode(), value=value)
    assert producer.flush(10) == 0


def leadrouter(settings: KafkaSettings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": settings.topic_prefix,
        "INGEST_METRICS_PORT": "1",  # nothing listens: the view must say so, not fail
        "ROUTER_METRICS_PORT": "1",
        "SLA_METRICS_PORT": "1",
    }
    command = [sys.executable, "-m", "services.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_tail_prints_every_assignment_with_its_trace_and_reports_bad_records(
    topics: KafkaSettings,
) -> None:
    codec = AvroCodec(Assignment)
    first = make_assignment("lead-1", "ann", candidates=(candidate("bob", "away: back 10:00"),))
    second = make_assignment("lead-2", pool_id="unassigned", outcome=Outcome.UNASSIGNED)
    publish(
        topics,
        [
            ("lead-1", codec.encode(first)),
            ("lead-x", b"not avro"),
            ("lead-2", codec.encode(second)),
        ],
    )

    as_json = leadrouter(topics, "assignments", "tail", "--from-beginning", "--json",
                         "--idle-exit", "2")  # fmt: skip
    as_text = leadrouter(topics, "assignments", "tail", "--from-beginning", "--lead", "lead-1",
                         "--idle-exit", "2")  # fmt: skip

    assert as_json.returncode == 0, as_json.stderr
    decoded = sorted(
        (Assignment.model_validate(json.loads(line)) for line in as_json.stdout.splitlines()),
        key=lambda a: a.lead_id,
    )
    assert decoded == [first, second]
    assert "expected Assignment in Avro single-object encoding" in as_json.stderr
    assert as_text.returncode == 0, as_text.stderr
    assert "lead-1  assign->assigned  pool=emea rep=ann" in as_text.stdout
    assert "bob skipped (away: back 10:00)" in as_text.stdout
    assert "lead-2" not in as_text.stdout


def test_top_counts_what_is_on_the_topic_and_names_services_it_cannot_reach(
    topics: KafkaSettings,
) -> None:
    codec = AvroCodec(Assignment)
    publish(topics, [(f"l{n}", codec.encode(make_assignment(f"l{n}", "ann"))) for n in range(3)])

    result = leadrouter(topics, "top", "--seconds", "4")

    assert result.returncode == 0, result.stderr
    assert "decisions: 3" in result.stdout
    assert "router down" in result.stdout
    assert "no routing config published" in result.stdout


def test_commands_fail_with_one_line_when_the_topic_is_missing(
    kafka_settings: KafkaSettings,
) -> None:
    result = leadrouter(kafka_settings, "assignments", "tail")

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"leadrouter assignments: topic {kafka_settings.topic(Topic.ASSIGNMENTS)} is missing "
        "(run `leadrouter topics create`)"
    ]
