"""The SLA watcher's settings, from `SLA_*` environment variables (Kafka's own: `KAFKA_*`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.streaming.env_settings import EnvSettings


class SlaSettings(EnvSettings):
    model_config = SettingsConfigDict(env_prefix="SLA_", frozen=True)

    metrics_port: int = 9103
    grace_ms: int = Field(default=2_000, ge=0)
    """A timer fires this long after its due time, so activity already in the log wins."""
    tick_interval_ms: int = Field(default=200, ge=10)
    """How often due timers are looked for; with the grace, bounds how late a step fires."""
    retention_ms: int = Field(default=30 * 86_400_000, ge=60_000)
    """Finished entries idle this long are purged from sla.timers."""
    max_catch_up_ms: int = Field(default=60_000, ge=0)
    """While the inputs lag (a backlog after a restart), due steps wait until the activity
    written before their due time has been read, but never longer than this."""
    early_activity_wait_ms: int = Field(default=5_000, ge=0)
    """Activity read before its lead's assignment waits this long for it, then is dead-lettered
    as `unknown_lead`."""
    commit_interval_ms: int = Field(default=100, ge=10)
