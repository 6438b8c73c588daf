"""Webhook, Slack and Teams adapters against local servers answering as the providers document.

Standard Webhooks signatures are checked with the spec's reference verifier; the webhook body
with the JSON Schema in schemas/.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from standardwebhooks.webhooks import Webhook

from services.notifier.channels.slack import SlackChannel
from services.notifier.channels.teams import TeamsChannel
from services.notifier.channels.webhook import WebhookChannel
from services.notifier.deliveries import Failed, Sent
from tests.integration.notifier.providers import Seen, json_reply, provider, text
from tests.unit.notifier.builders import make_delivery

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SCHEMA = Path(__file__).resolve().parents[3] / "schemas" / "notification.webhook.schema.json"


def test_a_webhook_is_signed_so_the_reference_verifier_accepts_it_and_matches_the_schema() -> None:
    with provider(lambda seen: text(204)) as crm:
        delivery = make_delivery("webhook", url=f"{crm.url}/hooks")
        channel = WebhookChannel(SECRET)
        assert channel.send(delivery) == Sent()
        assert channel.send(delivery) == Sent()  # a retry: same id, new timestamp
    first, again = crm.seen
    verified = Webhook(SECRET).verify(first.body, first.headers)
    assert verified == json.loads(delivery.payload)
    jsonschema.validate(verified, json.loads(SCHEMA.read_text()))
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == delivery.notification_id
    assert first.path == "/hooks"


def test_a_forged_webhook_fails_the_reference_verifier() -> None:
    with provider(lambda seen: text(200)) as crm:
        WebhookChannel("whsec_" + "QUJD" * 8).send(make_delivery("webhook", url=crm.url))
    (seen,) = crm.seen
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(SECRET).verify(seen.body, seen.headers)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            text(503, "down for maintenance", retry_after="7"),
            Failed(True, "down for maintenance", 503, 7.0),
        ),
        (text(429, "slow down", retry_after="30"), Failed(True, "slow down", 429, 30.0)),
        (text(410, "gone"), Failed(False, "gone", 410)),
    ],
)
def test_webhook_answers_say_whether_to_retry_and_when(
    reply: tuple[int, dict[str, str], bytes], expected: Failed
) -> None:
    with provider(lambda seen: reply) as crm:
        answer = WebhookChannel(SECRET).send(make_delivery("webhook", url=crm.url))
    assert answer == expected


def test_an_unreachable_endpoint_is_retried() -> None:
    answer = WebhookChannel(SECRET).send(make_delivery("webhook", url="http://127.0.0.1:9/x"))
    assert isinstance(answer, Failed) and answer.retryable and answer.status is None


def test_slack_incoming_webhook_gets_block_kit_and_reads_slacks_errors() -> None:
    replies = iter(
        [
            text(200, "ok"),
            text(404, "channel_not_found"),
            text(429, "rate_limited", retry_after="3"),
        ]
    )
    with provider(lambda seen: next(replies)) as slack:
        channel = SlackChannel(None)
        delivery = make_delivery("slack", webhook_url=f"{slack.url}/services/T0/B0/X")
        answers = [channel.send(delivery) for _ in range(3)]
    assert answers == [
        Sent(),
        Failed(False, "channel_not_found", 404),
        Failed(True, "rate_limited", 429, 3.0),
    ]
    body = slack.seen[0].json()
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "actions"]
    assert body["blocks"][2]["elements"][0]["url"] == "https://console.example/leads/lead-1"
    assert body["text"].startswith("New lead:")


def test_slack_post_message_sends_the_bot_token_and_reads_ok_false() -> None:
    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        body = seen.json()
        if seen.headers.get("authorization") != "Bearer xoxb-test":
            return json_reply(200, {"ok": False, "error": "invalid_auth"})
        if body["channel"] != "C0123":
            return json_reply(200, {"ok": False, "error": "channel_not_found"})
        return json_reply(200, {"ok": True, "channel": "C0123", "ts": "1700000000.000100"})

    with provider(answer) as slack:
        good = SlackChannel("xoxb-test", api_url=slack.url)
        assert good.send(make_delivery("slack", slack_channel="C0123")) == Sent("1700000000.000100")
        assert good.send(make_delivery("slack", slack_channel="C9")) == Failed(
            False, "channel_not_found", 200
        )
        bad = SlackChannel("xoxb-wrong", api_url=slack.url)
        assert bad.send(make_delivery("slack", slack_channel="C0123")) == Failed(
            False, "invalid_auth", 200
        )
    assert slack.seen[0].path == "/chat.postMessage"
    sent = slack.seen[0].json()
    assert sent["metadata"]["event_payload"]["notification_id"].startswith("ntf_")


def test_slack_ratelimited_is_retried_after_its_retry_after() -> None:
    reply = json_reply(429, {"ok": False, "error": "ratelimited"}, retry_after="12")
    with provider(lambda seen: reply) as slack:
        answer = SlackChannel("xoxb-test", api_url=slack.url).send(
            make_delivery("slack", slack_channel="C0123")
        )
    assert isinstance(answer, Failed) and answer.retryable and answer.retry_after_s == 12.0


def test_teams_gets_an_adaptive_card_and_a_refusal_is_permanent() -> None:
    replies = iter([text(200, "1"), text(400, "Bad payload received by generic incoming webhook.")])
    with provider(lambda seen: next(replies)) as teams:
        channel = TeamsChannel()
        delivery = make_delivery("teams", webhook_url=f"{teams.url}/webhookb2/x")
        assert channel.send(delivery) == Sent()
        answer = channel.send(delivery)
    assert answer == Failed(False, "Bad payload received by generic incoming webhook.", 400)
    card = teams.seen[0].json()["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["actions"][0]["url"] == "https://console.example/leads/lead-1"
