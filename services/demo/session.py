"""`leadrouter run`'s foreground: the demo feed in a thread, the live view in front, until
stopped. The feed's log goes to `<run dir>/logs/demo-feed.log`, not the terminal the view owns.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import httpx
import yaml
from rich.console import Console

from services.console.followed_config import FollowedConfig
from services.console.top import Endpoint, watch
from services.demo.feed import DemoFeed, FeedSettings
from services.demo.front_doors import FrontDoorClient, FrontDoors
from services.demo.stack import Stack


def rep_ids(config: Path) -> list[str]:
    """The reps whose presence the demo toggles; read straight from the YAML document."""
    document = yaml.safe_load(config.read_text()) or {}
    return [str(rep["id"]) for rep in document.get("reps", ()) if isinstance(rep, dict)]


def feed_and_watch(
    stack: Stack,
    doors: FrontDoors,
    feed_settings: FeedSettings,
    *,
    console: Console,
    stop: threading.Event,
    stats: dict[str, int],
) -> None:
    """The demo feed in a thread and the live view in front, until `stop`; `stats` gets what
    the feed did."""
    feed_log = logging.FileHandler(stack.log_dir / "demo-feed.log")
    feed_log.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("leadrouter.demo")
    logger.addHandler(feed_log)
    logger.setLevel(logging.INFO)
    endpoints = (
        Endpoint("ingest", f"http://127.0.0.1:{stack.ports.ingest_metrics}/metrics"),
        Endpoint("router", f"http://127.0.0.1:{stack.ports.router_metrics}/metrics"),
        Endpoint("sla_watcher", f"http://127.0.0.1:{stack.ports.sla_metrics}/metrics"),
        Endpoint("notifier", f"http://127.0.0.1:{stack.ports.notifier_metrics}/metrics"),
    )
    with httpx.Client(timeout=10.0) as http:
        feed = DemoFeed(
            stack.settings(),
            FrontDoorClient(doors, http),
            rep_ids(stack.config_path),
            feed_settings,
        )
        feeder = threading.Thread(target=feed.run, args=(stop,), name="demo-feed", daemon=True)

        def alerts() -> list[str]:
            lines = [
                f"{name} exited with {code}; see {stack.log_path(name)}"
                for name, code in sorted(stack.exited().items())
            ]
            if feed.failure:
                lines.append(f"{feed.failure}; see {stack.log_dir / 'demo-feed.log'}")
            return lines

        routing = FollowedConfig(stack.settings())
        try:
            feeder.start()
            watch(stack.settings(), endpoints, stop=stop, console=console, config=routing,
                  alerts=alerts)  # fmt: skip
        finally:
            stop.set()
            feeder.join(timeout=15)
            routing.close()
            stats.update(feed.stats)
            logger.removeHandler(feed_log)
            feed_log.close()
