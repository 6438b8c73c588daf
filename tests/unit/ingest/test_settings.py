from __future__ import annotations

import pytest

from services.ingest.__main__ import load_settings, open_doors, parse_args
from services.ingest.settings import FormConfig, IngestSettings
from services.streaming.errors import FatalError


def test_lists_are_comma_separated_and_recipients_match_case_insensitively(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INGEST_SMTP_RECIPIENTS", "Sales@Acme.io, leads@acme.io")
    monkeypatch.setenv("INGEST_SMTP_DOMAINS", "inbound.acme.io")
    settings = IngestSettings()
    assert settings.smtp_recipients == ["sales@acme.io", "leads@acme.io"]
    assert settings.accepts_recipient("<SALES@acme.io>")
    assert settings.accepts_recipient("anyone@inbound.acme.io")
    assert not settings.accepts_recipient("anyone@acme.io")


def test_form_configs_come_from_json_and_keep_secrets_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INGEST_FORMS", '{"contact": {"secret": "s3cret", "honeypot": "website"}}')
    settings = IngestSettings()
    assert settings.forms["contact"].honeypot == "website"
    assert "s3cret" not in repr(settings)


def test_bad_setting_is_refused_naming_the_variable_and_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INGEST_FORMS", '{"contact": {"secrt": "x"}}')
    with pytest.raises(FatalError, match=r"INGEST_FORMS\.contact\.secrt: Extra inputs"):
        load_settings()


def test_a_lead_may_use_the_topic_limit_less_the_routers_headroom(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert IngestSettings().max_lead_bytes == 1_048_588 - 131_072
    monkeypatch.setenv("INGEST_TOPIC_MAX_MESSAGE_BYTES", "2000000")
    assert IngestSettings().max_lead_bytes == 2_000_000 - 131_072


def test_every_unsigned_way_in_is_named_at_start_up() -> None:
    open_by_default = open_doors(parse_args([]), IngestSettings())
    assert [line.split(" ")[0] for line in open_by_default] == [
        "INGEST_TWILIO_AUTH_TOKEN",
        "INGEST_CHAT_SECRET",
        "INGEST_MAILGUN_SIGNING_KEY",
        "INGEST_EMAIL_SECRET",
        "INGEST_ALLOW_UNCONFIGURED_FORMS",
    ]
    locked = IngestSettings(
        twilio_auth_token="t", chat_secret="c", mailgun_signing_key="m",
        allow_unconfigured_forms=False,
        forms={"contact": FormConfig(secret="s"), "quote": FormConfig()},
    )  # fmt: skip
    assert open_doors(parse_args([]), locked) == [
        "INGEST_FORMS: form 'quote' has no secret: accepted unsigned"
    ]
