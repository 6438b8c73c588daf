"""A channel's waiting attempts, kept per host so that no host can starve another.

Workers `take` the oldest attempt of the next host, round robin, among hosts with fewer than
`per_host` attempts under way. An endpoint that hangs until the timeout so holds at most
`per_host` workers, and attempts for every other host keep going to the rest, however many of
the slow host's attempts wait. Attempts with no host (points sent through one provider: the
SMTP relay, Twilio, Slack's API) share one queue limited only by the channel's workers.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from typing import Generic, TypeVar

T = TypeVar("T")


class HostQueues(Generic[T]):
    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._waiting: dict[str | None, deque[T]] = {}
        """Hosts in round-robin order: a host served moves to the back."""
        self._busy: Counter[str] = Counter()
        self._changed = threading.Condition()

    def put(self, host: str | None, item: T) -> None:
        with self._changed:
            self._waiting.setdefault(host, deque()).append(item)
            self._changed.notify()

    def waiting(self, host: str | None = None) -> int:
        """Attempts waiting for `host`; with None, for every host."""
        with self._changed:
            if host is None:
                return sum(len(q) for q in self._waiting.values())
            return len(self._waiting.get(host, ()))

    def take(self, timeout_s: float) -> tuple[str | None, T] | None:
        """The next attempt to make and its host, or None after `timeout_s` without one. The
        caller calls `done(host)` when the attempt ends."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                for host in list(self._waiting):
                    if host is not None and self._busy[host] >= self.per_host:
                        continue
                    queued = self._waiting.pop(host)
                    item = queued.popleft()
                    if queued:
                        self._waiting[host] = queued  # to the back: the next host goes first
                    if host is not None:
                        self._busy[host] += 1
                    return host, item
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(remaining)

    def done(self, host: str | None) -> None:
        if host is None:
            return
        with self._changed:
            self._busy[host] -= 1
            if self._busy[host] <= 0:
                del self._busy[host]
            self._changed.notify_all()
