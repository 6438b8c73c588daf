"""The local stack's ports, read from the same variables the services' own settings read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.streaming.errors import SettingsInvalid


class PortError(SettingsInvalid):
    """A port variable is not a number; the message names it."""


@dataclass(frozen=True, slots=True)
class Ports:
    kafka: int = 9092
    http: int = 8080
    smtp: int = 2525
    ingest_metrics: int = 9101
    router_metrics: int = 9102
    sla_metrics: int = 9103
    notifier_metrics: int = 9105
    mail_sink: int = 2526
    """Where the notifier sends email: the demo's SMTP sink under `leadrouter run`."""
    console: int = 8090
    console_metrics: int = 9104

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Ports:
        """The ports the services' own settings read, so the CLI and the services agree."""
        names = {
            "kafka": "KAFKA_PORT",
            "http": "INGEST_HTTP_PORT",
            "smtp": "INGEST_SMTP_PORT",
            "ingest_metrics": "INGEST_METRICS_PORT",
            "router_metrics": "ROUTER_METRICS_PORT",
            "sla_metrics": "SLA_METRICS_PORT",
            "notifier_metrics": "NOTIFIER_METRICS_PORT",
            "mail_sink": "NOTIFIER_SMTP_PORT",
            "console": "CONSOLE_PORT",
            "console_metrics": "CONSOLE_METRICS_PORT",
        }
        defaults = cls()
        values = {}
        for attr, env_name in names.items():
            raw = env.get(env_name)
            try:
                values[attr] = int(raw) if raw else getattr(defaults, attr)
            except ValueError:
                raise PortError((f"{env_name} must be a port number, got {raw!r}",)) from None
        return cls(**values)

    def service_env(self) -> dict[str, str]:
        return {
            "INGEST_HTTP_PORT": str(self.http),
            "INGEST_SMTP_PORT": str(self.smtp),
            "INGEST_METRICS_PORT": str(self.ingest_metrics),
            "ROUTER_METRICS_PORT": str(self.router_metrics),
            "SLA_METRICS_PORT": str(self.sla_metrics),
            "NOTIFIER_METRICS_PORT": str(self.notifier_metrics),
            "NOTIFIER_SMTP_PORT": str(self.mail_sink),
            "CONSOLE_PORT": str(self.console),
            "CONSOLE_METRICS_PORT": str(self.console_metrics),
        }
