"""The router's metrics, declared once. Labels are bounded: pools and reps come from the config,
reasons and outcomes from closed sets; never a lead id. The loop's own metrics (state restore
time, transaction commit latency, consumer lag) come from `services.streaming.metrics` in the
same registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

from services.streaming.metrics import FAST_BUCKETS, SLOW_BUCKETS

W = TypeVar("W", bound=MetricWrapperBase)


@dataclass(frozen=True)
class Children:
    """`metric.labels(*values)`, looked up once per label set: prometheus-client resolves
    labels on every call (validation, a lock), which showed per record in profiles. Labels are
    bounded (see above), so this stays as small as the metrics themselves."""

    _known: dict[tuple[int, tuple[str, ...]], MetricWrapperBase] = field(default_factory=dict)

    def __call__(self, metric: W, *values: str) -> W:
        key = (id(metric), values)
        child = self._known.get(key)
        if child is None:
            child = self._known[key] = metric.labels(*values)
        return child  # type: ignore[return-value]  # stored by the metric that made it


@dataclass(frozen=True)
class RouterMetrics:
    assignments: Counter
    speed_to_lead: Histogram
    decision_seconds: Histogram
    skips: Counter
    unassigned: Counter
    fallbacks: Counter
    fairness_deviation: Gauge
    config_version: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> RouterMetrics:
        return cls(
            # Decisions emitted on leads.assignments, by deciding pool, rep ("" when none) and
            # outcome (assigned, unassigned, released).
            assignments=Counter(
                "leadrouter_assignments",
                "Decisions emitted.",
                ["pool", "rep", "outcome"],
                registry=registry,
            ),
            # Lead received (ingest) to assigned (the decision's record time), first attempts.
            speed_to_lead=Histogram(
                "leadrouter_speed_to_lead_seconds",
                "Lead received to assigned.",
                ["pool"],
                buckets=SLOW_BUCKETS,
                registry=registry,
            ),
            # Time the assign handler spends deciding one request (decode to outputs).
            decision_seconds=Histogram(
                "leadrouter_decision_seconds",
                "Decision latency.",
                buckets=FAST_BUCKETS,
                registry=registry,
            ),
            # Pool members skipped by eligibility, by pool and reason (eligibility.SkipReason).
            skips=Counter(
                "leadrouter_eligibility_skips",
                "Members skipped by eligibility.",
                ["pool", "reason"],
                registry=registry,
            ),
            # Leads nobody could take after the whole fallback chain, by requested pool.
            unassigned=Counter(
                "leadrouter_unassigned",
                "Leads left unassigned.",
                ["pool"],
                registry=registry,
            ),
            # Requests passed on to a fallback pool, by the pool that found nobody eligible.
            fallbacks=Counter(
                "leadrouter_fallbacks",
                "Requests sent on to a fallback pool.",
                ["pool"],
                registry=registry,
            ),
            # Max |actual - ideal| share of the pool's members, in leads, after its latest pick.
            fairness_deviation=Gauge(
                "leadrouter_fairness_deviation_leads",
                "Max distance of a member from its fair share, in leads.",
                ["pool"],
                registry=registry,
            ),
            # The routing config version decisions currently use.
            config_version=Gauge(
                "leadrouter_routing_config_version",
                "Routing config version in use.",
                registry=registry,
            ),
        )
