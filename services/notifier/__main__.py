"""leadrouter-notifier: wiring only (settings -> clients -> loop).

    leadrouter-notifier --instance 0

Each running copy takes a distinct `--instance` slot (stable transactional id, static group
membership). Metrics, /healthz and /readyz on METRICS_HOST:NOTIFIER_METRICS_PORT (default
0.0.0.0:9105). SIGTERM or SIGINT commits what is open and exits 0; a bad environment variable
is logged, naming it, and exits 2.
"""

from __future__ import annotations

import argparse
import logging
import sys

from prometheus_client import CollectorRegistry

from services.notifier.app import build, loop_settings
from services.notifier.settings import NotifierSettings
from services.streaming.errors import FatalError, SettingsInvalid, TransientError
from services.streaming.loop import TransactionalLoop
from services.streaming.metrics import serve_metrics
from services.streaming.settings import KafkaSettings, MetricsSettings

log = logging.getLogger("leadrouter.notifier")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="leadrouter-notifier",
        description="Tells reps, managers, pools and CRMs about assignments and escalations.",
    )
    parser.add_argument("--instance", type=int, default=0, help="instance slot (default 0)")
    parser.add_argument("--no-metrics", action="store_true", help="do not serve /metrics")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        kafka, settings, metrics = KafkaSettings(), NotifierSettings(), MetricsSettings()
    except SettingsInvalid as exc:
        log.error("%s", exc)
        return 2
    registry = CollectorRegistry()
    try:
        notifier = build(kafka, settings, registry)
        loop = TransactionalLoop(
            notifier.processor, kafka, loop_settings(settings, args.instance), registry
        )
        if not args.no_metrics:
            serve_metrics(registry, settings.metrics_port, metrics.host, health=loop.health)
        try:
            loop.serve()
        finally:
            notifier.sender.close()
    except (FatalError, TransientError) as exc:
        log.error("stopping: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
