"""Arbitrary bytes, headers and JSON at every HTTP door: the answer is 2xx or 4xx, never 5xx
(the publisher here never fails, so nothing may justify one), and what is written is all or
nothing: one whole, decodable lead of valid Unicode text for a 2xx, no record for a 4xx."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ingest.inbound import lead_codec
from services.ingest.settings import FormConfig
from tests.unit.ingest.door import Client, client_for
from tests.unit.ingest.payloads import MemoryPublisher, make_chat, make_email, nested_multipart

PATHS = st.sampled_from(
    ["/v1/leads/forms/contact", "/v1/leads/forms/signed", "/v1/leads/forms/a%2Fb",
     "/v1/leads/sms/twilio", "/v1/leads/chat", "/v1/leads/email",
     "/v1/leads/email?recipient=%FF%FE%40x", "/v1/leads/forms/" + "f" * 120]
)  # fmt: skip
CONTENT_TYPES = st.sampled_from(
    ["application/x-www-form-urlencoded", "application/json", "message/rfc822",
     "multipart/form-data; boundary=xyz", "multipart/form-data", "text/plain", ""]
)  # fmt: skip
TRICKY = st.one_of(
    st.sampled_from(["\ud800", "\udfff", "a\udc80b"]),
    st.sampled_from(["²", "ada@example.com", "+14155552671", "DE", "", " ", "\x00", "a\r\nb"]),
    st.tuples(st.sampled_from(["9", "x", "\U0001f600"]), st.integers(0, 5000)).map(
        lambda spec: spec[0] * spec[1]
    ),
)  # fmt: skip
TEXT = st.one_of(TRICKY, st.text(max_size=30))
NAMES = st.one_of(
    st.sampled_from(
        ["email", "phone", "name", "country", "language", "message", "deal_value",
         "utm_source", "submission_id", "conversation_id", "site_id", "visitor", "utm",
         "MessageSid", "From", "Body", "from", "body-mime", "body-html", "timestamp",
         "token", "signature", "recipient", "message-headers"]
    ),
    TEXT,
)  # fmt: skip
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=5),
    max_leaves=20,
)
JSON_BODIES = st.one_of(
    st.dictionaries(NAMES, JSON_VALUES, max_size=8),
    st.dictionaries(NAMES, JSON_VALUES, max_size=8).map(
        lambda extra: {"conversation_id": "c1", "visitor": {"email": "a@b.io"}, **extra}
    ),
    st.dictionaries(NAMES, JSON_VALUES, max_size=8).map(
        lambda extra: {**extra, "email": "ada@example.com"}
    ),
    JSON_VALUES,
).map(lambda document: json.dumps(document).encode())
CHAT_BODIES = st.fixed_dictionaries(
    {"conversation_id": TEXT, "visitor": st.fixed_dictionaries(
        {"email": st.sampled_from(["a@b.io", "\ud800@b.io"])},
        optional={"id": TEXT, "name": TEXT, "country": TEXT, "phone": TEXT})},
    optional={"site_id": TEXT, "utm": st.dictionaries(TEXT, TEXT, max_size=3),
              "first_message": TEXT, "page_url": TEXT, "referrer": JSON_VALUES},
).map(lambda document: json.dumps(document).encode())  # fmt: skip
VALID_PAIRS = [("email", "ada@example.com"), ("MessageSid", "SM1"), ("From", "+14155552671")]
FORM_BODIES = st.lists(st.tuples(NAMES, TEXT), max_size=10).map(
    lambda pairs: urlencode(
        [(n.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass"))
         for n, v in [*pairs, *VALID_PAIRS]]
    ).encode()
)  # fmt: skip
MULTIPART_BODIES = st.lists(st.tuples(NAMES, st.binary(max_size=40)), max_size=6).map(
    lambda parts: b"".join(
        b'--xyz\r\nContent-Disposition: form-data; name="'
        + name.encode("utf-8", "surrogatepass").replace(b'"', b"")
        + b'"\r\n\r\n' + value + b"\r\n"
        for name, value in [*parts, ("email", b"ada@example.com")]
    ) + b"--xyz--\r\n"
)  # fmt: skip
MAIL_BODIES = st.one_of(
    st.builds(
        lambda sender, text: make_email().replace(b"Hello", text).replace(b"Ada Lovelace", sender),
        st.binary(max_size=40).map(lambda raw: raw.replace(b"\r", b"").replace(b"\n", b"")),
        st.binary(max_size=200),
    ),
    st.integers(1, 60).map(nested_multipart),
)
JSON_TYPE, FORM_TYPE = "application/json", "application/x-www-form-urlencoded"
MULTIPART_TYPE, MIME_TYPE = "multipart/form-data; boundary=xyz", "message/rfc822"
DOORS = {
    "form as JSON": (st.sampled_from(["/v1/leads/forms/contact", "/v1/leads/forms/signed"]),
                     st.just(JSON_TYPE), JSON_BODIES),
    "form urlencoded": (st.just("/v1/leads/forms/contact"), st.just(FORM_TYPE), FORM_BODIES),
    "form multipart": (st.just("/v1/leads/forms/contact"), st.just(MULTIPART_TYPE),
                       MULTIPART_BODIES),
    "sms": (st.just("/v1/leads/sms/twilio"), st.just(FORM_TYPE), FORM_BODIES),
    "chat": (st.just("/v1/leads/chat"), st.just(JSON_TYPE),
             st.one_of(CHAT_BODIES, JSON_BODIES, st.just(make_chat()))),
    "raw MIME": (st.sampled_from(["/v1/leads/email", "/v1/leads/email?recipient=%FF%FE%40x"]),
                 st.just(MIME_TYPE), MAIL_BODIES),
    "mailgun": (st.just("/v1/leads/email"), st.sampled_from([FORM_TYPE, MULTIPART_TYPE]),
                st.one_of(FORM_BODIES, MULTIPART_BODIES)),
    "any path, any bytes": (PATHS, CONTENT_TYPES, st.binary(max_size=2000)),
}  # fmt: skip
HEADER_NAMES = st.sampled_from(
    ["x-leadrouter-signature", "x-hub-signature-256", "x-twilio-signature", "idempotency-key",
     "accept-language", "x-anything"]
)  # fmt: skip
HEADER_VALUES = st.one_of(
    st.binary(max_size=60).map(
        lambda raw: raw.replace(b"\r", b"").replace(b"\n", b"").replace(b"\x00", b"").strip()
    ),
    st.sampled_from([b"t=\xb2,v1=ab", b"t=1,v1=ab", b"sha256=ab", b"t=" + b"9" * 5000 + b",v1=a"]),
)
HEADERS = st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=4)

OPEN = {"forms": {"signed": FormConfig(secret="s", honeypot="website")}}
SIGNED = {**OPEN, "twilio_auth_token": "t", "chat_secret": "c", "mailgun_signing_key": "m",
          "allow_unconfigured_forms": False}  # fmt: skip


def answer_is_whole(
    client: Client,
    publisher: MemoryPublisher,
    request: tuple[str, str, bytes],
    headers: list[tuple[str, bytes]],
) -> None:
    path, content_type, body = request
    sent = {name.encode(): value for name, value in headers}
    sent[b"content-type"] = content_type.encode("latin-1")
    answer = client.post(path, body, sent)
    assert 200 <= answer.status_code < 500, (answer.status_code, answer.text)
    written = len(publisher.records)
    if answer.status_code < 300:
        assert written == 1
        lead = lead_codec().decode(publisher.records[0].value)
        assert lead == publisher.leads[0]
        json.dumps(lead.model_dump(mode="json"), ensure_ascii=False).encode("utf-8")
    else:
        assert written == 0
        assert answer.json()["status"] == answer.status_code  # a problem document


@pytest.mark.parametrize("door", DOORS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_request_at_any_door_is_2xx_or_4xx_and_writes_all_or_nothing(
    door: str, data: st.DataObject
) -> None:
    request = data.draw(st.tuples(*DOORS[door]), label="path, content type, body")
    headers = data.draw(HEADERS, label="headers")
    signed = data.draw(st.sampled_from([False, False, True]), label="signed")
    publisher = MemoryPublisher()
    client = client_for(publisher, **(SIGNED if signed else OPEN))
    answer_is_whole(client, publisher, request, headers)
