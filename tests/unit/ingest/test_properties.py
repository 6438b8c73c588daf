"""No input makes a normalizer raise anything but `InvalidLead`; ids are deterministic."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from services.ingest.chat import normalize_chat
from services.ingest.email_mime import normalize_email_message
from services.ingest.forms import (
    FormSubmission,
    normalize_form,
    parse_json_object,
    parse_urlencoded,
)
from services.ingest.identity import lead_id
from services.ingest.mailgun import normalize_mailgun
from services.ingest.rejection import REASONS, InvalidLead
from services.ingest.twilio_sms import normalize_twilio
from services.leads.events import Channel, Lead
from tests.unit.ingest.payloads import NOW_MS, fixture

FIELD_NAMES = st.sampled_from(
    ["email", "phone", "name", "first_name", "country", "language", "message", "deal_value",
     "utm_source", "company", "From", "Body", "MessageSid", "from", "body-html", "x", ""]
)  # fmt: skip
VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["ada@example.com", "+14155552671", "DE", "de-AT", "12.5", "<p>x</p>", "SM1"]),
)
FIELDS = st.lists(st.tuples(st.one_of(FIELD_NAMES, st.text(max_size=10)), VALUES), max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)  # fmt: skip


def either_lead_or_invalid(call: object) -> None:
    try:
        lead = call()  # type: ignore[operator]
    except InvalidLead as exc:
        assert exc.reason in REASONS
        assert exc.field and exc.expected
        return
    assert isinstance(lead, Lead)
    assert lead.identity_key


@given(FIELDS)
def test_form_normalizer_returns_a_lead_or_invalid_lead(fields: list[tuple[str, str]]) -> None:
    either_lead_or_invalid(lambda: normalize_form(FormSubmission("f", tuple(fields), NOW_MS)))


@given(st.binary(max_size=200))
def test_form_body_parsers_only_raise_invalid_lead(body: bytes) -> None:
    either_lead_or_invalid(lambda: normalize_form(FormSubmission("f", parse_urlencoded(body), 0)))
    either_lead_or_invalid(lambda: normalize_form(FormSubmission("f", parse_json_object(body), 0)))


@given(FIELDS)
def test_twilio_normalizer_returns_a_lead_or_invalid_lead(fields: list[tuple[str, str]]) -> None:
    either_lead_or_invalid(lambda: normalize_twilio(fields, NOW_MS))


@given(FIELDS)
def test_mailgun_normalizer_returns_a_lead_or_invalid_lead(fields: list[tuple[str, str]]) -> None:
    either_lead_or_invalid(lambda: normalize_mailgun(fields, (), NOW_MS))


@given(st.one_of(st.binary(max_size=300), st.dictionaries(st.sampled_from(
    ["conversation_id", "visitor", "first_message", "utm", "page_url", "site_id"]), JSON_VALUES
).map(lambda d: json.dumps(d).encode())))  # fmt: skip
def test_chat_normalizer_returns_a_lead_or_invalid_lead(body: bytes) -> None:
    either_lead_or_invalid(lambda: normalize_chat(body, NOW_MS))


@settings(max_examples=300)
@given(st.binary(max_size=400) | st.builds(
    lambda head, body: head + b"\r\n\r\n" + body,
    st.sampled_from([b"From: a@example.com", b"From: =?utf-8?q?=FF?= <a@b.c>", b"Content-Type:"
                     b" multipart/mixed; boundary=x", b"From: <@>\r\nMessage-ID: <", b"To: ,,"]),
    st.binary(max_size=200),
))  # fmt: skip
def test_email_normalizer_returns_a_lead_or_invalid_lead(raw: bytes) -> None:
    either_lead_or_invalid(lambda: normalize_email_message(raw, None, NOW_MS))


@given(st.binary(min_size=0, max_size=60))
def test_mutated_real_mail_only_raises_invalid_lead(noise: bytes) -> None:
    mail = fixture("thunderbird_multipart.eml")
    cut = len(noise) * 37 % len(mail)
    either_lead_or_invalid(lambda: normalize_email_message(mail[:cut] + noise, None, NOW_MS))


@given(st.sampled_from(list(Channel)), st.text(max_size=40), st.text(max_size=40))
def test_lead_id_depends_only_on_channel_and_source_message_id(
    channel: Channel, first: str, second: str
) -> None:
    assert lead_id(channel, first) == lead_id(channel, first)
    assert (lead_id(channel, first) == lead_id(channel, second)) == (first == second)


@given(FIELDS)
def test_form_normalizer_is_deterministic(fields: list[tuple[str, str]]) -> None:
    submission = FormSubmission("f", tuple(fields), NOW_MS)
    try:
        first = normalize_form(submission)
    except InvalidLead as exc:
        try:
            normalize_form(submission)
        except InvalidLead as again:
            assert (again.field, again.reason) == (exc.field, exc.reason)
        return
    assert normalize_form(submission) == first
