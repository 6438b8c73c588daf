"""The reference CRM sync (examples/crm_sync) run as a process against a real broker."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from services.leads.events import (
    Assignment,
    DecisionTrace,
    LeadActivity,
    Outcome,
    RequestKind,
)
from services.leads.topics import Topic
from services.streaming.codec import AvroCodec
from services.streaming.settings import KafkaSettings

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "examples" / "crm_sync" / "crm_sync.py"


def make_assignment(
    lead_id: str,
    rep_id: str | None = "ann",
    *,
    attempt: int = 1,
    outcome: Outcome = Outcome.ASSIGNED,
    kind: RequestKind = RequestKind.ASSIGN,
) -> Assignment:
    return Assignment(
        assignment_id=f"{lead_id}:{attempt}:{outcome.value}",
        lead_id=lead_id,
        kind=kind,
        outcome=outcome,
        pool_id="emea",
        requested_pool_id="emea",
        rep_id=rep_id if outcome is Outcome.ASSIGNED else None,
        reason=f"{outcome.value} by test",
        attempt=attempt,
        received_at_ms=1_700_000_000_000,
        decided_at_ms=1_700_000_000_000 + attempt,
        trace=DecisionTrace(
            config_version=1,
            config_hash="c0ffee",
            strategy="round_robin",
            fairness_policy="strict",
            input_topic="routing.requests",
            input_partition=0,
            input_offset=attempt,
        ),
    )


def publish(settings: KafkaSettings, assignments: list[Assignment]) -> None:
    producer = Producer(settings.producer())
    codec = AvroCodec(Assignment)
    for a in assignments:
        producer.produce(
            settings.topic(Topic.ASSIGNMENTS), key=a.lead_id.encode(), value=codec.encode(a)
        )
    assert producer.flush(10) == 0


def run_sync(settings: KafkaSettings, db: Path, group: str) -> None:
    env = {"KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers, "PATH": "/usr/bin:/bin"}
    command = [sys.executable, str(SCRIPT), "--db", str(db), "--group", group, "--sample", "0.5"]
    command += ["--topic-prefix", settings.topic_prefix, "--idle-exit", "2"]
    result = subprocess.run(
        command, check=False, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def owners(db: Path) -> dict[str, tuple[str | None, str, int]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT lead_id, owner, status, attempt FROM leads").fetchall()
    return {lead: (owner, status, attempt) for lead, owner, status, attempt in rows}


def activities(settings: KafkaSettings) -> list[LeadActivity]:
    topic = settings.topic(Topic.ACTIVITY)
    consumer = Consumer(settings.reader())
    try:
        parts = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
        codec = AvroCodec(LeadActivity)
        found = []
        while batch := consumer.consume(500, timeout=2):
            found += [codec.decode(m.value()) for m in batch if not m.error()]
        return found
    finally:
        consumer.close()


def test_owner_changes_apply_once_by_attempt_and_sampled_leads_get_first_touch(
    topics: KafkaSettings, tmp_path: Path
) -> None:
    first = make_assignment("lead-a", "ann")
    reassigned = make_assignment("lead-a", "bob", attempt=2, kind=RequestKind.REASSIGN)
    released = make_assignment(
        "lead-b", attempt=1, outcome=Outcome.RELEASED, kind=RequestKind.RELEASE
    )
    bulk = [make_assignment(f"lead-{n:03}", "cy") for n in range(30)]
    publish(
        topics,
        [
            first,
            first,  # redelivered
            reassigned,
            first,  # a stale replay of attempt 1 after attempt 2
            make_assignment("lead-b", "dee"),
            released,
            make_assignment("lead-c", outcome=Outcome.UNASSIGNED),
            # Out of order: the reassignment arrives before the first assignment.
            make_assignment("lead-d", "bob", attempt=2, kind=RequestKind.REASSIGN),
            make_assignment("lead-d", "ann"),
            *bulk,
        ],
    )
    db = tmp_path / "crm.sqlite3"

    run_sync(topics, db, group="crm-a")

    table = owners(db)
    assert table["lead-a"] == ("bob", "assigned", 2)
    assert table["lead-b"] == (None, "released", 1)
    assert table["lead-c"] == (None, "unassigned", 1)
    assert table["lead-d"] == ("bob", "assigned", 2)
    assert all(table[f"lead-{n:03}"] == ("cy", "assigned", 1) for n in range(30))
    # Every applied assignment to a sampled lead got exactly one first_touch, nothing else did.
    applied = [
        first,
        reassigned,
        make_assignment("lead-b", "dee"),
        make_assignment("lead-d", "bob", attempt=2, kind=RequestKind.REASSIGN),
        *bulk,
    ]
    expected = {
        f"crm-sync:{a.assignment_id}:first_touch"
        for a in applied
        if zlib.crc32(a.lead_id.encode()) % 10_000 < 5_000
    }
    touched = activities(topics)
    assert sorted(t.activity_id for t in touched) == sorted(expected)
    assert 5 <= len(expected) <= 28  # the sample is neither everything nor nothing
    assert all(t.type.value == "first_touch" and t.source == "crm-sync" for t in touched)

    # Replaying the whole topic into the same table (a new group) changes nothing.
    run_sync(topics, db, group="crm-replay")

    assert owners(db) == table
    assert len(activities(topics)) == len(expected)
