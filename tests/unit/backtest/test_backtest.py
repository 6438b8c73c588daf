"""The backtest runs the router's own code: it reproduces what the handlers decided, and a
candidate moves exactly the leads its change touches, each named with where the runs part."""

from __future__ import annotations

from typing import Any

from services.backtest.backtest import Inbound, Window, backtest
from services.backtest.pipeline import ConfigTimeline, Run
from services.backtest.report import report_data, summary
from services.backtest.report_html import render
from services.backtest.sla_projection import touch_times
from services.leads.events import (
    ActivityType,
    Assignment,
    LeadActivity,
    PresenceStatus,
    RepPresence,
)
from services.leads.routing_config import VersionedConfig, parse_routing_config
from services.router.presence import PresenceBook, PresenceView
from tests.unit.backtest.history_builders import History, comparable, record
from tests.unit.router.config_builders import make_doc, make_lead, make_pool, make_rep
from tests.unit.router.decision_digest import config_document
from tests.unit.sla_watcher.builders import make_assignment

T0 = 1_795_413_600_000


def _versioned(version: int, doc: dict[str, Any]) -> VersionedConfig:
    return VersionedConfig(version, f"hash-{version}", parse_routing_config(doc))


def _doc(
    dach: tuple[str, ...] = ("DE",), reps: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """One rep per pool, so only the rule decides where a lead goes (no turn can shift)."""
    reps = reps or [make_rep("ann"), make_rep("bob"), make_rep("cy")]
    pools = [make_pool("general", ("ann",)), make_pool("dach", ("bob",), fallback="spare"),
             make_pool("spare", ("cy",))]  # fmt: skip
    rules = [{"id": "dach", "when": {"country": list(dach)}, "pool": "dach"}]
    return make_doc(reps=reps, pools=pools, rules=rules)


def _leads(countries: str) -> list[Inbound]:
    """One lead per letter pair of `countries`, a minute apart, each from a new person."""
    pairs = [countries[i : i + 2] for i in range(0, len(countries), 2)]
    return [
        Inbound(
            make_lead(
                f"L{n}",
                identity_key=f"p{n}@x.example",
                country=c,
                company_domain=None,
                received_at_ms=T0 + n * 60_000,
            ),
            T0 + n * 60_000,
        )
        for n, c in enumerate(pairs)
    ]


def test_backtest_of_the_configs_in_force_reproduces_the_recorded_decisions() -> None:
    history = History.generate(1_500)
    recorded = record(history).decided
    run = Run(history.timeline())
    replayed: list[Assignment | None] = []
    changes = sorted(history.presence, key=lambda c: c[0])
    book, known = PresenceBook(), 0
    for item in history.leads:
        while known < len(changes) and changes[known][0] <= item.at_ms:
            book.record(changes[known][1])
            known += 1
        replayed.append(run.route(item.lead, item.at_ms, PresenceView(book.status_at)).assignment)
    assert sum(a is None for a in recorded) > 10  # duplicates were dropped, as live
    assert {a.trace.config_version for a in recorded if a} == {1, 2}
    assert any(len(a.trace.pools_tried) > 1 for a in recorded if a)  # fallbacks too
    assert [a and comparable(a) for a in replayed] == [a and comparable(a) for a in recorded]


def test_backtest_of_the_newest_config_as_candidate_moves_only_leads_before_the_change() -> None:
    history = History.generate(600)
    outcome = backtest(history.leads, history.timeline(), history.timeline().newest)
    moved_at = {m.lead_id for m in outcome.comparison.moved}
    first = {item.lead.lead_id: item.at_ms for item in reversed(history.leads)}
    assert moved_at
    # once version 2 was in force, the runs share config; any later move is state carried over
    assert min(first[lead] for lead in moved_at) < history.switch_at_ms


def test_candidate_rule_change_moves_exactly_the_leads_it_matches() -> None:
    leads = _leads("DEATUSATDEFRAT")
    timeline = ConfigTimeline({1: (0, _versioned(1, _doc()))})
    candidate = _versioned(0, _doc(dach=("DE", "AT")))
    outcome = backtest(leads, timeline, candidate)
    moved = outcome.comparison.moved
    assert [m.lead_id for m in moved] == ["L1", "L3", "L6"]
    assert {(m.step, m.detail) for m in moved} == {("rule", "rule (default) -> dach")}
    assert moved[0].before == ("general", "ann", "assigned")
    assert moved[0].after == ("dach", "bob", "assigned")


def test_rep_going_offline_in_the_candidate_sends_its_leads_to_the_fallback() -> None:
    leads = _leads("DEUSDEDE")
    timeline = ConfigTimeline({1: (0, _versioned(1, _doc()))})
    inactive = [make_rep("ann"), make_rep("bob", active=False), make_rep("cy")]
    outcome = backtest(leads, timeline, _versioned(0, _doc(reps=inactive)))
    c = outcome.comparison
    assert [m.lead_id for m in c.moved] == ["L0", "L2", "L3"]
    assert {m.step for m in c.moved} == {"fallback"}
    assert c.newly_fallback == ["L0", "L2", "L3"]
    assert c.candidate.assigned[("spare", "cy")] == 3


def test_presence_is_replayed_at_its_recorded_time_for_both_runs() -> None:
    leads = _leads("DEDEDE")
    away = RepPresence(rep_id="bob", status=PresenceStatus.AWAY, changed_at_ms=T0 + 90_000)
    timeline = ConfigTimeline({1: (0, _versioned(1, _doc()))})
    outcome = backtest(leads, timeline, _versioned(0, _doc()), presence=[(T0 + 90_000, away)])
    assert outcome.presence_changes == 1
    assert outcome.comparison.moved == []
    assert outcome.comparison.baseline.assigned[("dach", "bob")] == 2  # L0, L1; L2 fell back
    assert outcome.comparison.baseline.assigned[("spare", "cy")] == 1


def test_capacity_cap_hits_and_unassigned_leads_are_counted() -> None:
    leads = _leads("DEDEDEDE")
    timeline = ConfigTimeline({1: (0, _versioned(1, _doc()))})
    capped = [make_rep("ann"), make_rep("bob", max_open=1), make_rep("cy", max_open=1)]
    outcome = backtest(leads, timeline, _versioned(0, _doc(reps=capped)))
    c = outcome.comparison
    assert c.candidate.cap_hits[("bob", "max_open")] == 3
    assert c.newly_unassigned == ["L2", "L3"]
    assert c.candidate.unassigned == 2 and c.baseline.unassigned == 0


def test_window_keeps_only_leads_inside_it() -> None:
    leads = _leads("DEATUSATDE")
    timeline = ConfigTimeline({1: (0, _versioned(1, _doc()))})
    window = Window(since_ms=T0 + 60_000, until_ms=T0 + 4 * 60_000)
    outcome = backtest(leads, timeline, _versioned(0, _doc(dach=("AT",))), window=window)
    assert outcome.comparison.baseline.leads == 3
    assert [m.lead_id for m in outcome.comparison.moved] == ["L1", "L3"]


def test_report_names_the_moved_leads_in_every_output() -> None:
    timeline = ConfigTimeline({1: (0, _versioned(1, _doc()))})
    outcome = backtest(_leads("DEATUS"), timeline, _versioned(0, _doc(dach=("DE", "AT"))))
    data = report_data(outcome)
    assert [m["lead_id"] for m in data["moved"]] == ["L1"]
    assert data["baseline"]["largest_deviation"] == {"dach": 0.0, "general": 0.0}
    assert "empty" in data["start_state"]
    text = summary(data)
    assert "leads that would move:     1 (rule 1)\n" in text
    assert "L1: ann@general -> bob@dach" in text
    page = render(data)
    assert "<svg" in page and "L1" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "<script" not in page


def test_the_digest_config_is_the_one_both_runs_start_from() -> None:
    # the candidate is parsed from the same document the in-force version 2 was
    assert parse_routing_config(config_document(2)) == History().timeline().newest.config


def test_projected_sla_breaches_apply_each_reps_recorded_first_touch_times() -> None:
    doc = _doc()
    doc["sla_policies"] = [{"id": "fast", "first_touch": "10m"}]
    doc["managers"] = [{"id": "meg", "name": "Meg", "email": "meg@example.com"}]
    for pool in doc["pools"]:
        pool["sla_policy"], pool["manager"] = "fast", "meg"
    timeline = ConfigTimeline({1: (0, _versioned(1, doc))})
    outcome = backtest(_leads("DEATDEAT"), timeline, _versioned(0, {**doc, "rules": []}))
    recorded = [
        make_assignment(f"old{n}", rep, decided_at_ms=T0 - 86_400_000 + n)
        for n, rep in enumerate(["ann", "ann", "ann", "ann", "bob", "bob"])
    ]
    minutes = {"old0": 2, "old1": 5, "old2": 30, "old4": 1, "old5": 3}  # old3 never touched
    activity = [
        LeadActivity(activity_id=f"a{lead}", lead_id=lead, type=ActivityType.FIRST_TOUCH,
                     rep_id=next(a.rep_id for a in recorded if a.lead_id == lead),
                     occurred_at_ms=T0 - 86_400_000 + int(lead[3:]) + m * 60_000)
        for lead, m in minutes.items()
    ]  # fmt: skip
    touch = touch_times([*recorded, *activity], end_ms=T0)  # in record-time order
    data = report_data(outcome, touch)
    # in force: 2 leads to bob (never late), 2 to ann (half late); candidate: 4 to ann
    assert data["baseline"]["projected_sla_breaches"] == {
        "dach": 0.0, "general": 1.0, "no_history": 0, "no_policy": 0
    }  # fmt: skip
    assert data["candidate_run"]["projected_sla_breaches"]["general"] == 2.0
    assert "projected SLA breaches:    1 -> 2" in summary(data)


def test_a_lead_untouched_inside_its_deadline_is_not_projected_as_a_breach() -> None:
    minute = 60_000
    recorded = [
        make_assignment("waited-1h", "ann", decided_at_ms=T0 - 60 * minute),
        make_assignment("fresh", "ann", decided_at_ms=T0 - 2 * minute),
        make_assignment("touched", "ann", decided_at_ms=T0 - 90 * minute),
        make_assignment("new-rep", "bob", decided_at_ms=T0 - minute),
    ]
    touch = LeadActivity(activity_id="a", lead_id="touched", type=ActivityType.FIRST_TOUCH,
                         rep_id="ann", occurred_at_ms=T0 - 85 * minute)  # fmt: skip
    times = touch_times([*recorded, touch], end_ms=T0)
    # 10 min: "touched" (5 min) in time, "waited-1h" late, "fresh" may still be in time
    assert times.breach_share("ann", 10 * minute) == 0.5
    # 90 min: nothing is known late; "waited-1h" and "fresh" may still be touched in time
    assert times.breach_share("ann", 90 * minute) == 0.0
    # bob's one lead is a minute old: nothing known yet, so his leads count as no history
    assert times.breach_share("bob", 10 * minute) is None
    assert times.breach_share("bob", 30_000) == 1.0


def test_warm_up_starts_the_candidate_from_the_state_at_the_windows_start() -> None:
    doc = _doc()
    doc["pools"][0]["members"] = [{"rep": "ann"}, {"rep": "cy"}]  # round robin: state matters
    timeline = ConfigTimeline({1: (0, _versioned(1, doc))})
    leads = _leads("USUSUSUSUSUS")
    window = Window(since_ms=T0 + 3 * 60_000)
    empty = backtest(leads, timeline, _versioned(0, doc), window=window)
    warm = backtest(leads, timeline, _versioned(0, doc), window=window, warm_up=True)
    assert empty.comparison.moved == [] and warm.comparison.moved == []
    assert warm.warmed == 3 and empty.warmed == 0
    # the first lead of the window goes to whoever's turn the warm-up left it at
    assert warm.comparison.candidate.assigned == {("general", "cy"): 2, ("general", "ann"): 1}
    assert empty.comparison.candidate.assigned == {("general", "ann"): 2, ("general", "cy"): 1}
    assert "3 retained leads before it" in report_data(warm)["start_state"]


def test_a_closed_lead_frees_its_owners_capacity_in_both_runs() -> None:
    capped = [make_rep("ann"), make_rep("bob", max_open=1), make_rep("cy")]
    timeline = ConfigTimeline({1: (0, _versioned(1, _doc(reps=capped)))})
    leads = _leads("DEDEDE")
    closes = [(T0 + 90_000, "L0")]  # L0 closed between L1 and L2
    outcome = backtest(leads, timeline, _versioned(0, _doc(reps=capped)), closes=closes)
    base = outcome.comparison.baseline
    assert base.assigned == {("dach", "bob"): 2, ("spare", "cy"): 1}  # L1 fell back, L2 did not
    assert base.cap_hits[("bob", "max_open")] == 1


def test_backtest_follows_the_identity_graph_as_the_router_did() -> None:
    history = History.generate(1_200, phones=True)
    recording = record(history)
    run = Run(history.timeline())
    changes = sorted(history.presence, key=lambda c: c[0])
    book, known, replayed = PresenceBook(), 0, []
    for item in history.leads:
        while known < len(changes) and changes[known][0] <= item.at_ms:
            book.record(changes[known][1])
            known += 1
        replayed.append(run.route(item.lead, item.at_ms, PresenceView(book.status_at)).assignment)
    assert [a and comparable(a) for a in replayed] == [
        a and comparable(a) for a in recording.decided
    ]
    reasons = [r.value or b"" for r in recording.requests]
    assert any(b"linked by lead" in r for r in reasons)  # persons joined across identifiers
    assert any(b"is shared by" in r for r in reasons)  # the switchboard guarded
    assert len(run.links) > 100
