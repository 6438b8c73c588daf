"""Issue 15's hostile probes against the HTTP door, in process: each is refused with the 4xx
that names its problem (never a 500, never a 503 that invites a retry) and nothing is written.
The probes that need a real socket (header bytes on the wire) are in tests/integration/ingest.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import threading

import pytest
from prometheus_client import CollectorRegistry

from services.ingest.email_mime import MAX_DEPTH
from services.ingest.http_app import MAX_HEADER_BYTES, MAX_HEADERS, IngestApp
from services.ingest.http_channels import OFF_LOOP_BYTES, normalized
from services.ingest.lead_fields import MAX_UTM
from services.ingest.metrics import IngestMetrics
from services.ingest.settings import ASSIGNMENT_HEADROOM_BYTES, FormConfig, IngestSettings
from tests.unit.ingest.door import client_for
from tests.unit.ingest.payloads import (
    NOW_MS,
    FailingPublisher,
    FixedClock,
    MemoryPublisher,
    make_chat,
    make_email,
    nested_multipart,
    urlencoded,
)

FORM = {"content-type": "application/x-www-form-urlencoded"}
JSON = {"content-type": "application/json"}
MIME = {"content-type": "message/rfc822"}


@pytest.fixture
def publisher() -> MemoryPublisher:
    return MemoryPublisher()


def form_signature(secret: str, t: str, body: bytes) -> str:
    return f"t={t},v1={hmac.new(secret.encode(), f'{t}.'.encode() + body, 'sha256').hexdigest()}"


@pytest.mark.parametrize("t", ["²", "9" * 5000])
def test_form_signature_timestamp_not_in_ascii_digits_is_401(
    publisher: MemoryPublisher, t: str
) -> None:
    client = client_for(publisher, forms={"contact": FormConfig(secret="s3cret")})
    body = urlencoded(email="ada@example.com")
    signature = form_signature("s3cret", t, body).encode("latin-1")  # as HTTP carries it
    headers = {b"content-type": FORM["content-type"].encode(), b"x-leadrouter-signature": signature}
    answer = client.post("/v1/leads/forms/contact", content=body, headers=headers)
    assert (answer.status_code, answer.json()["field"]) == (401, "X-Leadrouter-Signature")
    assert publisher.records == []


@pytest.mark.parametrize("t", ["²", "9" * 5000])
def test_mailgun_timestamp_not_in_ascii_digits_is_401(publisher: MemoryPublisher, t: str) -> None:
    signature = hmac.new(b"key", f"{t}tok".encode(), hashlib.sha256).hexdigest()
    body = urlencoded(
        **{"from": "ada@example.com", "timestamp": t, "token": "tok", "signature": signature}
    )
    answer = client_for(publisher, mailgun_signing_key="key").post(
        "/v1/leads/email", content=body, headers=FORM
    )
    assert (answer.status_code, answer.json()["field"]) == (401, "timestamp")
    assert publisher.records == []


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/leads/forms/contact", b'{"email": "a@b.io", "company": "\\ud800"}', "company"),
        ("/v1/leads/chat", make_chat(conversation_id="@").replace(b'"@"', b'"\\ud800"'),
         "conversation_id"),
        ("/v1/leads/chat", make_chat(site_id="@").replace(b'"@"', b'"\\ud800"'), "site_id"),
    ],
)  # fmt: skip
def test_lone_surrogate_in_a_json_field_is_422_naming_the_field(
    publisher: MemoryPublisher, path: str, body: bytes, field: str
) -> None:
    answer = client_for(publisher).post(path, content=body, headers=JSON)
    assert (answer.status_code, answer.json()["field"]) == (422, field)
    assert "lone surrogate" in answer.json()["detail"]
    assert publisher.records == []


def test_mime_nested_a_thousand_levels_is_400_naming_the_depth(
    publisher: MemoryPublisher,
) -> None:
    answer = client_for(publisher).post("/v1/leads/email", nested_multipart(1000), MIME)
    assert (answer.status_code, answer.json()["field"]) == (400, "body")
    assert f"more than {MAX_DEPTH} levels" in answer.json()["detail"]
    assert publisher.records == []


def test_mime_nested_as_deep_as_allowed_is_accepted(publisher: MemoryPublisher) -> None:
    answer = client_for(publisher).post("/v1/leads/email", nested_multipart(MAX_DEPTH - 1), MIME)
    assert answer.status_code == 202


def test_a_header_over_the_byte_limit_is_431(publisher: MemoryPublisher) -> None:
    headers = {**FORM, "x-padding": "a" * MAX_HEADER_BYTES}
    answer = client_for(publisher).post(
        "/v1/leads/forms/contact", urlencoded(email="a@b.io"), headers
    )
    assert (answer.status_code, answer.json()["reason"]) == (431, "headers_too_large")
    assert publisher.records == []


def test_more_headers_than_the_count_limit_is_431(publisher: MemoryPublisher) -> None:
    headers = [*FORM.items(), *((f"x-h{n}", "1") for n in range(MAX_HEADERS))]
    answer = client_for(publisher).post(
        "/v1/leads/forms/contact", urlencoded(email="a@b.io"), headers
    )
    assert (answer.status_code, answer.json()["field"]) == (431, "headers")
    assert publisher.records == []


def test_raw_mime_with_a_mailgun_key_and_no_email_secret_is_401(
    publisher: MemoryPublisher,
) -> None:
    answer = client_for(publisher, mailgun_signing_key="key").post(
        "/v1/leads/email", make_email(), MIME
    )
    assert (answer.status_code, answer.json()["field"]) == (401, "X-Leadrouter-Signature")
    assert publisher.records == []


def test_raw_mime_signed_with_the_email_secret_is_accepted_and_unsigned_is_401(
    publisher: MemoryPublisher,
) -> None:
    client = client_for(publisher, mailgun_signing_key="key", email_secret="mime-secret")
    mail = make_email()
    assert client.post("/v1/leads/email", mail, MIME).status_code == 401
    signature = form_signature("mime-secret", str(NOW_MS // 1000), mail)
    signed = {**MIME, "x-leadrouter-signature": signature}
    assert client.post("/v1/leads/email", mail, signed).status_code == 202
    assert [lead.email for lead in publisher.leads] == ["ada@example.com"]


def test_chat_with_more_utm_entries_than_allowed_is_413_naming_utm(
    publisher: MemoryPublisher,
) -> None:
    body = make_chat(utm={f"k{n}": "x" * 400 for n in range(2030)})
    answer = client_for(publisher).post("/v1/leads/chat", body, JSON)
    problem = answer.json()
    assert (answer.status_code, problem["reason"], problem["field"]) == (413, "too_large", "utm")
    assert f"at most {MAX_UTM}" in problem["expected"]
    assert publisher.records == []


def test_lead_encoding_past_the_topic_limit_is_413_naming_the_limit_never_503(
    publisher: MemoryPublisher,
) -> None:
    topic_max = ASSIGNMENT_HEADROOM_BYTES + 20_000
    client = client_for(publisher, topic_max_message_bytes=topic_max)
    body = make_chat(**{f"note{n}": "x" * 1500 for n in range(20)})
    answer = client.post("/v1/leads/chat", body, JSON)
    problem = answer.json()
    assert (answer.status_code, problem["field"]) == (413, "lead")
    assert "20000-byte limit" in problem["detail"]
    assert "retry-after" not in answer.headers
    assert publisher.records == []


def test_signed_form_replayed_with_new_idempotency_keys_is_one_lead(
    publisher: MemoryPublisher,
) -> None:
    client = client_for(publisher, forms={"contact": FormConfig(secret="s3cret")})
    body = urlencoded(email="ada@example.com", message="call me")
    signature = form_signature("s3cret", str(NOW_MS // 1000), body)
    for key in ("k1", "k2", "k3", "k4"):
        headers = {**FORM, "x-leadrouter-signature": signature, "idempotency-key": key}
        assert client.post("/v1/leads/forms/contact", body, headers).status_code == 202
    assert len({lead.lead_id for lead in publisher.leads}) == 1


def test_unsigned_form_still_takes_its_idempotency_key(publisher: MemoryPublisher) -> None:
    client = client_for(publisher)
    body = urlencoded(email="ada@example.com")
    for key in ("k1", "k2"):
        client.post("/v1/leads/forms/contact", body, {**FORM, "idempotency-key": key})
    assert len({lead.lead_id for lead in publisher.leads}) == 2


def test_request_that_fails_on_our_side_is_500_and_counted() -> None:
    client = client_for(FailingPublisher())
    answer = client.post("/v1/leads/chat", make_chat(), JSON)
    assert (answer.status_code, answer.json()["reason"]) == (500, "internal_error")
    errors = client.metrics.errors.labels(door="http", channel="chat")._value.get()
    assert errors == 1


def test_client_leaving_before_its_body_arrived_is_no_error(
    publisher: MemoryPublisher, caplog: pytest.LogCaptureFixture
) -> None:
    app = IngestApp(
        IngestSettings(), publisher, IngestMetrics.create(CollectorRegistry()), FixedClock()
    ).asgi()
    scope = {
        "type": "http", "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/v1/leads/chat", "raw_path": b"/v1/leads/chat", "query_string": b"",
        "root_path": "", "headers": [(b"content-type", b"application/json")],
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8080),
    }  # fmt: skip
    arrivals: list[dict[str, object]] = [
        {"type": "http.request", "body": b'{"conversation_id": "c1", ', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return dict(arrivals.pop(0)) if arrivals else {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    with caplog.at_level(logging.DEBUG):
        asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert publisher.records == []


def test_problem_naming_a_field_that_is_not_unicode_is_still_json(
    publisher: MemoryPublisher,
) -> None:
    answer = client_for(publisher).post(
        "/v1/leads/forms/contact", b'{"email": "a@b.io", "\\ud800": "x"}', JSON
    )
    assert (answer.status_code, answer.json()["field"]) == (422, "\\ud800")
    assert json.loads(answer.content)["reason"] == "invalid_field"


def test_large_bodies_are_normalized_off_the_event_loop_and_small_ones_on_it() -> None:
    def thread_name() -> str:
        return threading.current_thread().name

    async def where(size: int) -> str:
        lead_thread = await normalized(b"x" * size, thread_name)  # type: ignore[arg-type]
        return str(lead_thread)

    main = threading.current_thread().name
    assert asyncio.run(where(OFF_LOOP_BYTES)) == main
    assert asyncio.run(where(OFF_LOOP_BYTES + 1)) != main
