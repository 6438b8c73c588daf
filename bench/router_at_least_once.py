"""The router's own two processors on `AtLeastOnceLoop`: `python -m bench.router_at_least_once`.

Built by the router's own builders, so handlers, state stores and tables are exactly the
service's; only the delivery guarantee differs. The benchmark publishes the config first.
Runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from prometheus_client import CollectorRegistry

from bench.at_least_once import AtLeastOnceLoop
from services.router.app import build_assign_processor
from services.router.triage import build_triage_processor
from services.streaming.records import SystemClock
from services.streaming.settings import KafkaSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instance", type=int, default=0)
    args = parser.parse_args(argv)
    kafka = KafkaSettings()
    processors = [
        build_triage_processor(kafka, registry=CollectorRegistry()),
        build_assign_processor(kafka, CollectorRegistry(), SystemClock()),
    ]
    loops = [AtLeastOnceLoop(p, kafka, instance=args.instance) for p in processors]
    failures: list[BaseException] = []

    def stop(*_: object) -> None:
        for loop in loops:
            loop.stop()

    def run_one(loop: AtLeastOnceLoop) -> None:
        try:
            loop.run()
        except BaseException as exc:
            failures.append(exc)
            stop()
            raise

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threads = [threading.Thread(target=run_one, args=(loop,)) for loop in loops]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
