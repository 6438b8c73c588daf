from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.leads.events import (
    Assignment,
    Attachment,
    Candidate,
    Channel,
    DecisionTrace,
    Lead,
    Outcome,
    PresenceStatus,
    RepPresence,
    RequestKind,
)
from services.streaming.codec import MAGIC, AvroCodec
from services.streaming.errors import DecodeError

LEADS = AvroCodec(Lead)


def make_lead(**overrides: object) -> Lead:
    fields: dict[str, object] = {
        "lead_id": "lead-1",
        "identity_key": "ana@example.com",
        "channel": Channel.FORM,
        "source": "form:contact",
        "source_message_id": "sub-1",
        "received_at_ms": 1_700_000_000_000,
    }
    return Lead.model_validate(fields | overrides)


def test_a_lead_with_every_field_round_trips() -> None:
    lead = make_lead(
        email="ana@example.com",
        phone="+4915112345678",
        first_name="Ana",
        last_name="Núñez",
        company="Acme",
        company_domain="acme.com",
        country="DE",
        region="BE",
        language="de",
        product="cloud",
        deal_value=12_500.5,
        message="Hallo",
        campaign="q4",
        page_url="https://x",
        utm={"utm_source": "ads"},
        attributes={"team_size": "40"},
        attachments=(Attachment(filename="a.pdf", content_type="application/pdf", size_bytes=9),),
    )
    assert LEADS.decode(LEADS.encode(lead)) == lead


def test_nested_records_round_trip() -> None:
    trace = DecisionTrace(
        config_version=3,
        config_hash="abc",
        strategy="weighted",
        fairness_policy="strict",
        candidates=(Candidate(rep_id="ann", pool_id="emea", skip_reason="away"),),
        input_topic="routing.requests",
        input_partition=2,
        input_offset=41,
    )
    assignment = Assignment(
        assignment_id="a-1",
        lead_id="lead-1",
        kind=RequestKind.ASSIGN,
        outcome=Outcome.ASSIGNED,
        pool_id="emea",
        requested_pool_id="emea",
        rep_id="bob",
        reason="turn",
        attempt=1,
        received_at_ms=1,
        decided_at_ms=2,
        lead=make_lead(),
        trace=trace,
    )
    codec = AvroCodec(Assignment)
    assert codec.decode(codec.encode(assignment)) == assignment


def test_encoding_names_its_writer_schema() -> None:
    assert LEADS.encode(make_lead())[:2] == MAGIC


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        (None, "tombstone"),
        (b"", "single-object"),
        (b'{"lead_id": "x"}', "single-object"),
        (MAGIC + b"\x00" * 8 + b"\x02", "unknown writer schema"),
    ],
)
def test_bad_bytes_raise_a_decode_error_that_says_what_is_wrong(
    data: bytes | None, complaint: str
) -> None:
    with pytest.raises(DecodeError, match=complaint):
        LEADS.decode(data)


def test_a_record_of_another_type_is_refused() -> None:
    presence = RepPresence(rep_id="ann", status=PresenceStatus.AWAY, changed_at_ms=1)
    other = AvroCodec(RepPresence).encode(presence)
    with pytest.raises(DecodeError):
        LEADS.decode(other)


@given(st.binary(max_size=200))
def test_no_bytes_make_decode_raise_anything_but_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        LEADS.decode(data)


@given(st.binary(max_size=120))
def test_truncated_or_corrupted_bodies_raise_decode_error(tail: bytes) -> None:
    valid = LEADS.encode(make_lead())
    with contextlib.suppress(DecodeError):
        LEADS.decode(valid[:10] + tail)
