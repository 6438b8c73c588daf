"""The settings every service shares, read from the environment: the broker, which builds every
librdkafka dict in one place, and where metrics are served.

Every service and CLI command takes the broker and its security from here:
`KAFKA_BOOTSTRAP_SERVERS`, `KAFKA_SECURITY_PROTOCOL` (PLAINTEXT, SSL, SASL_PLAINTEXT,
SASL_SSL), `KAFKA_SASL_MECHANISM` (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), `KAFKA_SASL_USERNAME`,
`KAFKA_SASL_PASSWORD`, `KAFKA_SSL_CA_LOCATION`, `KAFKA_SSL_CERTIFICATE_LOCATION`,
`KAFKA_SSL_KEY_LOCATION`, `KAFKA_SSL_KEY_PASSWORD`. Secrets stay `SecretStr`, so they never
show in a repr or a log line.

`METRICS_HOST` is the address every service's /metrics, /healthz and /readyz listen on (the
ports stay per service: `INGEST_METRICS_PORT`, `ROUTER_METRICS_PORT`, `SLA_METRICS_PORT`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.streaming.env_settings import EnvSettings

ClientConfig = dict[str, str | int | float | bool]


class KafkaSettings(EnvSettings):
    model_config = SettingsConfigDict(env_prefix="KAFKA_", frozen=True)

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: str | None = None
    ssl_certificate_location: str | None = None
    ssl_key_location: str | None = None
    ssl_key_password: SecretStr | None = None
    client_id: str = "leadrouter"
    topic_prefix: str = Field(default="", description="Prepended to every topic name (tests).")

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def common(self) -> ClientConfig:
        config: ClientConfig = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
            "client.id": self.client_id,
        }
        optional: dict[str, str | None] = {
            "sasl.mechanism": self.sasl_mechanism,
            "sasl.username": self.sasl_username,
            "sasl.password": _reveal(self.sasl_password),
            "ssl.ca.location": self.ssl_ca_location,
            "ssl.certificate.location": self.ssl_certificate_location,
            "ssl.key.location": self.ssl_key_location,
            "ssl.key.password": _reveal(self.ssl_key_password),
        }
        config.update({k: v for k, v in optional.items() if v is not None})
        return config

    def producer(self, **overrides: str | int | float | bool) -> ClientConfig:
        """Idempotent, acks=all, and Java's partitioner so a key lands where Java puts it."""
        return {
            **self.common(),
            "enable.idempotence": True,
            "acks": "all",
            "partitioner": "murmur2_random",
            "linger.ms": 5,
            **overrides,
        }

    def transactional_producer(self, transactional_id: str, **overrides: str | int) -> ClientConfig:
        """`retry.backoff.ms` 10 (librdkafka's default is 100): a transaction begun right after
        the previous commit meets CONCURRENT_TRANSACTIONS from the coordinator until that
        commit's markers are written, a few ms, and is retried after this backoff (doubling up
        to `retry.backoff.max.ms` if the answer repeats). At 100 ms each back-to-back commit
        waited about 100 ms in `send_offsets_to_transaction`, on every exactly-once hop."""
        return self.producer(
            **{
                "transactional.id": transactional_id,
                "transaction.timeout.ms": 30000,
                "retry.backoff.ms": 10,
                **overrides,
            }
        )

    def consumer(self, group_id: str, **overrides: str | int | float | bool) -> ClientConfig:
        return {
            **self.common(),
            "group.id": group_id,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            **overrides,
        }

    def reader(self, **overrides: str | int | float | bool) -> ClientConfig:
        """A consumer that is assigned partitions by hand and never commits (restores, tables)."""
        return self.consumer(
            "leadrouter-reader", **{"enable.auto.offset.store": False, **overrides}
        )

    def admin(self) -> ClientConfig:
        return self.common()


def _reveal(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None


class MetricsSettings(EnvSettings):
    model_config = SettingsConfigDict(env_prefix="METRICS_", frozen=True)

    host: str = "0.0.0.0"
    """Every interface by default, because Prometheus scrapes from another host or pod;
    `127.0.0.1` keeps metrics and health on this machine only."""
