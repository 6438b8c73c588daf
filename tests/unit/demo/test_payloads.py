"""The demo signs requests the way each provider does; checked against independent verifiers."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import random
from email import message_from_bytes, policy
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator

from services.demo.payloads import (
    chat_body,
    email_message,
    form_body,
    form_fields,
    form_signature,
    hub_signature,
    twilio_params,
    twilio_signature,
)
from services.demo.people import Prospect, make_prospect


def prospect(**changes: str) -> Prospect:
    return dataclasses.replace(make_prospect(random.Random(7)), **changes)


def test_twilio_signature_is_what_twilios_own_validator_accepts() -> None:
    url = "http://127.0.0.1:8080/v1/leads/sms/twilio"
    params = twilio_params(prospect(), "SM" + "a" * 32, "+14155550100")
    signature = twilio_signature("auth-token", url, params)

    validator = RequestValidator("auth-token")
    assert validator.validate(url, dict(params), signature)
    assert not validator.validate(url, {**dict(params), "Body": "changed"}, signature)


def test_form_signature_covers_timestamp_and_body() -> None:
    body = form_body(form_fields(prospect(), "sub-1", "spring"))
    header = form_signature("secret", body, now_s=1_700_000_000)

    timestamp, mac = (part.split("=", 1)[1] for part in header.split(","))
    expected = hmac.new(b"secret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert timestamp == "1700000000" and mac == expected


def test_form_post_keeps_names_utf8_and_the_submission_id() -> None:
    fields = dict(
        parse_qsl(form_body(form_fields(prospect(first_name="Zoë"), "sub-9", "c")).decode())
    )
    assert fields["first_name"] == "Zoë"
    assert fields["submission_id"] == "sub-9"
    assert fields["utm_campaign"] == "c"


def test_chat_body_is_the_documented_webhook_signed_over_raw_bytes() -> None:
    body = chat_body(prospect(email="ana@example.com"), "c_1", "v_1")
    document = json.loads(body)
    assert document["conversation_id"] == "c_1"
    assert document["visitor"]["email"] == "ana@example.com"
    assert hub_signature("s", body) == "sha256=" + hmac.new(b"s", body, hashlib.sha256).hexdigest()


def test_email_parses_back_with_sender_and_message_id() -> None:
    message = email_message(prospect(email="ana@example.com"), "m1", "leads@x.example", 0)
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == "<m1@demo.leadrouter.example>"
    assert "ana@example.com" in str(parsed["From"])
    assert parsed["To"] == "leads@x.example"
