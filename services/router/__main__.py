"""leadrouter-router: wiring only (settings -> clients -> loop).

    leadrouter-router --instance 0 [--stage all|triage|assign]

`--stage all` (the default) runs triage and assign fused on one loop; `--stage triage` or
`assign` runs one of them (see app.py). Each running copy takes a distinct `--instance` slot
(its stable transactional id and static group membership). It waits for a routing config to
be published before it starts deciding, serves metrics on METRICS_HOST:ROUTER_METRICS_PORT
(default 0.0.0.0:9102), and on SIGTERM or SIGINT commits what is open and exits 0. A bad
environment variable is logged, naming it, and exits 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from prometheus_client import CollectorRegistry

from services.router.app import RouterSettings, Stage, build_router
from services.router.config_source import read_published
from services.streaming.errors import FatalError, SettingsInvalid, TransientError
from services.streaming.metrics import serve_metrics
from services.streaming.settings import KafkaSettings, MetricsSettings

log = logging.getLogger("leadrouter.router")


def wait_for_config(kafka: KafkaSettings, poll_s: float = 2.0) -> None:
    """Block until `routing.config` holds a version: deciding without one is impossible."""
    announced = False
    while not read_published(kafka):
        if not announced:
            log.warning("no routing config yet: waiting for `leadrouter config publish FILE`")
            announced = True
        time.sleep(poll_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="leadrouter-router",
        description="Triage inbound leads and assign them to reps, exactly once.",
    )
    parser.add_argument("--instance", type=int, default=0, help="instance slot (default 0)")
    parser.add_argument(
        "--stage",
        type=Stage,
        choices=list(Stage),
        default=Stage.ALL,
        help="both stages fused on one loop (default), or one of them, to scale them apart",
    )
    parser.add_argument("--no-metrics", action="store_true", help="do not serve /metrics")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        kafka, settings, metrics = KafkaSettings(), RouterSettings(), MetricsSettings()
    except SettingsInvalid as exc:
        log.error("%s", exc)
        return 2
    try:
        wait_for_config(kafka)
        registry = CollectorRegistry()
        loop = build_router(
            kafka, settings, instance=args.instance, stage=args.stage, registry=registry
        )
        if not args.no_metrics:
            serve_metrics(registry, settings.metrics_port, metrics.host, health=loop.health)
        loop.serve()
    except (FatalError, TransientError) as exc:
        log.error("stopping: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
