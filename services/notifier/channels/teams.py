"""Microsoft Teams incoming webhooks: an Adaptive Card with the summary and a link.

Teams has no idempotency key: a retry after a lost answer can post twice (at-least-once).
"""

from __future__ import annotations

from typing import Any

import httpx

from services.notifier.channels.http_answers import TIMEOUT, answer_of, unreachable
from services.notifier.deliveries import Answer, Delivery


def card(delivery: Delivery) -> dict[str, Any]:
    message = delivery.message
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": message["subject"], "weight": "Bolder", "wrap": True},
        {"type": "TextBlock", "text": message["text"], "wrap": True},
    ]
    actions = []
    if message.get("link"):
        actions.append({"type": "Action.OpenUrl", "title": "Open the lead", "url": message["link"]})
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": body,
                    "actions": actions,
                },
            }
        ],
    }


class TeamsChannel:
    def __init__(self, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(timeout=TIMEOUT)

    def send(self, delivery: Delivery) -> Answer:
        try:
            response = self.client.post(delivery.point["webhook_url"], json=card(delivery))
        except httpx.HTTPError as exc:
            return unreachable(exc)
        return answer_of(response)

    def close(self) -> None:
        self.client.close()
