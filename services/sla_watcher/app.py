"""The SLA watcher as a processor on the exactly-once loop: topics, state, config, handler.

Inputs `leads.assignments` and `leads.activity` (both keyed by lead id, co-partitioned with the
`sla.timers` state topic); outputs `leads.escalations`, `routing.requests` and dead letters.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from services.leads.routing_config import RoutingConfig
from services.leads.topics import Topic
from services.router.config_source import ActiveConfig, config_table
from services.sla_watcher.handler import SlaHandler, WatcherTiming, WatcherTopics
from services.sla_watcher.metrics import SlaMetrics
from services.sla_watcher.settings import SlaSettings
from services.sla_watcher.timer_store import TimerStore
from services.streaming.admin import require_co_partitioned
from services.streaming.loop import LoopSettings, Processor
from services.streaming.settings import KafkaSettings

APP_ID = "leadrouter-sla-watcher"


@dataclass(frozen=True)
class SlaWatcher:
    processor: Processor
    handler: SlaHandler
    config: ActiveConfig


def build(kafka: KafkaSettings, settings: SlaSettings, registry: CollectorRegistry) -> SlaWatcher:
    """Wire the watcher; refuses (FatalError) to start on topics that are not co-partitioned."""
    topics = WatcherTopics(
        assignments=kafka.topic(Topic.ASSIGNMENTS),
        activity=kafka.topic(Topic.ACTIVITY),
        escalations=kafka.topic(Topic.ESCALATIONS),
        requests=kafka.topic(Topic.ROUTING_REQUESTS),
        dead_letter=kafka.topic(Topic.DEAD_LETTER),
    )
    store = TimerStore(kafka.topic(Topic.SLA_TIMERS))
    require_co_partitioned(kafka, [topics.assignments, topics.activity, store.topic])
    table = config_table(kafka)
    config = ActiveConfig(table)  # the router's reader: every service follows config one way

    def current_config() -> RoutingConfig | None:
        active = config.get()
        return None if active is None else active.config

    handler = SlaHandler(
        topics=topics,
        store=store,
        config=current_config,
        metrics=SlaMetrics.create(registry),
        timing=WatcherTiming(
            grace_ms=settings.grace_ms,
            retention_ms=settings.retention_ms,
            max_catch_up_ms=settings.max_catch_up_ms,
            early_activity_wait_ms=settings.early_activity_wait_ms,
        ),
    )
    processor = Processor(
        app_id=kafka.topic(APP_ID),
        inputs=[topics.assignments, topics.activity],
        handle=handler.handle,
        stores=[store],
        tables=[table],
        tick=handler.tick,
        dead_letter_topic=topics.dead_letter,
        bind_dead_letters=handler.bind_dead_letters,
    )
    return SlaWatcher(processor, handler, config)


def loop_settings(settings: SlaSettings, instance: int) -> LoopSettings:
    return LoopSettings(
        instance=instance,
        commit_interval_ms=settings.commit_interval_ms,
        tick_interval_ms=settings.tick_interval_ms,
    )
