"""The sender stage: works off due deliveries on worker threads, one set per channel.

The transactional loop must never wait on a provider (a slow one would hold its transaction
open past the broker's timeout), so the loop's tick hands due deliveries to `submit` and takes
the answers back with `answers` on a later tick, writing them into the delivery state in its
own transaction. Each channel has its own queue, workers and rate limit: a provider that is
down or slow fills only its own queue, and the other channels go on. Within a channel whose
points are URLs (webhooks, Teams, Slack incoming webhooks), one host has at most half the
channel's workers (host_queues.py), so an endpoint that hangs until the timeout holds up no
other recipient's endpoint.

Nothing here is durable: what is queued or in flight is still pending in the state topic, so a
crash loses no work, it only repeats the attempts that were under way (at-least-once).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from services.notifier.channels import Channel
from services.notifier.deliveries import Answer, Delivery, Failed
from services.notifier.host_queues import HostQueues

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Attempt:
    partition: int
    delivery: Delivery
    answer: Answer
    seconds: float


class RateLimit:
    """At most `per_second` sends a second (0: no limit), spaced evenly: each send reserves the
    next free slot, so workers sharing a channel share its limit."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.next_at = 0.0
        self.lock = threading.Lock()

    def reserve(self, now: float) -> float:
        """Seconds from `now` until the slot this send may go in."""
        with self.lock:
            at = max(now, self.next_at)
            self.next_at = at + self.interval
        return at - now

    def wait(self, stopping: threading.Event) -> None:
        delay = self.reserve(time.monotonic())
        if delay > 0:
            stopping.wait(delay)


class Sender:
    def __init__(
        self,
        channels: Mapping[str, Channel],
        per_second: Mapping[str, float],
        workers: int = 4,
        max_queued: int = 1000,
        observe: Callable[[Attempt], None] = lambda _: None,
    ) -> None:
        """`observe` sees each attempt as it ends, on the worker's thread (metrics)."""
        self.channels = dict(channels)
        self.max_queued = max_queued
        self.observe = observe
        self._queues: dict[str, HostQueues[tuple[int, Delivery]]] = {}
        self._busy: set[str] = set()
        self._done: dict[int, list[Attempt]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        for name in self.channels:
            self._queues[name] = HostQueues(per_host=max(1, workers // 2))
            limit = RateLimit(per_second.get(name, 0.0))
            for index in range(workers):
                thread = threading.Thread(
                    target=self._work, args=(name, limit), name=f"send-{name}-{index}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def submit(self, partition: int, delivery: Delivery) -> bool:
        """Queue one attempt; False when it is queued or in flight already, or its host's
        queue is full (it stays pending and a later tick offers it again)."""
        key, host = delivery.notification_id, host_of(delivery)
        with self._lock:
            if key in self._busy:
                return False
            work = self._queues.get(delivery.channel)
            if work is not None and work.waiting(host) >= self.max_queued:
                return False
            self._busy.add(key)
        if work is None:
            failed = Failed(False, f"channel {delivery.channel!r} is not set up on this notifier")
            self._finish(Attempt(partition, delivery, failed, 0.0))
        else:
            work.put(host, (partition, delivery))
        return True

    def answers(self, partition: int) -> list[Attempt]:
        """The attempts on `partition` that ended since the last call. A delivery counts as
        busy until its answer is taken here, so a tick never offers it again before the
        answer is in the state."""
        with self._lock:
            done = self._done.pop(partition, [])
            self._busy.difference_update(a.delivery.notification_id for a in done)
        return done

    def queued(self) -> dict[str, int]:
        """Attempts waiting for a worker, per channel."""
        return {name: work.waiting() for name, work in self._queues.items()}

    def close(self, timeout_s: float = 2.0) -> None:
        self._stopping.set()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        for channel in self.channels.values():
            channel.close()

    def _work(self, name: str, limit: RateLimit) -> None:
        work, channel = self._queues[name], self.channels[name]
        while not self._stopping.is_set():
            taken = work.take(timeout_s=0.2)
            if taken is None:
                continue
            host, (partition, delivery) = taken
            limit.wait(self._stopping)
            started = time.monotonic()
            try:
                answer = channel.send(delivery)
            except Exception as exc:  # an adapter bug costs one attempt, not the worker
                log.exception("channel %s failed on %s", name, delivery.notification_id)
                answer = Failed(True, f"{type(exc).__name__}: {exc}")
            finally:
                work.done(host)
            self._finish(Attempt(partition, delivery, answer, time.monotonic() - started))

    def _finish(self, attempt: Attempt) -> None:
        self.observe(attempt)
        with self._lock:
            self._done.setdefault(attempt.partition, []).append(attempt)


def host_of(delivery: Delivery) -> str | None:
    """The host a URL point posts to; None for points sent through one provider (SMTP relay,
    Twilio, Slack's API), whose only limit is the channel's."""
    url = delivery.point.get("url") or delivery.point.get("webhook_url")
    return None if url is None else f"{delivery.channel}:{urlsplit(url).netloc}"
