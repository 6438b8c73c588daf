"""A lead's score: the config's `base` plus the points of every scoring rule the lead meets.

Pure and order-independent (a sum), so the same lead and config always score the same. The score
feeds rule conditions (`score: {min: 50}`) and travels in the request and the decision trace.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.leads.events import Lead
from services.leads.routing_config import Scoring
from services.router.rules import matches


@dataclass(frozen=True, slots=True)
class ScoreCard:
    total: int
    hits: tuple[str, ...]
    """Ids of the scoring rules that added points, in config order: the score's explanation."""


def score_lead(scoring: Scoring, lead: Lead, territories: dict[str, tuple[str, ...]]) -> ScoreCard:
    hits = tuple(
        rule for rule in scoring.rules if matches(rule.when, lead, score=0, territories=territories)
    )
    return ScoreCard(scoring.base + sum(r.points for r in hits), tuple(r.id for r in hits))
