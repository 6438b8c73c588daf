"""Generic webhooks signed per the Standard Webhooks specification, for CRMs and in-house tools.

    POST <url>
    content-type: application/json
    webhook-id: <notification id>          the idempotency key: the same on every retry
    webhook-timestamp: <unix seconds>      of this attempt
    webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">

The body is the event's JSON form (schemas/notification.webhook.schema.json). Signing is the
spec's reference library's (`standardwebhooks`), so any verifier of the spec accepts it; the
secret is `whsec_` + base64, from NOTIFIER_WEBHOOK_SECRET.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook

from services.notifier.channels.http_answers import TIMEOUT, answer_of, unreachable
from services.notifier.deliveries import Answer, Delivery, Failed


class WebhookChannel:
    def __init__(
        self,
        secret: str | None,
        client: httpx.Client | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(tz=UTC),
    ) -> None:
        self.signer = None if secret is None else Webhook(secret)
        self.client = client or httpx.Client(timeout=TIMEOUT)
        self.now = now

    def send(self, delivery: Delivery) -> Answer:
        if self.signer is None:
            return Failed(False, "no NOTIFIER_WEBHOOK_SECRET: webhooks are never sent unsigned")
        at = self.now()
        body = delivery.payload
        headers = {
            "content-type": "application/json",
            "webhook-id": delivery.notification_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": self.signer.sign(delivery.notification_id, at, body),
        }
        try:
            response = self.client.post(delivery.point["url"], content=body, headers=headers)
        except httpx.HTTPError as exc:
            return unreachable(exc)
        return answer_of(response)

    def close(self) -> None:
        self.client.close()
