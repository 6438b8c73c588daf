"""`schemas/SlaTimer.avsc` and the `SlaTimer` model describe the same record, field for field."""

from __future__ import annotations

import json
from typing import Any

from services.sla_watcher.timer_state import SlaTimer, TimerStatus
from services.streaming.codec import SCHEMA_DIR


def avro_fields() -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = json.loads((SCHEMA_DIR / "SlaTimer.avsc").read_text())["fields"]
    return fields


DERIVED = "wakes_at_ms"
"""Written from the model's `wakes_at_ms` property, first, so the store reads it in place."""


def test_fields_match_in_name_and_order() -> None:
    assert [f["name"] for f in avro_fields()] == [DERIVED, *SlaTimer.model_fields]


def test_the_store_reads_the_leading_fields_in_place() -> None:
    assert [f["name"] for f in avro_fields()[:3]] == [DERIVED, "status", "updated_at_ms"]
    assert avro_fields()[0]["type"] == ["null", "long"]


def test_every_field_with_a_model_default_has_an_avro_default() -> None:
    for field in avro_fields()[1:]:
        model_field = SlaTimer.model_fields[field["name"]]
        assert ("default" in field) == (not model_field.is_required()), field["name"]


def test_status_symbols_match_the_enum() -> None:
    (status,) = [f for f in avro_fields() if f["name"] == "status"]
    assert status["type"]["symbols"] == [s.value for s in TimerStatus]
