from __future__ import annotations

from services.leads.events import PresenceStatus
from tests.unit.router.assign_builders import Router, make_request, presence
from tests.unit.router.config_builders import make_config, make_pool, make_rep


def test_decisions_are_counted_by_pool_rep_outcome_and_skips_by_reason() -> None:
    config = make_config(
        reps=[make_rep("ann"), make_rep("bob")], pools=[make_pool("general", ("ann", "bob"))]
    )
    router = Router(config)
    router.book.record(presence("bob", PresenceStatus.AWAY))
    router.decide(make_request("l1"))
    sample = router.registry.get_sample_value
    assigned = {"pool": "general", "rep": "ann", "outcome": "assigned"}
    assert sample("leadrouter_assignments_total", assigned) == 1
    assert sample("leadrouter_eligibility_skips_total", {"pool": "general", "reason": "away"}) == 1
    assert sample("leadrouter_speed_to_lead_seconds_count", {"pool": "general"}) == 1
    assert sample("leadrouter_routing_config_version") == 1
