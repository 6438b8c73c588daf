"""Decoding without validation: models read straight from Avro, still refusing bad bytes."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from services.leads.events import (
    Assignment,
    Attachment,
    Candidate,
    Channel,
    DecisionTrace,
    Lead,
    Outcome,
    RequestKind,
    RoutingRequest,
    unvalidated,
)
from services.streaming.avro_models import builders
from services.streaming.codec import AvroCodec
from services.streaming.errors import DecodeError


def make_lead(**overrides: Any) -> Lead:
    fields: dict[str, Any] = {
        "lead_id": "lead-1",
        "identity_key": "ana@example.com",
        "channel": Channel.CHAT,
        "source": "chat:web",
        "source_message_id": "m-1",
        "received_at_ms": 1_700_000_000_000,
        "attachments": (Attachment(content_type="text/plain", size_bytes=3),),
    }
    return Lead(**(fields | overrides))


def make_assignment(lead: Lead | None = None) -> Assignment:
    trace = DecisionTrace(
        config_version=2,
        config_hash="h",
        strategy="weighted",
        fairness_policy="strict",
        pools_tried=("a", "b"),
        candidates=(Candidate(rep_id="r1", pool_id="b", credit=2.0),),
        chosen_rep="r1",
        input_topic="routing.requests",
        input_partition=1,
        input_offset=7,
    )
    return Assignment(
        assignment_id="asg:1",
        lead_id="lead-1",
        kind=RequestKind.REASSIGN,
        outcome=Outcome.ASSIGNED,
        pool_id="b",
        requested_pool_id="a",
        rep_id="r1",
        reason="r",
        attempt=2,
        previous_owners=("r0",),
        received_at_ms=1,
        decided_at_ms=2,
        lead=lead or make_lead(),
        trace=trace,
    )


def test_a_decoded_assignment_holds_enum_members_tuples_and_nested_models() -> None:
    codec = AvroCodec(Assignment)
    decoded = codec.decode(codec.encode(make_assignment()))
    assert decoded == make_assignment()
    assert decoded.kind is RequestKind.REASSIGN and decoded.outcome is Outcome.ASSIGNED
    assert decoded.lead is not None and decoded.lead.channel is Channel.CHAT
    assert type(decoded.trace) is DecisionTrace and type(decoded.lead.attachments[0]) is Attachment
    assert decoded.previous_owners == ("r0",) and type(decoded.trace.candidates) is tuple
    assert hash(decoded.trace.candidates[0]) == hash(make_assignment().trace.candidates[0])


def test_a_decoded_model_copies_and_dumps_like_a_validated_one() -> None:
    codec = AvroCodec(RoutingRequest)
    request = RoutingRequest(
        request_id="q",
        kind=RequestKind.ASSIGN,
        lead_id="lead-1",
        pool_id="p",
        lead=make_lead(),
        reason="r",
        received_at_ms=1,
        requested_at_ms=2,
    )
    decoded = codec.decode(codec.encode(request))
    moved = decoded.model_copy(update={"pool_id": "q"})
    assert moved.model_dump() == request.model_copy(update={"pool_id": "q"}).model_dump()
    assert decoded.model_fields_set == set(RoutingRequest.model_fields)


def test_decoded_models_share_a_fields_set_that_no_copy_can_change() -> None:
    codec = AvroCodec(Lead)
    first, second = (codec.decode(codec.encode(make_lead(lead_id=n))) for n in ("a", "b"))
    assert first.__pydantic_fields_set__ is second.__pydantic_fields_set__  # one per model
    copied = first.model_copy(update={"lead_id": "c"})
    assert copied.__pydantic_fields_set__ is not first.__pydantic_fields_set__  # copied first
    assert copied.lead_id == "c" and second.model_fields_set == set(Lead.model_fields)
    with pytest.raises(ValidationError, match="frozen"):
        first.lead_id = "d"  # the one way pydantic adds to a fields set is refused
    assert first.model_fields_set == set(Lead.model_fields)


def test_bytes_after_the_end_of_a_record_are_refused() -> None:
    codec = AvroCodec(Lead)
    with pytest.raises(DecodeError, match="1 bytes follow the end of the record"):
        codec.decode(codec.encode(make_lead()) + b"\x00")


def test_an_enum_index_past_the_schema_symbols_is_refused() -> None:
    codec = AvroCodec(Lead)
    data = bytearray(codec.encode(make_lead(lead_id="a", identity_key="b")))
    channel_at = len(codec.header) + 2 + 2  # after two one-character strings
    data[channel_at] = 40  # zigzag 20: there are five channels
    with pytest.raises(DecodeError, match="enum index 20"):
        codec.decode(bytes(data))


class _Checked(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("blank")
        return value


class _Bounded(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str = Field(max_length=3)


RECORDS = {
    "io.leadrouter._Checked": {"name": "io.leadrouter._Checked", "fields": [{"name": "name"}]},
    "io.leadrouter._Bounded": {"name": "io.leadrouter._Bounded", "fields": [{"name": "name"}]},
}


@pytest.mark.parametrize("model", [_Checked, _Bounded])
def test_a_model_with_validators_or_constraints_is_not_built_unvalidated(
    model: type[BaseModel],
) -> None:
    assert builders(model, RECORDS) is None


def test_a_model_whose_fields_differ_from_its_schema_is_not_built_unvalidated() -> None:
    records = {"io.leadrouter.Candidate": {"name": "io.leadrouter.Candidate", "fields": []}}
    assert builders(Candidate, records) is None


def test_unvalidated_equals_the_validated_model() -> None:
    values = {"rep_id": "r1", "pool_id": "p", "skip_reason": None, "credit": 1.0}
    assert unvalidated(Candidate, dict(values)) == Candidate(**values)
    assert Candidate.trusted(**values) == Candidate(**values)
