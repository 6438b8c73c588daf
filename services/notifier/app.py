"""The notifier as a processor on the exactly-once loop: topics, state, config, channels.

Inputs `leads.assignments` and `leads.escalations` (keyed by lead id, co-partitioned with the
`notifier.deliveries` state topic); outputs dead letters to `notifier.dead-letter`. The sender
stage's threads are the notifier's own: the loop only ever sees the handler and the tick.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace

from prometheus_client import CollectorRegistry

from services.leads.routing_config import RoutingConfig
from services.leads.topics import Topic
from services.notifier.channels import Channel
from services.notifier.channels.slack import SlackChannel
from services.notifier.channels.smtp_email import SmtpChannel, SmtpServer
from services.notifier.channels.teams import TeamsChannel
from services.notifier.channels.twilio_sms import TwilioSmsChannel
from services.notifier.channels.webhook import WebhookChannel
from services.notifier.deliveries import RetryPolicy
from services.notifier.delivery_store import DeliveryStore
from services.notifier.handler import NotifierHandler, NotifierTopics
from services.notifier.metrics import NotifierMetrics
from services.notifier.sender import Sender
from services.notifier.settings import NotifierSettings, secret
from services.router.config_source import ActiveConfig, config_table
from services.streaming.admin import partition_counts, require_co_partitioned
from services.streaming.loop import LoopSettings, Processor
from services.streaming.settings import KafkaSettings

log = logging.getLogger(__name__)

APP_ID = "leadrouter-notifier"


@dataclass(frozen=True)
class Notifier:
    processor: Processor
    handler: NotifierHandler
    sender: Sender


def channels_from(settings: NotifierSettings) -> dict[str, Channel]:
    smtp = SmtpServer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=secret(settings.smtp_password),
        sender=settings.smtp_from,
    )
    return {
        "email": SmtpChannel(smtp),
        "webhook": WebhookChannel(secret(settings.webhook_secret)),
        "slack": SlackChannel(secret(settings.slack_bot_token), settings.slack_api_url),
        "teams": TeamsChannel(),
        "sms": TwilioSmsChannel(
            settings.twilio_account_sid,
            secret(settings.twilio_auth_token),
            settings.twilio_from,
            settings.twilio_api_url,
        ),
    }


def build(
    kafka: KafkaSettings,
    settings: NotifierSettings,
    registry: CollectorRegistry,
    channels: Mapping[str, Channel] | None = None,
) -> Notifier:
    """Wire the notifier; refuses (FatalError) to start on topics that are not co-partitioned.
    `channels` replaces the adapters built from settings (tests)."""
    topics = NotifierTopics(
        assignments=kafka.topic(Topic.ASSIGNMENTS),
        escalations=kafka.topic(Topic.ESCALATIONS),
        dead_letter=kafka.topic(Topic.NOTIFIER_DEAD_LETTER),
    )
    store = DeliveryStore(kafka.topic(Topic.NOTIFIER_DELIVERIES))
    count = require_co_partitioned(kafka, [topics.assignments, topics.escalations, store.topic])
    topics = with_audit(kafka, topics, count)
    table = config_table(kafka)
    config = ActiveConfig(table)

    def current_config() -> RoutingConfig | None:
        active = config.get()
        return None if active is None else active.config

    metrics = NotifierMetrics.create(registry)
    sender = Sender(
        channels if channels is not None else channels_from(settings),
        settings.rate_limits,
        workers=settings.workers_per_channel,
        observe=metrics.attempt,
    )
    handler = NotifierHandler(
        topics=topics,
        store=store,
        sender=sender,
        config=current_config,
        metrics=metrics,
        policy=RetryPolicy(
            settings.max_attempts, settings.backoff_base_ms, settings.backoff_cap_ms
        ),
        retention_ms=settings.retention_ms,
    )
    processor = Processor(
        app_id=kafka.topic(APP_ID),
        inputs=[topics.assignments, topics.escalations, *([topics.audit] if topics.audit else [])],
        handle=handler.handle,
        stores=[store],
        tables=[table],
        tick=handler.tick,
        dead_letter_topic=kafka.topic(Topic.DEAD_LETTER),
    )
    return Notifier(processor, handler, sender)


def with_audit(kafka: KafkaSettings, topics: NotifierTopics, count: int) -> NotifierTopics:
    """`topics` reading `admin.audit` too when it exists with the same partition count (its
    deliveries live in the same store partitions); otherwise console actions go untold."""
    audit = kafka.topic(Topic.ADMIN_AUDIT)
    found = partition_counts(kafka).get(audit)
    if found != count:
        why = "it does not exist" if found is None else f"{found} partitions, not {count}"
        log.warning("console actions go untold: not reading %s: %s", audit, why)
        return topics
    return replace(topics, audit=audit)


def loop_settings(settings: NotifierSettings, instance: int) -> LoopSettings:
    return LoopSettings(
        instance=instance,
        commit_interval_ms=settings.commit_interval_ms,
        tick_interval_ms=settings.tick_interval_ms,
    )
