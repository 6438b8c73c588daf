"""The console's metrics, declared once: what the projection applied, what was refused, what
people did. Labels are bounded (a reason, an action, a role): never a lead, rep or token."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge


@dataclass(frozen=True)
class ConsoleMetrics:
    applied: Counter
    denied: Counter
    actions: Counter
    caught_up: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> ConsoleMetrics:
        return cls(
            # Records written into the projection (each once, however often read).
            applied=Counter(
                "leadrouter_console_records_applied", "Records applied to the projection.",
                registry=registry,
            ),
            # Requests refused by authentication or authorization, by reason
            # (no_credentials, bad_token, forbidden, bad_csrf).
            denied=Counter(
                "leadrouter_console_denied_requests", "Requests denied.", ["reason"],
                registry=registry,
            ),
            # Manual actions carried out, by action (admin.audit's action names).
            actions=Counter(
                "leadrouter_console_actions", "Manual actions written.", ["action"],
                registry=registry,
            ),
            # 1 once the projection has applied every record that existed when it started.
            caught_up=Gauge(
                "leadrouter_console_projection_caught_up", "Projection caught up since start.",
                registry=registry,
            ),
        )  # fmt: skip
