"""The router's own processor on `AtLeastOnceLoop`: `python -m bench.router_at_least_once`.

Built by the router's own builder (both stages fused, as `--stage all` runs them), so
handlers, state stores and tables are exactly the service's; only the delivery guarantee
differs. The benchmark publishes the config first. Runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys

from prometheus_client import CollectorRegistry

from bench.at_least_once import AtLeastOnceLoop
from services.router.app import build_router_processor
from services.streaming.records import SystemClock
from services.streaming.settings import KafkaSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instance", type=int, default=0)
    args = parser.parse_args(argv)
    kafka = KafkaSettings()
    processor = build_router_processor(kafka, CollectorRegistry(), SystemClock())
    loop = AtLeastOnceLoop(processor, kafka, instance=args.instance)
    signal.signal(signal.SIGTERM, lambda *_: loop.stop())
    signal.signal(signal.SIGINT, lambda *_: loop.stop())
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
