"""CloudEvents binary-mode headers, so consumers can filter and dedup without decoding.

`ce_id` is deterministic (the event's own id), so a replay or a retried write carries the same
id. State topics carry none of these.

Built once per output record, so built lean: one tuple (what `OutputRecord` holds, so the
callers' `tuple(headers)` copies nothing), and the pairs that repeat from record to record
(spec version, source, type, schema, content type) made once and shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache

Headers = tuple[tuple[str, bytes], ...]

SPEC_VERSION = b"1.0"
CONTENT_TYPE = b"application/avro"


_SPEC = ("ce_specversion", SPEC_VERSION)
_CONTENT = ("content-type", CONTENT_TYPE)


def ce_headers(
    *, event_id: str, source: str, event_type: str, time_ms: int, subject: str, schema: str
) -> Headers:
    return (
        _SPEC,
        ("ce_id", event_id.encode()),
        _shared("ce_source", source),
        _shared("ce_type", event_type),
        ("ce_time", ce_time(time_ms)),
        ("ce_subject", subject.encode()),
        _shared("ce_dataschema", schema),
        _CONTENT,
    )


@lru_cache(maxsize=256)
def _shared(name: str, text: str) -> tuple[str, bytes]:
    """A header whose value comes from a small closed set (sources, event types, schemas)."""
    return name, text.encode()


def ce_time(time_ms: int) -> bytes:
    """RFC 3339 UTC with milliseconds, `2026-11-23T10:13:02.123Z`."""
    return f"{_second(time_ms // 1000)}.{time_ms % 1000:03d}Z".encode()


@lru_cache(maxsize=1024)
def _second(epoch_s: int) -> str:
    """Formatted once per second: records written together share it."""
    return datetime.fromtimestamp(epoch_s, tz=UTC).isoformat(timespec="seconds")[: -len("+00:00")]


def header(headers: Sequence[tuple[str, bytes]] | None, name: str) -> bytes | None:
    for key, value in headers or ():
        if key == name:
            return value
    return None
