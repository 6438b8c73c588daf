"""`leadrouter top`: a live terminal view of pools, reps, SLA timers, lag and latest decisions."""

from __future__ import annotations

import argparse
import threading

from rich.console import Console

from services.cli.base import CommandError, Subparsers, stop_on_signal_or_after
from services.console.followed_config import FollowedConfig
from services.console.top import Endpoint, default_endpoints, watch
from services.streaming.settings import KafkaSettings


def register(subparsers: Subparsers) -> None:
    top = subparsers.add_parser(
        "top",
        help="live view per pool and rep: assignments, skips, fairness, SLA timers, lag",
        description="Follows leads.assignments (read_committed, no consumer group) and scrapes "
        "the services' metrics endpoints (ports from INGEST_METRICS_PORT, ROUTER_METRICS_PORT, "
        "SLA_METRICS_PORT). Ctrl-C exits.",
    )
    top.add_argument(
        "--new-only",
        action="store_true",
        help="count only decisions made from now on (default: everything retained)",
    )
    top.add_argument(
        "--metrics",
        action="append",
        metavar="NAME=URL",
        help="a metrics endpoint to scrape instead of the defaults (repeatable)",
    )
    top.add_argument("--seconds", type=float, help="exit after this long (default: until Ctrl-C)")
    top.set_defaults(func=_top)


def _endpoints(specs: list[str] | None) -> tuple[Endpoint, ...]:
    if not specs:
        return default_endpoints()
    endpoints = []
    for spec in specs:
        name, sep, url = spec.partition("=")
        if not sep or not url.startswith(("http://", "https://")):
            raise CommandError(f"--metrics expects NAME=http://host:port/metrics, got {spec!r}")
        endpoints.append(Endpoint(name, url))
    return tuple(endpoints)


def _top(args: argparse.Namespace) -> int:
    endpoints = _endpoints(args.metrics)
    stop = threading.Event()
    stop_on_signal_or_after(stop, args.seconds)
    settings = KafkaSettings()
    routing = FollowedConfig(settings)
    try:
        watch(
            settings,
            endpoints,
            stop=stop,
            console=Console(),
            from_beginning=not args.new_only,
            config=routing,
        )
    finally:
        routing.close()
    return 0
