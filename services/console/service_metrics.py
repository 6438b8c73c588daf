"""Scraping the services' Prometheus endpoints for the live view.

`scrape(url)` is the only I/O here; `summarize` turns the parsed samples into the few numbers
`leadrouter top` shows. The metric names it reads are listed once, below, next to the service
that exports them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

CONSUMER_LAG = "leadrouter_consumer_lag"
"""Every transactional loop (services/streaming/metrics.py): records behind, per partition."""
SLA_OPEN_TIMERS = "leadrouter_sla_open_timers"
"""SLA watcher: timers waiting for a first touch."""
SLA_ESCALATIONS = "leadrouter_sla_escalations_total"
"""SLA watcher: escalation events by level (owner, pool, fallback, manager)."""
SLA_BREACHES = "leadrouter_sla_breaches_total"
"""SLA watcher: steps fired by a passed deadline, by pool and step (notify is not a breach)."""
NOTIFICATIONS_SENT = "leadrouter_notifications_sent_total"
"""Notifier: notifications the provider confirmed, by channel and event type."""
NOTIFICATIONS_PENDING = "leadrouter_notifications_pending"
"""Notifier: notifications not yet confirmed or dead-lettered."""


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: float

    def label(self, name: str) -> str | None:
        return dict(self.labels).get(name)


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """One service as the view shows it; `error` says why it could not be scraped."""

    name: str
    url: str
    up: bool
    lag: float | None
    samples: tuple[Sample, ...]
    error: str | None = None

    def total(self, metric: str, **labels: str) -> float | None:
        """Sum of the samples named `metric` whose labels include `labels`; None if none."""
        matched = [
            s.value
            for s in self.samples
            if s.name == metric and all(s.label(k) == v for k, v in labels.items())
        ]
        return sum(matched) if matched else None

    def by_label(
        self, metric: str, label: str, exclude: tuple[str, str] | None = None
    ) -> dict[str, float]:
        """Sums of `metric` per value of `label`, leaving out samples matching `exclude`."""
        sums: dict[str, float] = {}
        for sample in self.samples:
            key = sample.label(label)
            if exclude is not None and sample.label(exclude[0]) == exclude[1]:
                continue
            if sample.name == metric and key is not None:
                sums[key] = sums.get(key, 0.0) + sample.value
        return sums


def parse(text: str) -> tuple[Sample, ...]:
    return tuple(
        Sample(sample.name, tuple(sorted(sample.labels.items())), sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    )


def summarize(name: str, url: str, samples: Iterable[Sample]) -> ServiceStatus:
    kept = tuple(samples)
    lags = [s.value for s in kept if s.name == CONSUMER_LAG]
    return ServiceStatus(name, url, True, sum(lags) if lags else None, kept)


def scrape(name: str, url: str, client: httpx.Client) -> ServiceStatus:
    try:
        response = client.get(url)
        response.raise_for_status()
        return summarize(name, url, parse(response.text))
    except (httpx.HTTPError, ValueError) as exc:
        return ServiceStatus(name, url, False, None, (), error=type(exc).__name__)
