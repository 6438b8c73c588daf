"""Ingest's settings, from `INGEST_*` environment variables (Kafka's own come from `KAFKA_*`).

Lists take comma-separated values (`INGEST_SMTP_DOMAINS=leads.example.com,example.org`);
`INGEST_FORMS` is JSON: `{"contact": {"secret": "…", "honeypot": "website"}}`. Secrets are
`SecretStr`, so they never show in a repr or a log line. A channel without a secret accepts
unsigned requests (the service logs a warning at start).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from services.streaming.env_settings import EnvSettings

MIB = 1024 * 1024
KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588
"""A topic's `max.message.bytes` unless the cluster or topic sets another."""
ASSIGNMENT_HEADROOM_BYTES = 128 * 1024
"""Room the router's records need beyond the lead they carry: an assignment holds the lead's
bytes plus its decision trace (every pool member considered, with the reason it was skipped:
about 100 bytes each, so a thousand-member pool), and a routing request its prior candidates."""


class FormConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    secret: SecretStr | None = None
    """When set, posts must carry a valid `X-Leadrouter-Signature`."""
    honeypot: str | None = None
    """A field hidden from people: a post with it filled in is refused as a bot's."""


class IngestSettings(EnvSettings):
    model_config = SettingsConfigDict(env_prefix="INGEST_", frozen=True)

    http_host: str = "0.0.0.0"
    http_port: int = 8080
    http_workers: int = Field(default=1, ge=1, le=32)
    """HTTP server processes sharing `http_port` through SO_REUSEPORT. This process is worker
    0 and also runs SMTP and the raw-topic door; worker i > 0 serves only HTTP, with its own
    producer, and its /metrics, /healthz and /readyz on `metrics_port + i`."""
    smtp_host: str = "0.0.0.0"
    smtp_port: int = 2525
    metrics_port: int = 9101
    public_base_url: str | None = None
    """The scheme and host Twilio posts to (`https://leads.example.com`), when a proxy
    changes what the request looks like here; Twilio signs the URL it requested."""
    form_max_bytes: int = Field(default=1 * MIB, gt=0)
    """Forms, JSON, SMS and chat bodies."""
    email_max_bytes: int = Field(default=10 * MIB, gt=0)
    """Raw MIME and inbound-parse posts, and SMTP DATA."""
    topic_max_message_bytes: int = Field(
        default=KAFKA_DEFAULT_MAX_MESSAGE_BYTES, gt=ASSIGNMENT_HEADROOM_BYTES
    )
    """`max.message.bytes` of leads.inbound and the router's topics. A lead whose record would
    be larger than this minus `ASSIGNMENT_HEADROOM_BYTES` is refused (413 / SMTP 552)."""
    publish_timeout_ms: int = Field(default=5000, ge=100)
    """How long a request waits for the broker's ack before answering 503 / SMTP 451."""
    retry_after_s: int = Field(default=5, ge=1)
    signature_window_s: int = Field(default=300, ge=1)
    forms: dict[str, FormConfig] = Field(default_factory=dict)
    allow_unconfigured_forms: bool = True
    """False: a form id missing from `forms` gets 404."""
    twilio_auth_token: SecretStr | None = None
    chat_secret: SecretStr | None = None
    mailgun_signing_key: SecretStr | None = None
    email_secret: SecretStr | None = None
    """When set, raw MIME posts (`message/rfc822`) must carry `X-Leadrouter-Signature` made
    with it. Unset while `mailgun_signing_key` is set, raw MIME posts are refused: a door whose
    Mailgun posts must be signed does not take unsigned mail by another way in."""
    smtp_recipients: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Whole addresses the SMTP listener accepts mail for."""
    smtp_domains: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Domains whose every address the SMTP listener accepts mail for."""
    raw_instance: int = Field(default=0, ge=0)
    """The raw-topic front door's instance slot: its stable transactional id."""

    @field_validator("smtp_recipients", "smtp_domains", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip().lower() for item in value.split(",") if item.strip()]
        if isinstance(value, list):
            return [str(item).strip().lower() for item in value]
        return value

    @property
    def max_lead_bytes(self) -> int:
        """The largest leads.inbound record a lead may become."""
        return self.topic_max_message_bytes - ASSIGNMENT_HEADROOM_BYTES

    def accepts_recipient(self, address: str) -> bool:
        address = address.strip().strip("<>").lower()
        domain = address.rpartition("@")[2]
        return address in self.smtp_recipients or (bool(domain) and domain in self.smtp_domains)
