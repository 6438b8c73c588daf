"""Which pool a lead goes to: the first routing rule whose conditions it meets.

Pure and deterministic: the same lead, score and config always pick the same rule, because rules
are tried in document order and matching reads nothing but its arguments. Condition semantics
(AND across conditions, OR within one, a missing lead field fails, case-insensitive text,
wildcards in source/company_domain/campaign) are described in `services/leads/rule_conditions.py`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from services.leads.events import Lead
from services.leads.routing_config import Conditions, RoutingConfig, Rule


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """The pool a lead goes to and why: `rule_id` is None when the default pool caught it."""

    pool_id: str
    rule_id: str | None
    required_skills: tuple[str, ...]


def _fold(value: str | None) -> str | None:
    return None if value is None else value.strip().casefold()


def _equal_any(value: str | None, allowed: tuple[str, ...]) -> bool:
    folded = _fold(value)
    return folded is not None and any(folded == _fold(a) for a in allowed)


def _glob_any(value: str | None, patterns: tuple[str, ...]) -> bool:
    folded = _fold(value)
    return folded is not None and any(fnmatchcase(folded, p.strip().casefold()) for p in patterns)


def failed_condition(
    when: Conditions, lead: Lead, score: int, territories: Mapping[str, tuple[str, ...]]
) -> str | None:
    """The name of the first condition `lead` fails, in declaration order; None if it meets all.

    `score` is the lead's triage score (scoring rules never set a `score` condition).
    """
    checks = _checks(when, lead, score, territories)
    return next((name for name, holds in checks if not holds), None)


def _checks(
    when: Conditions, lead: Lead, score: int, territories: Mapping[str, tuple[str, ...]]
) -> Iterator[tuple[str, bool]]:
    """Each set condition and whether it holds, computed lazily so the first failure stops it."""
    country = (lead.country or "").strip().upper()
    if when.channel is not None:
        yield "channel", lead.channel in when.channel
    if when.source is not None:
        yield "source", _glob_any(lead.source, when.source)
    if when.country is not None:
        yield "country", country in when.country
    if when.territory is not None:
        yield "territory", any(country in territories.get(t, ()) for t in when.territory)
    if when.region is not None:
        yield "region", _equal_any(lead.region, when.region)
    if when.product is not None:
        yield "product", _equal_any(lead.product, when.product)
    if when.language is not None:
        yield "language", _equal_any(lead.language, when.language)
    if when.company_domain is not None:
        yield "company_domain", _glob_any(lead.company_domain, when.company_domain)
    if when.campaign is not None:
        yield "campaign", _glob_any(lead.campaign, when.campaign)
    if when.score is not None:
        yield "score", when.score.contains(score)
    if when.deal_value is not None:
        value = lead.deal_value
        yield "deal_value", value is not None and when.deal_value.contains(value)
    for name, allowed in when.attributes.items():
        yield f"attributes.{name}", _equal_any(lead.attributes.get(name), allowed)


def matches(
    when: Conditions, lead: Lead, score: int, territories: Mapping[str, tuple[str, ...]]
) -> bool:
    return failed_condition(when, lead, score, territories) is None


def first_matching_rule(config: RoutingConfig, lead: Lead, score: int) -> Rule | None:
    return next((r for r in config.rules if matches(r.when, lead, score, config.territories)), None)


def route(config: RoutingConfig, lead: Lead, score: int) -> RuleMatch:
    """The first matching rule's pool, else the default pool; skills from pool and rule."""
    rule = first_matching_rule(config, lead, score)
    pool_id = config.default_pool if rule is None else rule.pool
    skills = set(config.pool(pool_id).required_skills)
    if rule is not None:
        skills |= set(rule.required_skills)
    return RuleMatch(pool_id, None if rule is None else rule.id, tuple(sorted(skills)))
