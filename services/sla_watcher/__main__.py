"""leadrouter-sla-watcher: wiring only (settings -> clients -> loop).

    leadrouter-sla-watcher --instance 0

Each running copy takes a distinct `--instance` slot: its stable transactional id and static
group membership, so a restarted slot fences its predecessor and takes its partitions back at
once. Metrics are served on METRICS_HOST:SLA_METRICS_PORT (default 0.0.0.0:9103). SIGTERM or
SIGINT commits what is open and exits 0; a bad environment variable is logged, naming it, and
exits 2.
"""

from __future__ import annotations

import argparse
import logging
import sys

from prometheus_client import CollectorRegistry

from services.sla_watcher.app import build, loop_settings
from services.sla_watcher.settings import SlaSettings
from services.streaming.errors import FatalError, SettingsInvalid, TransientError
from services.streaming.loop import TransactionalLoop
from services.streaming.metrics import serve_metrics
from services.streaming.settings import KafkaSettings, MetricsSettings

log = logging.getLogger("leadrouter.sla_watcher")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="leadrouter-sla-watcher",
        description="Times first touches; escalates and reassigns leads whose SLA is missed.",
    )
    parser.add_argument("--instance", type=int, default=0, help="instance slot (default 0)")
    parser.add_argument("--no-metrics", action="store_true", help="do not serve /metrics")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        kafka, settings, metrics = KafkaSettings(), SlaSettings(), MetricsSettings()
    except SettingsInvalid as exc:
        log.error("%s", exc)
        return 2
    registry = CollectorRegistry()
    try:
        watcher = build(kafka, settings, registry)
        loop = TransactionalLoop(
            watcher.processor, kafka, loop_settings(settings, args.instance), registry
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
