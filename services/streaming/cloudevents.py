"""CloudEvents binary-mode headers, so consumers can filter and dedup without decoding.

`ce_id` is deterministic (the event's own id), so a replay or a retried write carries the same
id. State topics carry none of these.
"""

from __future__ import annotations

from datetime import UTC, datetime

Headers = list[tuple[str, bytes]]

SPEC_VERSION = b"1.0"
CONTENT_TYPE = b"application/avro"


def ce_headers(
    *, event_id: str, source: str, event_type: str, time_ms: int, subject: str, schema: str
) -> Headers:
    time = datetime.fromtimestamp(time_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")
    return [
        ("ce_specversion", SPEC_VERSION),
        ("ce_id", event_id.encode()),
        ("ce_source", source.encode()),
        ("ce_type", event_type.encode()),
        ("ce_time", time.replace("+00:00", "Z").encode()),
        ("ce_subject", subject.encode()),
        ("ce_dataschema", schema.encode()),
        ("content-type", CONTENT_TYPE),
    ]


def header(headers: Headers | None, name: str) -> bytes | None:
    for key, value in headers or ():
        if key == name:
            return value
    return None
