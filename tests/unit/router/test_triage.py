"""Triage decisions: duplicates, repeats, continuity, scoring and rules, as pure values."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.leads.routing_config import RoutingConfig
from services.router.identity_state import MAX_SEEN, MEMORY_MS, IdentityState, SeenLead
from services.router.ownership import OwnerFact, owner_facts
from services.router.triage_decision import Duplicate, Routed, TriagePath, triage
from tests.unit.router.config_builders import make_config, make_lead, make_pool, make_rep

T0 = 1_763_900_000_000
MINUTE = 60_000
DAY = 86_400_000


def config(**overrides: Any) -> RoutingConfig:
    return make_config(
        reps=[make_rep("ann"), make_rep("bob"), make_rep("cy")],
        pools=[make_pool("general", ("ann", "bob")), make_pool("de", ("bob", "cy"))],
        rules=[{"id": "germany", "when": {"country": "DE"}, "pool": "de"}],
        scoring={"rules": [{"id": "big", "when": {"deal_value": {"min": 1000}}, "points": 30}]},
        continuity={"person_window": "30d", "company_domain_window": "90d", "dedup_window": "1h"},
        **overrides,
    )


def owned(
    rep: str,
    pool: str,
    at_ms: int,
    *,
    lead_id: str = "old",
    identity: str = "jane@acme.example",
    domain: str | None = "acme.example",
) -> dict[str, OwnerFact]:
    facts = owner_facts(
        identity_key=identity,
        company_domain=domain,
        rep_id=rep,
        pool_id=pool,
        lead_id=lead_id,
        assigned_at_ms=at_ms,
    )
    return {f.subject: f for f in facts}


def routed(outcome: Duplicate | Routed) -> Routed:
    assert isinstance(outcome, Routed), outcome
    return outcome


def test_a_new_lead_is_scored_and_sent_to_the_first_matching_rules_pool() -> None:
    lead = make_lead("l1", country="DE", deal_value=5000.0, received_at_ms=T0)
    out = routed(triage(config(), None, {}, lead, requested_at_ms=T0 + 7))
    request = out.request
    assert (request.pool_id, request.rule_id, request.score) == ("de", "germany", 30)
    assert (request.request_id, request.kind.value, request.attempt) == ("l1:assign", "assign", 1)
    assert (request.received_at_ms, request.requested_at_ms) == (T0, T0 + 7)
    assert request.lead == lead and not request.is_repeat and request.preferred_owner is None
    assert out.path is TriagePath.NEW
    assert out.state.seen == (
        SeenLead(lead_id="l1", received_at_ms=T0, pool_id="de", rule_id="germany"),
    )


def test_an_exact_duplicate_emits_nothing_and_changes_nothing() -> None:
    lead = make_lead("l1", received_at_ms=T0)
    first = routed(triage(config(), None, {}, lead, T0))
    assert triage(config(), first.state, {}, lead, T0 + 5 * DAY) == Duplicate("l1")


def test_a_repeat_within_the_dedup_window_joins_the_earlier_lead_and_its_owner() -> None:
    first = routed(triage(config(), None, {}, make_lead("l1", country="DE", received_at_ms=T0), T0))
    owners = owned("cy", "de", T0 + 1000, lead_id="l1")
    later = make_lead("l2", country="FR", received_at_ms=T0 + 59 * MINUTE)  # FR: another rule
    out = routed(triage(config(), first.state, owners, later, T0 + 59 * MINUTE))
    assert (out.request.pool_id, out.request.rule_id) == ("de", "germany")
    assert out.request.is_repeat and out.request.preferred_owner == "cy"
    assert out.path is TriagePath.REPEAT
    assert "repeat of l1" in out.request.reason


def test_a_repeat_follows_its_owner_into_the_pool_that_took_the_earlier_lead() -> None:
    lead = make_lead("l1", country="DE", received_at_ms=T0)
    first = routed(triage(config(), None, {}, lead, T0))
    owners = owned("ann", "general", T0 + 1000, lead_id="l1")  # de had nobody: general took it
    later = make_lead("l2", country="DE", received_at_ms=T0 + MINUTE)
    out = routed(triage(config(), first.state, owners, later, T0 + MINUTE))
    assert (out.request.pool_id, out.request.preferred_owner) == ("general", "ann")
    assert out.request.is_repeat and out.request.repeat_of == "l1"


def test_a_repeat_whose_owner_is_not_known_yet_is_still_marked_and_kept_in_its_pool() -> None:
    first = routed(triage(config(), None, {}, make_lead("l1", country="DE", received_at_ms=T0), T0))
    out = routed(triage(config(), first.state, {}, make_lead("l2", received_at_ms=T0 + 1000), T0))
    assert out.request.is_repeat and out.request.pool_id == "de"
    assert out.request.preferred_owner is None
    assert out.request.repeat_of == "l1"  # assign finds l1's owner in the pool's open leads


def test_after_the_dedup_window_a_lead_is_not_a_repeat_but_keeps_the_persons_owner() -> None:
    first = routed(triage(config(), None, {}, make_lead("l1", received_at_ms=T0), T0))
    owners = owned("bob", "general", T0 + 1000, lead_id="l1")
    later = make_lead("l2", country="DE", received_at_ms=T0 + 2 * DAY)
    out = routed(triage(config(), first.state, owners, later, T0 + 2 * DAY))
    assert not out.request.is_repeat
    assert out.request.preferred_owner == "bob" and out.request.pool_id == "de"  # bob is in de
    assert out.path is TriagePath.PERSON


def test_continuity_routes_to_the_owners_pool_when_the_rule_pool_lacks_them() -> None:
    owners = owned("ann", "general", T0 - DAY)
    out = routed(
        triage(config(), None, owners, make_lead("l2", country="DE", received_at_ms=T0), T0)
    )
    assert (out.request.pool_id, out.request.preferred_owner) == ("general", "ann")
    assert out.request.rule_id == "germany"  # the rule still explains what it would have done


def test_the_account_owner_is_kept_for_a_new_person_from_the_same_domain() -> None:
    owners = owned("cy", "de", T0 - 10 * DAY, identity="joe@acme.example")
    lead = make_lead(
        "l9",
        identity_key="kim@acme.example",
        email="kim@acme.example",
        company_domain="ACME.example",
        received_at_ms=T0,
    )
    out = routed(triage(config(), None, owners, lead, T0))
    assert (out.request.preferred_owner, out.request.pool_id) == ("cy", "de")
    assert out.path is TriagePath.ACCOUNT


def test_the_person_owner_wins_over_the_account_owner() -> None:
    owners = owned("cy", "de", T0 - DAY, identity="joe@acme.example")
    owners |= owned("ann", "general", T0 - DAY, domain=None)
    out = routed(triage(config(), None, owners, make_lead("l3", received_at_ms=T0), T0))
    assert out.request.preferred_owner == "ann"


def test_owners_older_than_their_window_are_not_kept() -> None:
    owners = owned("ann", "general", T0 - 31 * DAY, domain=None)
    owners |= owned("cy", "de", T0 - 91 * DAY, identity="joe@acme.example")
    out = routed(triage(config(), None, owners, make_lead("l3", received_at_ms=T0), T0))
    assert out.request.preferred_owner is None and out.path is TriagePath.NEW


def test_a_zero_window_turns_that_continuity_off() -> None:
    off = make_config(
        reps=[make_rep("ann")],
        pools=[make_pool("general", ("ann",))],
        continuity={"person_window": 0, "company_domain_window": 0, "dedup_window": 0},
    )
    first = routed(triage(off, None, {}, make_lead("l1", received_at_ms=T0), T0))
    owners = owned("ann", "general", T0)
    out = routed(triage(off, first.state, owners, make_lead("l2", received_at_ms=T0 + 1), T0))
    assert out.path is TriagePath.NEW and out.request.preferred_owner is None


def test_an_owner_who_left_their_pool_is_not_preferred() -> None:
    owners = owned("cy", "general", T0 - DAY)  # cy is not (or no longer) in general
    out = routed(triage(config(), None, owners, make_lead("l3", received_at_ms=T0), T0))
    assert out.request.preferred_owner is None


def test_memory_forgets_old_leads_and_stays_bounded() -> None:
    state = IdentityState(identity_key="x")
    for n in range(MAX_SEEN + 5):
        state = state.remember(SeenLead(lead_id=f"l{n}", received_at_ms=T0 + n, pool_id="p"))
    assert len(state.seen) == MAX_SEEN and state.seen[-1].lead_id == f"l{MAX_SEEN + 4}"
    state = state.remember(
        SeenLead(lead_id="late", received_at_ms=T0 + MEMORY_MS + 1000, pool_id="p")
    )
    assert [s.lead_id for s in state.seen] == ["late"]


CONFIG = config()
LEAD_IDS = st.lists(st.sampled_from([f"l{n}" for n in range(6)]), min_size=1, max_size=20)


@settings(deadline=None)  # shared 2-core machine: no timing in tests
@given(arrivals=LEAD_IDS, gaps=st.lists(st.integers(0, 3 * 3_600_000), min_size=20, max_size=20))
def test_every_distinct_lead_gets_exactly_one_request_and_redeliveries_none(
    arrivals: list[str], gaps: list[int]
) -> None:
    cfg, state, requests = CONFIG, None, []
    now = T0
    for lead_id, gap in zip(arrivals, gaps, strict=False):
        now += gap
        outcome = triage(cfg, state, {}, make_lead(lead_id, received_at_ms=now), now)
        if isinstance(outcome, Routed):
            state = outcome.state
            requests.append(outcome.request.lead_id)
    assert sorted(requests) == sorted(set(arrivals))


@settings(deadline=None)  # shared 2-core machine: no timing in tests
@given(arrivals=LEAD_IDS)
def test_triage_is_deterministic(arrivals: list[str]) -> None:
    def run() -> list[Duplicate | Routed]:
        state, outcomes = None, []
        for n, lead_id in enumerate(arrivals):
            outcome = triage(CONFIG, state, {}, make_lead(lead_id, received_at_ms=T0 + n), T0)
            outcomes.append(outcome)
            state = outcome.state if isinstance(outcome, Routed) else state
        return outcomes

    assert run() == run()
