"""The backtest report as data (JSON) and as a terminal summary.

`report_data` is the one shape every output is made from: the JSON file is it, the HTML page
and the summary read it. Counts per pool and rep, expected and actual shares, the largest
fairness deviation per pool, every lead that moved with where the runs parted, newly
unassigned and fallback leads, and capacity-cap hits.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from services.backtest.backtest import Outcome
from services.backtest.compare import Tally, largest_deviation, shares
from services.backtest.sla_projection import TouchTimes, projected_breaches
from services.leads.routing_config import RoutingConfig

START_STATE = "empty: both runs start with no identity memory, owners or rotation state"
WARMED = (
    "the state at the window's start: the configs in force ran over the {} retained leads "
    "before it, and the candidate starts from that state"
)
LIMITS = (
    "owner facts reach triage at once (the live router learns them a commit later)",
    "closed leads (leads.activity) free their owner's capacity; SLA reassignments are not replayed",
    "presence is as recorded in reps.presence at each lead's time, for both runs",
)


def _when(ms: int | None) -> str | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()


def _run(tally: Tally, config: RoutingConfig, touch: TouchTimes | None) -> dict[str, Any]:
    rows = shares(tally, config)
    caps: Counter[str] = Counter()
    for (rep, reason), n in tally.cap_hits.items():
        caps[f"{rep} {reason}"] += n
    return {
        "leads": tally.leads,
        "duplicates": tally.duplicates,
        "unassigned": tally.unassigned,
        "fell_back": tally.fell_back,
        "pools": dict(sorted(tally.pools().items())),
        "reps": [
            {
                "pool": r.pool,
                "rep": r.rep,
                "leads": r.leads,
                "expected_share": round(r.expected, 4),
                "actual_share": round(r.actual, 4),
            }
            for r in rows
        ],
        "largest_deviation": {p: round(d, 4) for p, d in largest_deviation(rows).items()},
        "cap_hits": dict(sorted(caps.items())),
        "assigned_outside_config": sorted(
            f"{pool}/{rep}" for pool, rep in tally.assigned if (pool, rep) not in _members(config)
        ),
        "projected_sla_breaches": (
            None if touch is None else projected_breaches(tally, config, touch)
        ),
    }


def _members(config: RoutingConfig) -> set[tuple[str, str]]:
    return {(p.id, m.rep) for p in config.pools for m in p.members}


def report_data(outcome: Outcome, touch: TouchTimes | None = None) -> dict[str, Any]:
    """`touch`: recorded times to first touch, for projected SLA breaches (None: not projected)."""
    c = outcome.comparison
    return {
        "window": {"first_lead": _when(outcome.first_ms), "last_lead": _when(outcome.last_ms)},
        "start_state": START_STATE if not outcome.warmed else WARMED.format(outcome.warmed),
        "limits": list(LIMITS),
        "baseline_versions": outcome.baseline_versions,
        "leads_before_first_config": outcome.before_first_config,
        "presence_changes_replayed": outcome.presence_changes,
        "candidate": {"content_hash": outcome.candidate.content_hash},
        "baseline": _run(c.baseline, outcome.newest_in_force.config, touch),
        "candidate_run": _run(c.candidate, outcome.candidate.config, touch),
        "moved": [
            {
                "lead_id": m.lead_id,
                "before": _placed(m.before),
                "after": _placed(m.after),
                "step": m.step,
                "detail": m.detail,
            }
            for m in c.moved
        ],
        "moved_by_step": dict(sorted(Counter(m.step for m in c.moved).items())),
        "newly_unassigned": c.newly_unassigned,
        "newly_fallback": c.newly_fallback,
    }


def _placed(placed: tuple[str, str | None, str]) -> dict[str, str | None]:
    pool, rep, outcome = placed
    return {"pool": pool, "rep": rep, "outcome": outcome}


def summary(data: dict[str, Any], show: int = 10) -> str:
    """The terminal summary: a few lines a person reads before publishing."""
    base, cand = data["baseline"], data["candidate_run"]
    window = data["window"]
    lines = [
        f"backtest of {base['leads']} leads, {window['first_lead']} .. {window['last_lead']}",
        f"  in force: config versions {data['baseline_versions']}",
        f"  start state: {data['start_state']}",
        f"  presence changes replayed: {data['presence_changes_replayed']}",
        f"  leads that would move:     {len(data['moved'])}{_by_step(data['moved_by_step'])}",
        f"  unassigned:                {base['unassigned']} -> {cand['unassigned']}"
        f" ({len(data['newly_unassigned'])} newly)",
        f"  through a fallback pool:   {base['fell_back']} -> {cand['fell_back']}"
        f" ({len(data['newly_fallback'])} newly)",
        f"  capacity-cap skips:        {sum(base['cap_hits'].values())} -> "
        f"{sum(cand['cap_hits'].values())}",
        *_breaches(base, cand),
        "  pool                 leads before -> after   largest share deviation before -> after",
    ]
    for pool in sorted(set(base["pools"]) | set(cand["pools"])):
        before = base["largest_deviation"].get(pool)
        after = cand["largest_deviation"].get(pool)
        lines.append(
            f"  {pool:<20} {base['pools'].get(pool, 0):>6} -> {cand['pools'].get(pool, 0):<6}"
            f"   {_pct(before)} -> {_pct(after)}"
        )
    for moved in data["moved"][:show]:
        lines.append(
            f"  {moved['lead_id']}: {_where(moved['before'])} -> {_where(moved['after'])}"
            f" [{moved['step']}: {moved['detail']}]"
        )
    if len(data["moved"]) > show:
        lines.append(f"  ... and {len(data['moved']) - show} more (see --json or --html)")
    return "\n".join(lines)


def _by_step(counts: dict[str, int]) -> str:
    """` (rule 3, turn 1)`: how many moved leads parted at each step; empty if none moved."""
    if not counts:
        return ""
    return " (" + ", ".join(f"{step} {n}" for step, n in counts.items()) + ")"


def _breaches(base: dict[str, Any], cand: dict[str, Any]) -> list[str]:
    before, after = base["projected_sla_breaches"], cand["projected_sla_breaches"]
    if before is None or after is None:
        return []
    total = [sum(v for k, v in run.items() if not k.startswith("no_")) for run in (before, after)]
    return [
        f"  projected SLA breaches:    {total[0]:.0f} -> {total[1]:.0f} (from recorded first "
        f"touch; {after['no_history']} leads of reps with no history)"
    ]


def _pct(value: float | None) -> str:
    return "   -  " if value is None else f"{value * 100:5.1f}%"


def _where(placed: dict[str, str | None]) -> str:
    if placed["outcome"] == "assigned":
        return f"{placed['rep']}@{placed['pool']}"
    return f"{placed['outcome']}({placed['pool']})"
