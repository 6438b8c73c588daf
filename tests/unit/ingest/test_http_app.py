"""The HTTP front door's answers, with an in-memory publisher standing in for the broker.

The real broker is in tests/integration/ingest; here each refusal is pinned to its status,
its problem document and the fact that nothing was published.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl

import pytest

from services.ingest.settings import FormConfig
from services.ingest.signatures import twilio_signature
from tests.unit.ingest.door import client_for
from tests.unit.ingest.payloads import (
    NOW_MS,
    MemoryPublisher,
    fixture,
    make_chat,
    make_email,
    urlencoded,
)

PROBLEM = "application/problem+json"


@pytest.fixture
def publisher() -> MemoryPublisher:
    return MemoryPublisher()


FORM = {"content-type": "application/x-www-form-urlencoded"}


def test_form_post_is_answered_202_with_the_lead_id(publisher: MemoryPublisher) -> None:
    answer = client_for(publisher).post(
        "/v1/leads/forms/contact", content=fixture("html_form_utf8.form"), headers=FORM
    )
    assert answer.status_code == 202
    assert answer.json() == {"lead_id": publisher.leads[0].lead_id}


def test_invalid_field_is_422_problem_naming_the_field(publisher: MemoryPublisher) -> None:
    answer = client_for(publisher).post(
        "/v1/leads/forms/contact", content=urlencoded(email="ada@"), headers=FORM
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert (problem["field"], problem["reason"], problem["status"]) == (
        "email",
        "invalid_field",
        422,
    )
    assert "expected" in problem
    assert publisher.leads == []


def test_lead_nobody_can_reach_is_422_unreachable(publisher: MemoryPublisher) -> None:
    answer = client_for(publisher).post(
        "/v1/leads/forms/contact", content=urlencoded(name="Ada"), headers=FORM
    )
    assert (answer.status_code, answer.json()["reason"]) == (422, "unreachable")


def test_malformed_json_is_400(publisher: MemoryPublisher) -> None:
    answer = client_for(publisher).post(
        "/v1/leads/forms/contact", content=b"{", headers={"content-type": "application/json"}
    )
    assert (answer.status_code, answer.json()["field"]) == (400, "body")


def test_unsupported_content_type_is_415(publisher: MemoryPublisher) -> None:
    answer = client_for(publisher).post(
        "/v1/leads/chat", content=b"hi", headers={"content-type": "text/plain"}
    )
    assert (answer.status_code, answer.json()["field"]) == (415, "Content-Type")


def test_body_over_the_limit_is_413(publisher: MemoryPublisher) -> None:
    answer = client_for(publisher, form_max_bytes=100).post(
        "/v1/leads/forms/contact", content=urlencoded(email="a@example.com", m="x" * 200),
        headers=FORM,
    )  # fmt: skip
    assert (answer.status_code, answer.json()["reason"]) == (413, "too_large")
    assert publisher.leads == []


def test_signed_form_without_signature_is_401(publisher: MemoryPublisher) -> None:
    forms = {"contact": FormConfig(secret="s3cret")}
    client = client_for(publisher, forms=forms)
    body = urlencoded(email="a@example.com")
    assert client.post("/v1/leads/forms/contact", content=body, headers=FORM).status_code == 401
    t = NOW_MS // 1000
    mac = hmac.new(b"s3cret", f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    signed = {**FORM, "x-leadrouter-signature": f"t={t},v1={mac}"}
    assert client.post("/v1/leads/forms/contact", content=body, headers=signed).status_code == 202


def test_unknown_form_is_404_when_only_configured_forms_are_open(
    publisher: MemoryPublisher,
) -> None:
    client = client_for(publisher, allow_unconfigured_forms=False)
    answer = client.post("/v1/leads/forms/other", content=urlencoded(email="a@b.io"), headers=FORM)
    assert (answer.status_code, answer.json()["reason"]) == (404, "unknown_form")


def test_filled_honeypot_is_refused(publisher: MemoryPublisher) -> None:
    forms = {"contact": FormConfig(honeypot="website")}
    answer = client_for(publisher, forms=forms).post(
        "/v1/leads/forms/contact", content=urlencoded(email="a@b.io", website="x"), headers=FORM
    )
    assert (answer.status_code, answer.json()["reason"]) == (422, "honeypot")


def test_twilio_webhook_gets_empty_twiml_and_a_bad_signature_401(
    publisher: MemoryPublisher,
) -> None:
    client = client_for(publisher, twilio_auth_token="tok")
    body = fixture("twilio_inbound_sms.form")
    url = "https://leads.example.com/v1/leads/sms/twilio"
    signature = twilio_signature("tok", url, parse_qsl(body.decode()))
    ok = client.post("/v1/leads/sms/twilio", content=body,
                     headers={**FORM, "x-twilio-signature": signature})  # fmt: skip
    assert ok.status_code == 200
    assert ok.text == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    tampered = client.post("/v1/leads/sms/twilio", content=body + b"&Extra=1",
                           headers={**FORM, "x-twilio-signature": signature})  # fmt: skip
    assert (tampered.status_code, tampered.json()["field"]) == (401, "X-Twilio-Signature")
    assert len(publisher.leads) == 1


def test_chat_signature_is_checked_over_the_raw_body(publisher: MemoryPublisher) -> None:
    client = client_for(publisher, chat_secret="k")
    body = make_chat()
    good = "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
    json_type = {"content-type": "application/json"}
    signed = {**json_type, "x-hub-signature-256": good}
    assert client.post("/v1/leads/chat", content=body, headers=signed).status_code == 202
    assert client.post("/v1/leads/chat", content=body, headers=json_type).status_code == 401


def test_raw_mime_post_is_accepted(publisher: MemoryPublisher) -> None:
    answer = client_for(publisher).post(
        "/v1/leads/email", content=make_email(), headers={"content-type": "message/rfc822"}
    )
    assert answer.status_code == 202
    assert publisher.leads[0].email == "ada@example.com"


def test_broker_unavailable_is_503_with_retry_after(publisher: MemoryPublisher) -> None:
    publisher.down = True
    client = client_for(publisher, retry_after_s=7)
    answer = client.post("/v1/leads/chat", content=make_chat(),
                         headers={"content-type": "application/json"})  # fmt: skip
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "7"
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200


def test_unknown_path_and_wrong_method_answer_problem_json(publisher: MemoryPublisher) -> None:
    client = client_for(publisher)
    missing = client.post("/v1/leads/fax", content=b"", headers={})
    assert (missing.status_code, missing.headers["content-type"]) == (404, PROBLEM)
    wrong = client.get("/v1/leads/chat")
    assert (wrong.status_code, wrong.json()["field"]) == (405, "method")
    assert wrong.headers["allow"] == "POST"


def test_mailgun_post_without_attachments_comes_urlencoded_and_is_signed(
    publisher: MemoryPublisher,
) -> None:
    client = client_for(publisher, mailgun_signing_key="key")
    t, token = str(NOW_MS // 1000), "tok-1"
    signature = hmac.new(b"key", f"{t}{token}".encode(), hashlib.sha256).hexdigest()
    fields = {"from": "Ada <ada@acme.io>", "recipient": "leads@example.com", "body-plain": "Hi",
              "Message-Id": "<a1@acme.io>", "timestamp": t, "token": token}  # fmt: skip
    unsigned = client.post("/v1/leads/email", content=urlencoded(**fields), headers=FORM)
    assert (unsigned.status_code, unsigned.json()["field"]) == (401, "signature")
    signed = urlencoded(**fields, signature=signature)
    assert client.post("/v1/leads/email", content=signed, headers=FORM).status_code == 202
    assert [lead.email for lead in publisher.leads] == ["ada@acme.io"]
