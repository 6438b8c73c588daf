"""The notifier's settings, from `NOTIFIER_*` environment variables (Kafka's own: `KAFKA_*`).

Provider secrets live here, never in the routing config (which every service reads and the
console shows): the SMTP password, the webhook signing secret, the Slack bot token, Twilio's
auth token.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.streaming.env_settings import EnvSettings


class NotifierSettings(EnvSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", frozen=True)

    metrics_port: int = 9105
    tick_interval_ms: int = Field(default=200, ge=10)
    """How often answers are recorded and due deliveries offered to the sender."""
    commit_interval_ms: int = Field(default=100, ge=10)
    max_attempts: int = Field(default=8, ge=1)
    """Attempts before a notification is dead-lettered with the provider's last answer."""
    backoff_base_ms: int = Field(default=1_000, ge=1)
    backoff_cap_ms: int = Field(default=300_000, ge=1)
    retention_ms: int = Field(default=7 * 86_400_000, ge=60_000)
    """Sent and dead entries are kept this long, so a repeated event is not sent again."""
    workers_per_channel: int = Field(default=4, ge=1)
    rate_limits: dict[str, float] = Field(
        default_factory=lambda: {
            "email": 20.0,
            "slack": 1.0,
            "teams": 4.0,
            "sms": 10.0,
            "webhook": 50.0,
        }
    )
    """Sends a second per channel (JSON); Slack allows about one message a second a channel."""

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "leadrouter@localhost"

    webhook_secret: SecretStr | None = None
    """`whsec_` + base64: signs webhooks per Standard Webhooks; unset, webhooks fail."""
    slack_bot_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    """A phone number in E.164 form, or a Messaging Service sid (MG...)."""
    twilio_api_url: str = "https://api.twilio.com"


def secret(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()
