"""Triage's Prometheus metrics, declared once. Labels are bounded: paths and reasons are closed
sets, rule ids come from the config (a few dozen at most), never lead ids or identities."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

SCORE_BUCKETS = (0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 150, 200)


@dataclass(frozen=True)
class TriageMetrics:
    leads: Counter
    rule_matches: Counter
    scores: Histogram
    config_version: Gauge
    identity_guarded: Counter

    def guarded_counter(self) -> Callable[[str], None]:
        """Counts one guarded link of an identifier kind (a closed set: crm, email, phone, chat)."""
        children = {k: self.identity_guarded.labels(k) for k in ("crm", "email", "phone", "chat")}
        return lambda kind: children[kind].inc()

    @classmethod
    def create(cls, registry: CollectorRegistry) -> TriageMetrics:
        return cls(
            # Leads triaged, by path: new, repeat, person_owner, account_owner, or duplicate
            # (an exact redelivery, for which nothing was emitted).
            leads=Counter(
                "leadrouter_triage_leads", "Leads triaged, by path.", ["path"], registry=registry
            ),
            # Routing rules matched, by rule id; `default` when no rule matched.
            rule_matches=Counter(
                "leadrouter_triage_rule_matches",
                "Leads by the routing rule that picked their pool.",
                ["rule"],
                registry=registry,
            ),
            # Lead scores as triage computed them.
            scores=Histogram(
                "leadrouter_triage_lead_score",
                "Lead score at triage.",
                buckets=SCORE_BUCKETS,
                registry=registry,
            ),
            # The routing config version triage used for its latest lead.
            config_version=Gauge(
                "leadrouter_triage_config_version",
                "Routing config version in force at triage.",
                registry=registry,
            ),
            # Identifiers the identity graph's fan-out guard kept from joining a lead to a
            # person (a role address, or one linked to more identifiers than the fan-out), by
            # the guarded identifier's kind.
            identity_guarded=Counter(
                "leadrouter_triage_identity_guarded",
                "Links the identity fan-out guard stopped, by identifier kind.",
                ["kind"],
                registry=registry,
            ),
        )
