"""Calling librdkafka's transactional API the documented way, and what its errors mean.

librdkafka's contract for `init_transactions`, `send_offsets_to_transaction`,
`commit_transaction` and `abort_transaction`: a *retriable* error (a timeout, a coordinator
still loading) means "call again with the same arguments"; *txn_requires_abort* means the
transaction is lost and must be aborted; *fatal* means the producer is unusable and must be
made anew (most often it was fenced).

`TransactionCalls` makes each call in short slices, so a blocked call never hides a stop
request for longer than one slice, gives up on a retriable error after a deadline (the caller
then aborts), and gives up at once once a stop has waited out its grace period: an
uncommitted transaction left behind is aborted by the broker or fenced by the next instance,
so stopping there loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from confluent_kafka import KafkaError, KafkaException

from services.streaming.errors import FatalError
from services.streaming.records import Clock

T = TypeVar("T")

RECORD_LEVEL = frozenset(
    {
        KafkaError.MSG_SIZE_TOO_LARGE,
        KafkaError.INVALID_MSG_SIZE,
        KafkaError.RECORD_LIST_TOO_LARGE,
        KafkaError.INVALID_RECORD,
        KafkaError.INVALID_MSG,
        KafkaError.INVALID_TIMESTAMP,
    }
)
"""Errors caused by what a record holds: writing the same record again fails the same way."""


class StopRequested(FatalError):
    """A stop waited out its grace period while a transactional call kept failing."""


class ProducerLost(FatalError):
    """librdkafka reported a fatal error: the producer cannot be used again, and the loop may
    make a new one (whose `init_transactions` aborts whatever the old one left open).

    Besides a fence (below), a broker that was away past the transaction timeout can leave the
    transaction coordinator and the producer disagreeing on the transaction's state: librdkafka
    then fails the abort with INVALID_TXN_STATE, fatal."""


class Fenced(ProducerLost):
    """The producer is fenced: its transactional id was taken over by a newer producer, or
    the broker aborted its transaction for running past `transaction.timeout.ms` (librdkafka
    reports both alike)."""


def kafka_error(exc: KafkaException) -> KafkaError:
    error = exc.args[0] if exc.args else None
    if isinstance(error, KafkaError):
        return error
    return KafkaError(KafkaError._FAIL, str(exc))


def is_record_level(error: KafkaError) -> bool:
    return error.code() in RECORD_LEVEL


def unusable(error: KafkaError, what: str) -> ProducerLost | None:
    """What to raise when `error` leaves the producer unusable (`Fenced` for a fence, else
    `ProducerLost`), or None when the producer can go on."""
    if error.code() == KafkaError._FENCED:
        return Fenced(f"{what}: {error}")
    if error.fatal():
        return ProducerLost(f"{what}: fatal Kafka error: {error}")
    return None


class TransactionCalls:
    def __init__(
        self,
        clock: Clock,
        stopping_since: Callable[[], float | None],
        *,
        slice_s: float = 1.0,
        deadline_s: float = 60.0,
        stop_grace_s: float = 5.0,
    ) -> None:
        self.clock = clock
        self.stopping_since = stopping_since
        """When a stop was requested (monotonic), or None while running."""
        self.slice_s = slice_s
        self.deadline_s = deadline_s
        self.stop_grace_s = stop_grace_s
        self.retrying_since: float | None = None
        """Set while a call is being retried: the loop cannot commit then, so it is not ready."""
        self.calling_since: float | None = None
        """When the call under way began: a call can block past its timeout (librdkafka waits
        out its request timeout for a broker that does not answer), so readiness looks here
        rather than waiting for the call to fail."""

    def call(self, what: str, call: Callable[[float], T]) -> T:
        """`call(timeout_s)` until it succeeds; re-raise what retrying cannot mend."""
        self.calling_since = self.clock.monotonic()
        try:
            return self._call(what, call, self.calling_since + self.deadline_s)
        finally:
            self.calling_since = None

    def stuck_since(self, now: float, slow_s: float) -> float | None:
        """Since when calls have been failing, or one has been blocked for over `slow_s`."""
        if self.retrying_since is not None:
            return self.retrying_since
        calling = self.calling_since
        return calling if calling is not None and now - calling > slow_s else None

    def _call(self, what: str, call: Callable[[float], T], deadline: float) -> T:
        while True:
            try:
                result = call(self.slice_s)
            except KafkaException as exc:
                error = kafka_error(exc)
                dead = unusable(error, what)
                if dead is not None:
                    raise dead from exc
                if not error.retriable() or error.txn_requires_abort():
                    raise
                now = self.clock.monotonic()
                if self.retrying_since is None:
                    self.retrying_since = now
                self._give_up_if_stopping(what, now, error)
                if now >= deadline:
                    raise
                continue
            self.retrying_since = None
            return result

    def _give_up_if_stopping(self, what: str, now: float, error: KafkaError) -> None:
        since = self.stopping_since()
        if since is not None and now - since >= self.stop_grace_s:
            raise StopRequested(
                f"stopping: {what} still failing after the {self.stop_grace_s:.0f} s grace "
                f"period ({error.name()}); the open transaction is left to the broker to abort"
            )
