"""Routing rules: conditions, first match in document order, the default pool."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.leads.events import Channel
from services.leads.routing_config import Conditions
from services.router.rules import failed_condition, first_matching_rule, matches, route
from tests.unit.router.config_builders import make_config, make_lead, make_pool, make_rep

NO_TERRITORIES: dict[str, tuple[str, ...]] = {}


def when(**conditions: Any) -> Conditions:
    return Conditions.model_validate(conditions)


def test_no_conditions_match_every_lead() -> None:
    assert matches(Conditions(), make_lead(), 0, NO_TERRITORIES)


def test_every_condition_must_hold_and_any_listed_value_may() -> None:
    rule = when(country=["DE", "AT"], channel=["form", "email"])
    assert matches(rule, make_lead(country="AT", channel=Channel.EMAIL), 0, NO_TERRITORIES)
    assert (
        failed_condition(rule, make_lead(country="AT", channel=Channel.SMS), 0, NO_TERRITORIES)
        == "channel"
    )
    assert failed_condition(rule, make_lead(country="FR"), 0, NO_TERRITORIES) == "country"


def test_a_condition_on_a_missing_field_fails() -> None:
    assert (
        failed_condition(when(product=["atlas"]), make_lead(product=None), 0, NO_TERRITORIES)
        == "product"
    )
    assert not matches(when(deal_value={"min": 0}), make_lead(deal_value=None), 0, NO_TERRITORIES)


def test_text_compares_case_insensitively() -> None:
    assert matches(
        when(country="de", language="DE", product="Atlas"),
        make_lead(country="De", language="de", product="atlas"),
        0,
        NO_TERRITORIES,
    )


def test_wildcards_apply_to_source_domain_and_campaign() -> None:
    rule = when(source="form:demo-*", company_domain="*.acme.example", campaign="paid-??")
    lead = make_lead(source="form:DEMO-eu", company_domain="eu.acme.example", campaign="paid-q4")
    assert matches(rule, lead, 0, NO_TERRITORIES)
    assert not matches(rule, make_lead(source="form:contact"), 0, NO_TERRITORIES)


def test_territory_means_the_country_is_in_the_named_group() -> None:
    territories = {"dach": ("DE", "AT", "CH")}
    assert matches(when(territory="dach"), make_lead(country="ch"), 0, territories)
    assert not matches(when(territory="dach"), make_lead(country="FR"), 0, territories)


def test_ranges_include_both_bounds() -> None:
    rule = when(score={"min": 50, "max": 80}, deal_value={"min": 1000})
    assert matches(rule, make_lead(deal_value=1000.0), 50, NO_TERRITORIES)
    assert matches(rule, make_lead(deal_value=1000.0), 80, NO_TERRITORIES)
    assert failed_condition(rule, make_lead(deal_value=1000.0), 81, NO_TERRITORIES) == "score"
    assert failed_condition(rule, make_lead(deal_value=999.0), 60, NO_TERRITORIES) == "deal_value"


def test_attributes_match_by_name() -> None:
    rule = when(attributes={"plan": ["team", "business"]})
    assert matches(rule, make_lead(attributes={"plan": "Team"}), 0, NO_TERRITORIES)
    assert failed_condition(rule, make_lead(), 0, NO_TERRITORIES) == "attributes.plan"


def two_pool_config(**overrides: Any) -> Any:
    return make_config(
        reps=[make_rep("ann", skills=["enterprise"]), make_rep("bob")],
        pools=[
            make_pool("general", ("ann", "bob")),
            make_pool("big", ("ann",), required_skills=["enterprise"]),
        ],
        **overrides,
    )


def test_the_first_matching_rule_wins_even_when_a_later_one_is_more_specific() -> None:
    config = two_pool_config(
        rules=[
            {"id": "germany", "when": {"country": ["DE"]}, "pool": "general"},
            {"id": "big-germany", "when": {"country": ["DE"], "score": {"min": 50}}, "pool": "big"},
        ]
    )
    assert route(config, make_lead(country="DE"), 90).rule_id == "germany"


def test_no_match_goes_to_the_default_pool_with_its_skills() -> None:
    config = two_pool_config(
        default_pool="big", rules=[{"id": "de", "when": {"country": "DE"}, "pool": "general"}]
    )
    match = route(config, make_lead(country="FR"), 0)
    assert (match.pool_id, match.rule_id, match.required_skills) == ("big", None, ("enterprise",))


def test_rule_skills_add_to_the_pool_skills() -> None:
    config = two_pool_config(
        rules=[
            {
                "id": "sec",
                "when": {"product": "vault"},
                "pool": "big",
                "required_skills": ["Security"],
            },
        ]
    )
    assert route(config, make_lead(product="vault"), 0).required_skills == (
        "enterprise",
        "security",
    )


COUNTRIES = st.sampled_from(["DE", "AT", "FR", "US", None])
PRODUCTS = st.sampled_from(["atlas", "vault", None])
RULE = st.fixed_dictionaries(
    {
        "country": st.one_of(
            st.none(), st.lists(st.sampled_from(["DE", "AT", "FR", "US"]), min_size=1, max_size=3)
        ),
        "product": st.one_of(st.none(), st.lists(st.sampled_from(["atlas", "vault"]), min_size=1)),
        "score": st.one_of(st.none(), st.fixed_dictionaries({"min": st.integers(0, 100)})),
    }
)


@settings(deadline=None)  # shared 2-core machine: no timing in tests
@given(
    rules=st.lists(RULE, max_size=6), country=COUNTRIES, product=PRODUCTS, score=st.integers(0, 100)
)
def test_route_is_the_first_rule_in_order_that_matches(
    rules: list[dict[str, Any]], country: str | None, product: str | None, score: int
) -> None:
    documents = [
        {
            "id": f"r{i}",
            "when": {k: v for k, v in r.items() if v is not None},
            "pool": "big" if i % 2 else "general",
        }
        for i, r in enumerate(rules)
    ]
    config = two_pool_config(rules=documents)
    lead = make_lead(country=country, product=product)
    chosen = first_matching_rule(config, lead, score)
    verdicts = [matches(r.when, lead, score, {}) for r in config.rules]
    if chosen is None:
        assert not any(verdicts)
        assert route(config, lead, score).pool_id == "general"
    else:
        index = [r.id for r in config.rules].index(chosen.id)
        assert verdicts[index] and not any(verdicts[:index])
        assert route(config, lead, score) == route(config, lead, score)  # deterministic
