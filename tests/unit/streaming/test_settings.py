from __future__ import annotations

import pytest

from services.streaming.cloudevents import ce_headers, header
from services.streaming.errors import SettingsInvalid
from services.streaming.settings import KafkaSettings


def test_every_producer_is_idempotent_with_javas_partitioner() -> None:
    config = KafkaSettings().producer()
    assert config["enable.idempotence"] is True
    assert config["acks"] == "all"
    assert config["partitioner"] == "murmur2_random"


def test_consumers_read_committed_and_never_auto_commit() -> None:
    config = KafkaSettings().consumer("g")
    assert config["isolation.level"] == "read_committed"
    assert config["enable.auto.commit"] is False


def test_sasl_settings_reach_the_client_but_never_a_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "router")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "hunter2")
    settings = KafkaSettings()
    assert settings.common()["sasl.password"] == "hunter2"
    assert settings.common()["sasl.mechanism"] == "SCRAM-SHA-512"
    assert "hunter2" not in repr(settings)


def test_an_unknown_security_protocol_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "KERBEROS")
    with pytest.raises(SettingsInvalid, match="KAFKA_SECURITY_PROTOCOL='KERBEROS': should be"):
        KafkaSettings()


def test_topic_prefix_isolates_topic_names() -> None:
    assert KafkaSettings(topic_prefix="t1.").topic("leads.inbound") == "t1.leads.inbound"


def test_cloudevents_headers_are_deterministic_and_utc() -> None:
    headers = ce_headers(
        event_id="a-1",
        source="leadrouter/router",
        event_type="t",
        time_ms=1_700_000_000_123,
        subject="lead-1",
        schema="s",
    )
    assert header(headers, "ce_id") == b"a-1"
    assert header(headers, "ce_time") == b"2023-11-14T22:13:20.123Z"
    assert header(headers, "ce_subject") == b"lead-1"
    assert headers == ce_headers(
        event_id="a-1",
        source="leadrouter/router",
        event_type="t",
        time_ms=1_700_000_000_123,
        subject="lead-1",
        schema="s",
    )


def test_a_transactional_producer_retries_a_coordinator_still_completing_within_ms() -> None:
    # CONCURRENT_TRANSACTIONS lasts a few ms after each commit; librdkafka's 100 ms default
    # backoff added about 100 ms to every back-to-back transaction.
    config = KafkaSettings().transactional_producer("slot-0")
    assert int(config["retry.backoff.ms"]) <= 20
    assert (
        KafkaSettings().transactional_producer("s", **{"retry.backoff.ms": 50})["retry.backoff.ms"]
        == 50
    )
