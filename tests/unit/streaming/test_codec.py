from __future__ import annotations

import contextlib
import io
import struct
from typing import Any

import fastavro
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

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
    RoutingRequest,
)
from services.streaming.codec import (
    MAGIC,
    PRESENT,
    SCHEMA_DIR,
    AvroCodec,
    _parse_all,
    fingerprint,
)
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


# -- the compiled writer and reader: what fastavro would write and read, byte for byte ----------
TEXT = st.text(max_size=12)
MAYBE_TEXT = st.none() | TEXT
LONGS = st.integers(min_value=-(2**63), max_value=2**63 - 1)

leads = st.builds(
    Lead,
    lead_id=TEXT,
    identity_key=TEXT,
    channel=st.sampled_from(Channel),
    source=TEXT,
    source_message_id=TEXT,
    received_at_ms=LONGS,
    email=MAYBE_TEXT,
    company_domain=MAYBE_TEXT,
    deal_value=st.none() | st.floats(allow_nan=False),
    message=MAYBE_TEXT,
    utm=st.dictionaries(TEXT, TEXT, max_size=3),
    attributes=st.dictionaries(TEXT, TEXT, max_size=3),
    attachments=st.lists(
        st.builds(
            Attachment,
            filename=MAYBE_TEXT,
            content_type=TEXT,
            size_bytes=st.integers(-(2**31), 2**31 - 1),
        ),
        max_size=2,
    ).map(tuple),
)


def fastavro_body(codec: AvroCodec[Any], event: BaseModel) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, codec.schema, event.model_dump())
    return buffer.getvalue()


@given(leads)
def test_compiled_encoding_is_what_fastavro_writes_and_reads_back(lead: Lead) -> None:
    encoded = LEADS.encode(lead)
    assert encoded[10:] == fastavro_body(LEADS, lead)
    assert LEADS.compiled is not None
    body, _ = LEADS.compiled.read(encoded, 10)
    assert body == fastavro.schemaless_reader(io.BytesIO(encoded[10:]), LEADS.schema, None)
    assert LEADS.decode(encoded) == lead


@given(leads, st.lists(TEXT, max_size=3).map(tuple), st.none() | TEXT)
def test_a_lead_passed_on_as_bytes_encodes_exactly_as_the_lead_itself(
    lead: Lead, skills: tuple[str, ...], preferred: str | None
) -> None:
    requests = AvroCodec(RoutingRequest)
    inbound, body = LEADS.decode_body(LEADS.encode(lead))
    assert body is not None
    request = RoutingRequest(
        request_id="r-1",
        kind=RequestKind.ASSIGN,
        lead_id=lead.lead_id,
        pool_id="emea",
        lead=inbound,
        preferred_owner=preferred,
        required_skills=skills,
        reason="rule",
        received_at_ms=1,
        requested_at_ms=2,
    )
    spliced = requests.encode(request, raw={"lead": PRESENT + body})
    assert spliced == requests.encode(request)
    assert spliced[10:] == fastavro_body(requests, request)
    decoded, kept = requests.decode_keeping(spliced, "lead")
    assert decoded == request and kept == PRESENT + body


def test_a_record_an_older_schema_wrote_is_resolved_against_the_current_one() -> None:
    requests = AvroCodec(RoutingRequest)
    [old] = [
        schema
        for schema in _parse_all(sorted((SCHEMA_DIR / "history" / "v1").glob("*.avsc"))).values()
        if schema["name"] == "io.leadrouter.RoutingRequest"
    ]
    assert fingerprint(old) != requests.fingerprint  # else this would not test the fallback
    record = {
        "request_id": "r-1",
        "kind": "assign",
        "lead_id": "lead-1",
        "pool_id": "emea",
        "lead": make_lead().model_dump(),
        "reason": "rule",
        "received_at_ms": 1,
        "requested_at_ms": 2,
    }
    buffer = io.BytesIO()
    buffer.write(struct.pack("<2sQ", MAGIC, fingerprint(old)))
    fastavro.schemaless_writer(buffer, old, record)
    decoded, kept = requests.decode_keeping(buffer.getvalue(), "lead")
    assert decoded.lead == make_lead() and decoded.pools_tried == ()
    assert kept is None  # an older layout's bytes are not passed on as the current one's


@given(st.binary(max_size=60))
def test_a_corrupted_request_with_a_lead_raises_decode_error(tail: bytes) -> None:
    requests = AvroCodec(RoutingRequest)
    valid = requests.encode(
        RoutingRequest(
            request_id="r",
            kind=RequestKind.ASSIGN,
            lead_id="l",
            pool_id="p",
            lead=make_lead(),
            reason="x",
            received_at_ms=1,
            requested_at_ms=2,
        )
    )
    for cut in (11, 40, len(valid) - 3):
        with contextlib.suppress(DecodeError):
            requests.decode_keeping(valid[:cut] + tail, "lead")
