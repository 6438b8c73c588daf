"""A delivery: one notification to one contact point, and how it moves on each provider answer.

    pending --Sent--> sent
    pending --Failed(retryable), attempts left--> pending (next attempt after a backoff)
    pending --Failed(permanent) or attempts used up--> dead (dead-lettered with the answer)

The backoff is exponential with jitter (between half and all of each step), and never shorter
than the provider's `Retry-After`. The jitter comes from a stable hash of the notification id
and the attempt, so it spreads retries across notifications while replaying the same answers
gives the same schedule. Pure: the time of an answer is a parameter.

Deliveries live in a state topic (delivery_store.py) committed with the input offsets: the
schedule survives restarts, which an in-process retry loop's sleeps would not.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from enum import StrEnum

from services.leads.notification_config import NotificationEvent


class Status(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Sent:
    """The provider confirmed; `provider_id` is its own id for the message when it gives one."""

    provider_id: str | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    """The provider refused or could not be reached. `status` is the HTTP or SMTP code."""

    retryable: bool
    detail: str
    status: int | None = None
    retry_after_s: float | None = None


Answer = Sent | Failed


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    base_ms: int = 1_000
    cap_ms: int = 300_000

    def delay_ms(self, notification_id: str, attempt: int, retry_after_s: float | None) -> int:
        """Between half and all of `base * 2^(attempt-1)` capped; at least the provider's wish."""
        ceiling = min(self.cap_ms, self.base_ms * 2 ** max(0, attempt - 1))
        digest = hashlib.sha256(f"{notification_id}/{attempt}".encode()).digest()
        fraction = int.from_bytes(digest[:4], "big") / 2**32
        jittered = int(ceiling / 2 + fraction * ceiling / 2)
        wish = 0 if retry_after_s is None else int(retry_after_s * 1000)
        return max(jittered, wish)


@dataclass(frozen=True, slots=True)
class Delivery:
    notification_id: str
    event_id: str
    event_type: NotificationEvent
    lead_id: str
    recipient: str
    """The rep, manager or pool id, or `subscriber` for a subscriber point."""
    point: dict[str, str]
    """The contact point as configured (`channel` and its address fields)."""
    message: dict[str, str | None]
    """messages.Message's fields."""
    payload: str
    """The event's JSON form, as a webhook carries it."""
    created_at_ms: int
    next_at_ms: int
    """Not before this: quiet hours or a backoff."""
    status: Status = Status.PENDING
    attempts: int = 0
    last_answer: str = ""
    finished_at_ms: int | None = None

    @property
    def channel(self) -> str:
        return self.point["channel"]


def notification_id(event_id: str, recipient: str, channel: str, address: str) -> str:
    """Deterministic: the same event to the same point always has the same id, so it is the
    idempotency key providers see (webhook-id, Message-ID)."""
    digest = hashlib.sha256(f"{event_id}\x1f{recipient}\x1f{channel}\x1f{address}".encode())
    return f"ntf_{digest.hexdigest()[:32]}"


def answered(delivery: Delivery, answer: Answer, now_ms: int, policy: RetryPolicy) -> Delivery:
    """The delivery after one attempt's answer."""
    attempts = delivery.attempts + 1
    if isinstance(answer, Sent):
        note = f"sent{'' if answer.provider_id is None else f' as {answer.provider_id}'}"
        return replace(
            delivery, status=Status.SENT, attempts=attempts, last_answer=note, finished_at_ms=now_ms
        )
    described = describe(answer)
    if not answer.retryable or attempts >= policy.max_attempts:
        return replace(
            delivery,
            status=Status.DEAD,
            attempts=attempts,
            last_answer=described,
            finished_at_ms=now_ms,
        )
    delay = policy.delay_ms(delivery.notification_id, attempts, answer.retry_after_s)
    return replace(delivery, attempts=attempts, last_answer=described, next_at_ms=now_ms + delay)


def settled(delivery: Delivery) -> Delivery:
    """What the state keeps of a sent or dead delivery: enough never to send it again, without
    the rendered texts and payload (the dead letter carries those), so a week of deliveries
    restores quickly and fits in memory."""
    return replace(delivery, message={}, payload="")


def describe(answer: Failed) -> str:
    status = "" if answer.status is None else f"{answer.status} "
    return f"{status}{answer.detail}"[:2000]
