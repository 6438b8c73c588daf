from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from services.console.service_metrics import (
    CONSUMER_LAG,
    SLA_BREACHES,
    parse,
    summarize,
)


def exposition() -> str:
    registry = CollectorRegistry()
    lag = Gauge("leadrouter_consumer_lag", "lag", ["app", "topic", "partition"], registry=registry)
    lag.labels("sla", "leads.assignments", "0").set(3)
    lag.labels("sla", "leads.activity", "1").set(4)
    breaches = Counter("leadrouter_sla_breaches", "b", ["pool", "step"], registry=registry)
    breaches.labels("emea", "notify").inc(5)
    breaches.labels("emea", "reassign").inc(2)
    breaches.labels("us", "escalate").inc(1)
    return generate_latest(registry).decode()


def test_lag_is_summed_over_partitions() -> None:
    status = summarize("sla_watcher", "http://x/metrics", parse(exposition()))
    assert status.lag == 7.0
    assert status.total(CONSUMER_LAG, topic="leads.activity") == 4.0


def test_breaches_per_pool_leave_out_reminders() -> None:
    status = summarize("sla_watcher", "http://x/metrics", parse(exposition()))
    assert status.by_label(SLA_BREACHES, "pool", exclude=("step", "notify")) == {
        "emea": 2.0,
        "us": 1.0,
    }


def test_a_metric_nobody_exports_is_none_not_zero() -> None:
    status = summarize("router", "http://x/metrics", parse(""))
    assert status.lag is None
    assert status.total("leadrouter_sla_open_timers") is None
