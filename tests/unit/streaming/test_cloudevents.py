"""CloudEvents binary-mode headers, as every event record carries them."""

from __future__ import annotations

from services.streaming.cloudevents import ce_headers, header


def make_headers(**overrides: object) -> tuple[tuple[str, bytes], ...]:
    fields: dict[str, object] = {
        "event_id": "asg:lead-1:assign",
        "source": "leadrouter/router",
        "event_type": "io.leadrouter.assignment.assigned",
        "time_ms": 1_795_413_600_123,
        "subject": "lead-1",
        "schema": "io.leadrouter.Assignment",
    }
    return ce_headers(**(fields | overrides))  # type: ignore[arg-type]


def test_headers_name_the_event_in_cloudevents_binary_mode_order() -> None:
    assert make_headers() == (
        ("ce_specversion", b"1.0"),
        ("ce_id", b"asg:lead-1:assign"),
        ("ce_source", b"leadrouter/router"),
        ("ce_type", b"io.leadrouter.assignment.assigned"),
        ("ce_time", b"2026-11-23T06:00:00.123Z"),
        ("ce_subject", b"lead-1"),
        ("ce_dataschema", b"io.leadrouter.Assignment"),
        ("content-type", b"application/avro"),
    )


def test_headers_are_the_tuple_an_output_record_holds_so_handing_them_on_copies_nothing() -> None:
    headers = make_headers()
    assert tuple(headers) is headers


def test_records_of_different_events_carry_their_own_ids_subjects_and_types() -> None:
    other = make_headers(event_id="asg:lead-2", subject="lead-2", event_type="io.x.released")
    assert header(other, "ce_id") == b"asg:lead-2"
    assert header(other, "ce_subject") == b"lead-2"
    assert header(other, "ce_type") == b"io.x.released"
    assert header(make_headers(), "ce_type") == b"io.leadrouter.assignment.assigned"
