"""`leadrouter activity`: the record it publishes and the times it accepts."""

from __future__ import annotations

import pytest

from services.cli.activity_cmd import activity_record, parse_instant_ms
from services.cli.base import CommandError
from services.leads.events import ActivityType, LeadActivity
from services.streaming.cloudevents import header
from services.streaming.codec import AvroCodec
from tests.unit.sla_watcher.builders import make_activity


def test_record_is_keyed_by_lead_and_carries_cloudevents_headers() -> None:
    activity = make_activity(ActivityType.REJECTED, lead_id="lead-7")
    record = activity_record("leads.activity", activity)
    assert record.key == b"lead-7"
    assert AvroCodec(LeadActivity).decode(record.value) == activity
    headers = list(record.headers)
    assert header(headers, "ce_type") == b"io.leadrouter.activity.rejected"
    assert header(headers, "ce_id") == activity.activity_id.encode()
    assert header(headers, "ce_subject") == b"lead-7"


def test_times_with_an_offset_are_accepted() -> None:
    assert parse_instant_ms("2026-05-04T09:30:00Z") == 1_777_887_000_000
    assert parse_instant_ms("2026-05-04T11:30:00+02:00") == 1_777_887_000_000


@pytest.mark.parametrize("text", ["2026-05-04T09:30:00", "yesterday", ""])
def test_times_without_an_offset_are_refused_naming_the_flag(text: str) -> None:
    with pytest.raises(CommandError, match="--at expects an ISO 8601 time with an offset"):
        parse_instant_ms(text)
