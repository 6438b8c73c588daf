"""The `leadrouter top` loop: follow `leads.assignments`, scrape the services, redraw.

Shared by `leadrouter top` and `leadrouter run` (which shows it while its demo feed runs).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx
from rich.console import Console
from rich.live import Live

from services.console.assignment_feed import AssignmentFeed
from services.console.board import Board
from services.console.service_metrics import ServiceStatus, scrape
from services.console.top_view import render
from services.streaming.settings import KafkaSettings

Weights = Mapping[str, Mapping[str, float]]


class ConfigView(Protocol):
    """Where the view learns the routing config in force (see `FollowedConfig`)."""

    def weights(self) -> Weights: ...

    def label(self) -> str: ...


class NoConfig:
    def weights(self) -> Weights:
        return {}

    def label(self) -> str:
        return ""


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    url: str


def default_endpoints(host: str = "127.0.0.1") -> tuple[Endpoint, ...]:
    """The four services' metrics, on the ports their own settings read from the environment."""
    ports = (
        ("ingest", "INGEST_METRICS_PORT", "9101"),
        ("router", "ROUTER_METRICS_PORT", "9102"),
        ("sla_watcher", "SLA_METRICS_PORT", "9103"),
        ("notifier", "NOTIFIER_METRICS_PORT", "9105"),
    )
    return tuple(
        Endpoint(name, f"http://{host}:{os.environ.get(env, default)}/metrics")
        for name, env, default in ports
    )


def watch(
    settings: KafkaSettings,
    endpoints: Sequence[Endpoint],
    *,
    stop: threading.Event,
    console: Console,
    from_beginning: bool = True,
    scrape_every_s: float = 2.0,
    config: ConfigView | None = None,
    alerts: Callable[[], Sequence[str]] = tuple,
) -> Board:
    """Redraw until `stop` is set; returns the board as it stood at the end."""
    feed = AssignmentFeed(settings, from_beginning=from_beginning)
    board = Board()
    services: list[ServiceStatus] = []
    next_scrape = 0.0
    try:
        with (
            httpx.Client(timeout=1.0) as client,
            Live(console=console, refresh_per_second=4, auto_refresh=False) as live,
        ):
            while not stop.is_set():
                for item in feed.poll(0.25):
                    if item.assignment is not None:
                        board.record(item.assignment)
                if time.monotonic() >= next_scrape:
                    services = [scrape(e.name, e.url, client) for e in endpoints]
                    next_scrape = time.monotonic() + scrape_every_s
                routing = config or NoConfig()
                screen = render(
                    board.snapshot(routing.weights()), services, alerts(), routing.label()
                )
                live.update(screen, refresh=True)
    finally:
        feed.close()
    return board
