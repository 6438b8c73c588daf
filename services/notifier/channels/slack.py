"""Slack: incoming webhooks, or `chat.postMessage` with a bot token; a Block Kit message.

An incoming webhook answers `200 ok`, or a status with the error as plain text
(`400 invalid_payload`, `404 channel_not_found`, `410 channel_is_archived`, `429` with
Retry-After). `chat.postMessage` answers 200 with JSON: `{"ok": true, "ts": ...}` or
`{"ok": false, "error": "channel_not_found"}`; rate limits are `429` with Retry-After. Slack
takes no idempotency key for either, so a retry after a lost answer can post twice
(at-least-once); with chat.postMessage the notification id rides in the message metadata, so
a reader can tell a repeat.
"""

from __future__ import annotations

from typing import Any

import httpx

from services.notifier.channels.http_answers import TIMEOUT, answer_of, unreachable
from services.notifier.deliveries import Answer, Delivery, Failed, Sent

API_URL = "https://slack.com/api"
RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


def blocks(delivery: Delivery) -> list[dict[str, Any]]:
    """A header with the subject, the text, and a button to the lead when there is a link."""
    message = delivery.message
    built: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": (message["subject"] or "")[:150]},
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": (message["text"] or "")[:3000]}},
    ]
    if message.get("link"):
        button = {
            "type": "button",
            "text": {"type": "plain_text", "text": "Open the lead"},
            "url": message["link"],
            "action_id": "open_lead",
        }
        built.append({"type": "actions", "elements": [button]})
    return built


def slack_body(delivery: Delivery) -> dict[str, Any]:
    """`text` is the fallback notifications and screen readers show."""
    return {"text": delivery.message["short"], "blocks": blocks(delivery)}


def message_metadata(delivery: Delivery) -> dict[str, Any]:
    """chat.postMessage's `metadata`: the notification id, for whoever reads the channel."""
    return {
        "event_type": f"lead_{delivery.event_type.value}",
        "event_payload": {"notification_id": delivery.notification_id},
    }


class SlackChannel:
    def __init__(
        self, bot_token: str | None, api_url: str = API_URL, client: httpx.Client | None = None
    ) -> None:
        self.bot_token = bot_token
        self.api_url = api_url.rstrip("/")
        self.client = client or httpx.Client(timeout=TIMEOUT)

    def send(self, delivery: Delivery) -> Answer:
        if "webhook_url" in delivery.point:
            return self._incoming_webhook(delivery)
        return self._post_message(delivery)

    def _incoming_webhook(self, delivery: Delivery) -> Answer:
        try:
            response = self.client.post(delivery.point["webhook_url"], json=slack_body(delivery))
        except httpx.HTTPError as exc:
            return unreachable(exc)
        return answer_of(response)

    def _post_message(self, delivery: Delivery) -> Answer:
        if self.bot_token is None:
            return Failed(False, "no NOTIFIER_SLACK_BOT_TOKEN for chat.postMessage")
        body = slack_body(delivery) | {
            "channel": delivery.point["slack_channel"],
            "metadata": message_metadata(delivery),
        }
        headers = {"authorization": f"Bearer {self.bot_token}"}
        try:
            response = self.client.post(
                f"{self.api_url}/chat.postMessage", json=body, headers=headers
            )
        except httpx.HTTPError as exc:
            return unreachable(exc)
        if not response.is_success:
            return answer_of(response)
        try:
            answer = response.json()
        except ValueError:
            return Failed(True, f"not JSON: {response.text[:200]}", response.status_code)
        if answer.get("ok") is True:
            return Sent(str(answer.get("ts")) if answer.get("ts") else None)
        error = str(answer.get("error", "unknown_error"))
        return Failed(error in RETRYABLE_ERRORS, error, response.status_code)

    def close(self) -> None:
        self.client.close()
