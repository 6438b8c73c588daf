"""Activity read before its lead's assignment: kept whole in `sla.timers`, applied when the
assignment arrives, or dead-lettered with its original bytes when none comes in time.

`leads.assignments` and `leads.activity` are read side by side, and nothing orders records
across two topics: a CRM that acts the moment it sees an assignment can be read first. A short
wait (`SLA_EARLY_ACTIVITY_WAIT_MS`) absorbs that; activity still unmatched after it is for a lead
the watcher does not know, and becomes a dead letter with reason `unknown_lead`.
"""

from __future__ import annotations

from services.sla_watcher.timer_state import ParkedRecord, SlaTimer
from services.streaming.dead_letters import DeadLetterSink
from services.streaming.errors import InvalidRecord
from services.streaming.records import InputRecord, OutputRecord


def kept(record: InputRecord) -> ParkedRecord:
    return ParkedRecord(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value,
        timestamp_ms=record.timestamp_ms,
    )


def restored(parked: ParkedRecord) -> InputRecord:
    return InputRecord(
        parked.topic,
        parked.partition,
        parked.offset,
        parked.key,
        parked.value,
        parked.timestamp_ms,
    )


def unknown_lead(lead_id: str, activity_id: str, activity_type: str) -> InvalidRecord:
    return InvalidRecord(
        "unknown_lead",
        f"lead_id: no lead {lead_id!r} is tracked (never assigned, already closed, or purged); "
        f"{activity_type} activity {activity_id}",
    )


def dead_letters(
    sink: DeadLetterSink, entry: SlaTimer, reasons: list[InvalidRecord], now_ms: int
) -> list[OutputRecord]:
    """One dead letter per parked record of `entry`, original bytes and provenance kept."""
    return [
        sink.letter(restored(parked), reason, now_ms)
        for parked, reason in zip(entry.parked, reasons, strict=True)
    ]
