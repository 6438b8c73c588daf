"""`leadrouter owners import` on the real broker: owners land in router.owners as the router
writes them; the same file again writes nothing; a file with bad rows writes nothing and names
each line; an owner the router decided since is kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from confluent_kafka import Producer

from services.leads.topics import Topic
from services.router.owner_facts import owner_fact_records, owner_fact_serde
from services.router.ownership import OwnerFact
from services.streaming.settings import KafkaSettings
from services.streaming.tables import GlobalTable
from tests.integration.notifier.harness import REPO_ROOT, config_text
from tests.integration.sla_watcher.harness import publish

pytestmark = [pytest.mark.integration]

EXPORT = """email,domain,phone,rep
jo@acme.example,acme.example,,ann
,,+49 30 1234567,bob
kim@beta.example,,,bob
"""


def leadrouter(settings: KafkaSettings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": settings.topic_prefix,
    }
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def owners(settings: KafkaSettings) -> dict[str, OwnerFact]:
    table = GlobalTable(settings, settings.topic(Topic.OWNERS), owner_fact_serde())
    try:
        table.load()
        return dict(table.values)
    finally:
        table.close()


def test_owners_import_is_idempotent_and_keeps_router_decisions(
    topics: KafkaSettings, tmp_path: Path
) -> None:
    publish(topics, config_text({}))
    decided = OwnerFact(
        subject="person:kim@beta.example",
        rep_id="ann",
        pool_id="inside",
        lead_id="lead-7",
        assigned_at_ms=1,
    )
    producer = Producer(topics.producer())
    for record in owner_fact_records(topics.topic(Topic.OWNERS), (decided,)):
        producer.produce(record.topic, key=record.key, value=record.value)
    assert producer.flush(30) == 0
    export = tmp_path / "owners.csv"
    export.write_text(EXPORT)

    first = leadrouter(topics, "owners", "import", str(export), "--source", "hubspot")
    again = leadrouter(topics, "owners", "import", str(export), "--source", "hubspot")

    assert first.returncode == 0, first.stderr
    assert "3 owner(s) written, 0 unchanged, 1 kept" in first.stdout
    assert "0 owner(s) written, 3 unchanged, 1 kept" in again.stdout
    facts = owners(topics)
    assert facts["person:jo@acme.example"].rep_id == "ann"
    assert facts["account:acme.example"].lead_id == "import:hubspot"
    assert facts["person:+49301234567"].rep_id == "bob"
    assert facts["person:kim@beta.example"] == decided


def test_a_file_with_bad_rows_writes_nothing_and_names_each_line(
    topics: KafkaSettings, tmp_path: Path
) -> None:
    publish(topics, config_text({}))
    export = tmp_path / "owners.jsonl"
    export.write_text('{"email": "jo@acme.example", "rep": "ann"}\n{"email": "x", "rep": "zed"}\n')

    result = leadrouter(topics, "owners", "import", str(export))

    assert result.returncode == 1
    assert f"{export}:line 2: rep: 'zed' is no rep of the routing config in force" in result.stderr
    assert "1 bad row(s), nothing imported" in result.stderr
    assert owners(topics) == {}
