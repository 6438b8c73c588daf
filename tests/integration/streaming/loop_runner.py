"""A loop run in a thread of its own for a test, keeping whatever ended it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

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
