"""Channels: one small adapter per provider, each `send(delivery) -> Answer`.

An adapter makes one attempt and says what the provider answered (deliveries.Sent or
deliveries.Failed, retryable or not, with the provider's status, error and Retry-After); it
never retries, sleeps or raises for a provider's answer. Retrying, backoff and rate limits are
the sender's and the delivery state's business.
"""

from __future__ import annotations

from typing import Protocol

from services.notifier.deliveries import Answer, Delivery


class Channel(Protocol):
    def send(self, delivery: Delivery) -> Answer: ...

    def close(self) -> None: ...
