"""A loop run in a thread of its own for a test, keeping whatever ended it, and what it counted."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from prometheus_client import Counter

from services.streaming.loop import TransactionalLoop


@dataclass
class Running:
    loop: TransactionalLoop
    thread: threading.Thread = field(init=False)
    failures: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.loop.run()
        except BaseException as exc:
            self.failures.append(exc)

    def stop(self, timeout_s: float = 30) -> None:
        self.loop.stop()
        self.thread.join(timeout_s)


def stopped(loop: TransactionalLoop, timeout_s: float = 60) -> BaseException:
    """Run `loop` until it stops on its own; the one error that stopped it."""
    running = Running(loop)
    running.thread.join(timeout_s)
    assert not running.thread.is_alive()
    assert len(running.failures) == 1, running.failures
    return running.failures[0]


def aborts(loop: TransactionalLoop) -> float:
    """Transactions the loop gave up, whatever the reason."""
    return _total(loop.metrics.aborts)


def records_processed(loop: TransactionalLoop) -> float:
    """Input records the loop counts as handled, every topic."""
    return _total(loop.metrics.records)


def _total(counter: Counter) -> float:
    return sum(
        sample.value
        for metric in counter.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    )
