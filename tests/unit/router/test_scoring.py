"""Lead scoring: base plus the points of every scoring rule the lead meets."""

from __future__ import annotations

from random import Random

from hypothesis import given, settings
from hypothesis import strategies as st

from services.leads.routing_config import Scoring
from services.router.scoring import score_lead
from tests.unit.router.config_builders import make_lead


def scoring(*rules: tuple[str, dict[str, object], int], base: int = 0) -> Scoring:
    return Scoring.model_validate(
        {
            "base": base,
            "rules": [{"id": i, "when": w, "points": p} for i, w, p in rules],
        }
    )


def test_score_is_base_plus_every_matching_rule_with_the_reasons() -> None:
    card = score_lead(
        scoring(
            ("enterprise", {"product": "atlas-enterprise"}, 40),
            ("big-deal", {"deal_value": {"min": 50_000}}, 30),
            ("german", {"country": "DE"}, 5),
            base=10,
        ),
        make_lead(product="atlas-enterprise", deal_value=75_000.0, country="FR"),
        {},
    )
    assert (card.total, card.hits) == (80, ("enterprise", "big-deal"))


def test_negative_points_lower_the_score() -> None:
    card = score_lead(
        scoring(("student", {"attributes": {"role": "student"}}, -20), base=10),
        make_lead(attributes={"role": "student"}),
        {},
    )
    assert card.total == -10


def test_no_rules_score_the_base() -> None:
    assert score_lead(scoring(base=7), make_lead(), {}).total == 7


POINTS = st.lists(st.tuples(st.sampled_from(["DE", "FR", "US"]), st.integers(-50, 50)), max_size=8)


@settings(deadline=None)  # shared 2-core machine: no timing in tests
@given(points=POINTS, country=st.sampled_from(["DE", "FR", "US"]), seed=st.randoms())
def test_score_does_not_depend_on_rule_order(
    points: list[tuple[str, int]], country: str, seed: Random
) -> None:
    rules = [(f"r{i}", {"country": c}, p) for i, (c, p) in enumerate(points)]
    shuffled = list(rules)
    seed.shuffle(shuffled)
    lead = make_lead(country=country)
    expected = sum(p for c, p in points if c == country)
    assert score_lead(scoring(*rules), lead, {}).total == expected
    assert score_lead(scoring(*shuffled), lead, {}).total == expected
