from __future__ import annotations

import pytest

from services.ingest.__main__ import load_settings
from services.ingest.settings import IngestSettings
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
