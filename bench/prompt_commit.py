"""An experiment, not part of leadrouter: the loop changes docs/performance.md proposes, measured.

`PromptCommitLoop` is `TransactionalLoop` with two changes to `step()`:

1. the batch is checked after every record, so a transaction never outgrows
   `commit_interval_ms` by more than one record, however slow the handler (today a whole
   `consume()` of up to 2,000 records is handled first, which can outlast
   `transaction.timeout.ms` and get the producer fenced);
2. a poll waits no longer than it takes to drain what the consumer holds while a batch is
   open, and a batch commits as soon as a poll comes back empty, so at low rates a record waits
   for one commit, not for the rest of the interval.

`python -m bench.prompt_commit --instance N` runs the router's own processors on it; the
`prompt_commit` part (not in the default set: `--parts prompt_commit`) times it the way the
`router` and `speed_to_lead` parts time the service.
"""

from __future__ import annotations

import argparse
import signal
import sys

from confluent_kafka import KafkaException
from prometheus_client import CollectorRegistry

from services.router.app import Router, build_assign_processor
from services.router.triage import build_triage_processor
from services.streaming.loop import LoopSettings, TransactionalLoop
from services.streaming.records import SystemClock
from services.streaming.settings import KafkaSettings

DRAIN_WAIT_S = 0.002


class PromptCommitLoop(TransactionalLoop):
    def step(self) -> None:
        if self._batch is None:
            for table in self.p.tables:
                table.refresh()
        wait = DRAIN_WAIT_S if self._batch is not None else self._wait_s()
        messages = self.consumer.consume(self.s.max_batch_records, timeout=wait)
        try:
            for message in messages:
                self._handle_message(message)
                if self._batch is not None and self._batch_due(self._batch):
                    self._commit()
            self._maybe_tick()
            if self._batch is not None and (not messages or self._batch_due(self._batch)):
                self._commit()
        except KafkaException as exc:
            self._recover(exc)
        self._maybe_report_lag()
        self._last_step = self.clock.monotonic()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instance", type=int, default=0)
    args = parser.parse_args(argv)
    kafka, clock = KafkaSettings(), SystemClock()
    settings = LoopSettings(instance=args.instance)
    registries = [CollectorRegistry(), CollectorRegistry()]
    processors = [
        build_triage_processor(kafka, registry=registries[0]),
        build_assign_processor(kafka, registries[1], clock),
    ]
    loops: list[TransactionalLoop] = [
        PromptCommitLoop(p, kafka, settings, r, clock)
        for p, r in zip(processors, registries, strict=True)
    ]
    router = Router(loops, CollectorRegistry())
    signal.signal(signal.SIGTERM, router.stop)
    signal.signal(signal.SIGINT, router.stop)
    router.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
