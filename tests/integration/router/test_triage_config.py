"""Config publishing on the real broker: versions, hashes, show/diff, and followers that switch
to each new valid version and keep the last good one when a bad document appears."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from confluent_kafka import Producer

from services.cli.__main__ import main
from services.leads.events import RoutingConfigRecord
from services.leads.topics import Topic
from services.router.config_document import content_hash
from services.router.config_source import ActiveConfig, config_record_serde, config_table
from services.streaming.settings import KafkaSettings

pytestmark = pytest.mark.integration
EXAMPLE = Path(__file__).resolve().parents[3] / "deploy" / "config" / "routing.example.yaml"


@pytest.fixture
def cli_env(topics: KafkaSettings, monkeypatch: pytest.MonkeyPatch) -> KafkaSettings:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", topics.bootstrap_servers)
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", topics.topic_prefix)
    return topics


def test_publish_show_and_diff_through_the_cli(
    cli_env: KafkaSettings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = EXAMPLE.read_text()
    assert main(["config", "diff", str(EXAMPLE)]) == 0
    assert "would create version 1" in capsys.readouterr().out

    assert main(["config", "publish", str(EXAMPLE), "--by", "ci"]) == 0
    assert capsys.readouterr().out.strip() == (
        f"published version 1 (sha256 {content_hash(text)}) by ci"
    )
    assert main(["config", "publish", str(EXAMPLE)]) == 0
    assert "unchanged: version 1 already has this document" in capsys.readouterr().out

    changed = tmp_path / "routing.yaml"
    changed.write_text(
        text.replace(
            "    max_open: 25\n    daily_cap: 12\n  - id: jonas",
            "    max_open: 30\n    daily_cap: 12\n  - id: jonas",
        )
    )
    assert main(["config", "diff", str(changed)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{changed} against version 1:",
        "  ~ rep lena: max_open 25 -> 30",
    ]
    assert main(["config", "publish", str(changed), "--by", "ci"]) == 0
    capsys.readouterr()
    assert main(["config", "show"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"# version 2, sha256 {content_hash(changed.read_text())}")
    assert shown.endswith(changed.read_text())
    assert main(["config", "show", "--history"]) == 0
    assert [line.split(",")[0] for line in capsys.readouterr().out.splitlines()] == [
        "version 1",
        "version 2",
    ]


def test_an_invalid_file_is_never_published(
    cli_env: KafkaSettings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "routing.yaml"
    bad.write_text(EXAMPLE.read_text().replace("default_pool: global-overflow", "default_pool: x"))
    assert main(["config", "publish", str(bad)]) == 1
    assert "default_pool: unknown pool 'x'" in capsys.readouterr().err
    assert main(["config", "show"]) == 1
    assert "no routing config published yet" in capsys.readouterr().err


def test_followers_switch_versions_and_skip_documents_that_do_not_validate(
    cli_env: KafkaSettings, tmp_path: Path
) -> None:
    settings = cli_env
    assert main(["config", "publish", str(EXAMPLE)]) == 0
    table = config_table(settings)
    active = ActiveConfig(table)
    table.load()
    try:
        assert active.current().version == 1
        bad_text = "reps: []\n"
        good_text = EXAMPLE.read_text().replace("description: Acme", "description: Acme v3")
        producer = Producer(settings.producer())
        for version, text in ((2, bad_text), (3, good_text)):
            record = RoutingConfigRecord(
                version=version, content_hash=content_hash(text), document=text, published_at_ms=1
            )
            producer.produce(
                settings.topic(Topic.ROUTING_CONFIG),
                key=str(version).encode(),
                value=config_record_serde().encode(record),
            )
            assert producer.flush(30) == 0
            deadline = time.monotonic() + 30
            while version not in active.skipped and active.current().version != version:
                assert time.monotonic() < deadline, f"version {version} never reached the table"
                table.refresh()  # what the loop does between transactions
                time.sleep(0.05)
            if version == 2:
                assert 2 in active.skipped and active.current().version == 1
        assert active.current().version == 3
        assert active.current().config.description == "Acme v3 Analytics inbound sales routing"
    finally:
        table.close()
