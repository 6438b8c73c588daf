"""`fuse`: several processors as one, each record to the processor that reads its topic."""

from __future__ import annotations

import pytest

from services.streaming.processor import Processor, fuse
from services.streaming.records import InputRecord, OutputRecord, Serde
from services.streaming.settings import KafkaSettings
from services.streaming.state import StateStore
from services.streaming.tables import GlobalTable

TEXT = Serde[str](encode=str.encode, decode=bytes.decode)


def echo(name: str, inputs: list[str], **extra: object) -> Processor:
    def handle(record: InputRecord) -> list[OutputRecord]:
        return [OutputRecord(f"{name}.out", record.key, record.value)]

    return Processor(app_id=name, inputs=inputs, handle=handle, **extra)  # type: ignore[arg-type]


def record(topic: str) -> InputRecord:
    return InputRecord(topic, 0, 0, b"k", b"v", 0)


def test_each_record_goes_to_the_processor_that_reads_its_topic() -> None:
    fused = fuse("both", echo("triage", ["inbound"]), echo("assign", ["requests", "again"]))
    assert fused.app_id == "both" and list(fused.inputs) == ["inbound", "requests", "again"]
    assert [o.topic for o in fused.handle(record("inbound"))] == ["triage.out"]
    assert [o.topic for o in fused.handle(record("again"))] == ["assign.out"]


def test_stores_are_all_kept_and_a_shared_table_is_loaded_once() -> None:
    settings = KafkaSettings()
    config = GlobalTable(settings, "config", TEXT)
    presence = GlobalTable(settings, "presence", TEXT)
    identity, rotation = StateStore("identity", TEXT), StateStore("rotation", TEXT)
    fused = fuse(
        "both",
        echo("a", ["x"], stores=[identity], tables=[config], dead_letter_topic="dead"),
        echo("b", ["y"], stores=[rotation], tables=[config, presence], dead_letter_topic="dead"),
    )
    assert list(fused.stores) == [identity, rotation]
    assert list(fused.tables) == [config, presence]
    assert fused.dead_letter_topic == "dead"


def test_processors_that_cannot_share_a_loop_are_refused() -> None:
    with pytest.raises(ValueError, match="read by two"):
        fuse("both", echo("a", ["x"]), echo("b", ["x"]))
    with pytest.raises(ValueError, match="one dead-letter topic"):
        fuse(
            "both",
            echo("a", ["x"], dead_letter_topic="d1"),
            echo("b", ["y"], dead_letter_topic="d2"),
        )
    with pytest.raises(ValueError, match="ticking"):
        fuse("both", echo("a", ["x"], tick=lambda p, n, b: []), echo("b", ["y"]))
