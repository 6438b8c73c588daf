from __future__ import annotations

import hashlib
import hmac

from twilio.request_validator import RequestValidator

from services.ingest.signatures import (
    twilio_signature,
    verify_form,
    verify_hub,
    verify_mailgun,
    verify_twilio,
)

NOW_S = 1_795_424_400
BODY = b"email=ada%40example.com"


def form_header(secret: str, t: int, body: bytes = BODY) -> str:
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def test_form_signature_inside_the_window_passes() -> None:
    assert verify_form("s3cret", form_header("s3cret", NOW_S - 10), BODY, NOW_S) is None


def test_form_signature_during_rotation_may_carry_two_macs() -> None:
    old = form_header("old", NOW_S).split(",")[1]
    header = f"{form_header('new', NOW_S)},{old}"
    assert verify_form("old", header, BODY, NOW_S) is None


def test_form_signature_outside_the_window_is_expired() -> None:
    problem = verify_form("s3cret", form_header("s3cret", NOW_S - 301), BODY, NOW_S)
    assert problem is not None and "expired" in problem.problem


def test_form_signature_over_another_body_or_secret_fails() -> None:
    assert verify_form("s3cret", form_header("s3cret", NOW_S), BODY + b"x", NOW_S) is not None
    assert verify_form("s3cret", form_header("other", NOW_S), BODY, NOW_S) is not None
    assert verify_form("s3cret", None, BODY, NOW_S) is not None
    assert verify_form("s3cret", "v1=abc", BODY, NOW_S) is not None


def test_twilio_signature_matches_twilios_own_validator() -> None:
    url = "https://leads.example.com/v1/leads/sms/twilio?tenant=eu"
    params = {"From": "+14155552671", "Body": "Grüße & more", "MessageSid": "SM1"}
    expected = RequestValidator("token").compute_signature(url, params)
    assert twilio_signature("token", url, params.items()) == expected
    assert verify_twilio("token", expected, url, params.items()) is None


def test_twilio_signature_passes_with_or_without_the_default_port() -> None:
    params = [("Body", "hi")]
    signed = twilio_signature("token", "https://leads.example.com:443/hook", params)
    assert verify_twilio("token", signed, "https://leads.example.com/hook", params) is None


def test_tampered_twilio_parameters_fail() -> None:
    url = "https://leads.example.com/hook"
    signed = twilio_signature("token", url, [("Body", "hi")])
    assert verify_twilio("token", signed, url, [("Body", "hi!")]) is not None
    assert verify_twilio("token", None, url, [("Body", "hi")]) is not None


def test_hub_signature() -> None:
    body = b'{"conversation_id": "c"}'
    good = "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert verify_hub("k", good, body) is None
    assert verify_hub("k", good, body + b" ") is not None
    assert verify_hub("k", "sha1=abc", body) is not None


def test_mailgun_signature_and_its_window() -> None:
    token = "c2f3a1e0b9d8"
    mac = hmac.new(b"key", f"{NOW_S}{token}".encode(), hashlib.sha256).hexdigest()
    assert verify_mailgun("key", str(NOW_S), token, mac, now_s=NOW_S + 5) is None
    assert verify_mailgun("key", str(NOW_S), token, mac, now_s=NOW_S + 301) is not None
    assert verify_mailgun("key", str(NOW_S), token + "x", mac, now_s=NOW_S) is not None
    assert verify_mailgun("key", None, token, mac, now_s=NOW_S) is not None


def test_form_timestamp_that_is_not_ascii_digits_is_malformed_not_an_error() -> None:
    for t in ("²", "١٢٣", "9" * 5000, "+5", ""):
        mac = hmac.new(b"s3cret", f"{t}.".encode() + BODY, hashlib.sha256).hexdigest()
        problem = verify_form("s3cret", f"t={t},v1={mac}", BODY, NOW_S)
        assert problem is not None and problem.problem.startswith("malformed"), t


def test_mailgun_timestamp_that_is_not_ascii_digits_is_refused_not_an_error() -> None:
    for t in ("²", "٣", "9" * 5000):
        signature = hmac.new(b"key", f"{t}tok".encode(), hashlib.sha256).hexdigest()
        problem = verify_mailgun("key", t, "tok", signature, now_s=NOW_S)
        assert problem is not None and problem.header == "timestamp", t
