"""Cross-checks of a routing config: what each part says about the others.

Pydantic checks each value on its own; these check references and the shape of the whole:
unknown reps, pools, schedules, territories, managers and SLA policies; duplicate ids; fallback
cycles; weights a strategy would ignore; pools no member can serve; escalations with nobody to
go to. Every problem carries the path of the value to fix, in document order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from services.leads.config_errors import ConfigProblem, Path

if TYPE_CHECKING:
    from services.leads.config_pools import Pool
    from services.leads.routing_config import RoutingConfig, Rule, ScoringRule


def cross_check(config: RoutingConfig) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    problems += _duplicates("managers", (m.id for m in config.managers), "manager")
    problems += _duplicates("reps", (r.id for r in config.reps), "rep")
    problems += _duplicates("pools", (p.id for p in config.pools), "pool")
    problems += _duplicates("rules", (r.id for r in config.rules), "rule")
    problems += _duplicates(("scoring", "rules"), (r.id for r in config.scoring.rules), "rule")
    problems += _duplicates("sla_policies", (p.id for p in config.sla_policies), "SLA policy")
    problems += _reps(config)
    for index, pool in enumerate(config.pools):
        problems += _pool(config, index, pool)
    problems += _fallback_cycles(config)
    for index, rule in enumerate(config.rules):
        problems += _rule(config, ("rules", index), rule)
    for index, scoring_rule in enumerate(config.scoring.rules):
        problems += _scoring_rule(config, ("scoring", "rules", index), scoring_rule)
    if config.default_pool not in {p.id for p in config.pools}:
        problems.append(_unknown(("default_pool",), "pool", config.default_pool, config))
    if config.fallback_queue in {p.id for p in config.pools}:
        message = (
            f"{config.fallback_queue!r} is a pool: the fallback queue is where leads go when "
            "every pool failed, so it must be a name no pool uses"
        )
        problems.append(ConfigProblem(("fallback_queue",), message))
    return problems


def _duplicates(where: str | Path, ids: Iterable[str], kind: str) -> list[ConfigProblem]:
    base: Path = (where,) if isinstance(where, str) else where
    seen: set[str] = set()
    problems = []
    for index, item in enumerate(ids):
        if item in seen:
            problems.append(ConfigProblem((*base, index, "id"), f"duplicate {kind} id {item!r}"))
        seen.add(item)
    return problems


def _unknown(path: Path, kind: str, value: str, config: RoutingConfig) -> ConfigProblem:
    known = {
        "rep": [r.id for r in config.reps],
        "pool": [p.id for p in config.pools],
        "SLA policy": [p.id for p in config.sla_policies],
        "schedule": list(config.schedules),
        "territory": list(config.territories),
        "manager": [m.id for m in config.managers] + [r.id for r in config.reps],
    }[kind]
    hint = f" (known: {', '.join(sorted(known))})" if 0 < len(known) <= 12 else ""
    return ConfigProblem(path, f"unknown {kind} {value!r}{hint}")


def _reps(config: RoutingConfig) -> list[ConfigProblem]:
    problems = []
    managers = {m.id for m in config.managers} | {r.id for r in config.reps}
    for clash in sorted({m.id for m in config.managers} & {r.id for r in config.reps}):
        problems.append(ConfigProblem(("managers",), f"{clash!r} is both a manager and a rep id"))
    for index, rep in enumerate(config.reps):
        path: Path = ("reps", index)
        if rep.manager is not None:
            if rep.manager == rep.id:
                problems.append(ConfigProblem((*path, "manager"), "a rep cannot manage themself"))
            elif rep.manager not in managers:
                problems.append(_unknown((*path, "manager"), "manager", rep.manager, config))
        hours = rep.working_hours
        if isinstance(hours, str) and hours not in config.schedules:
            problems.append(_unknown((*path, "working_hours"), "schedule", hours, config))
        elif hours is not None and not isinstance(hours, str) and hours.weekly_seconds() == 0:
            problems.append(
                ConfigProblem(
                    (*path, "working_hours"),
                    (
                        "no working time on any day: the rep would never be eligible "
                        "(leave working_hours out for around the clock, or set active: false)"
                    ),
                )
            )
    for name, hours in config.schedules.items():
        if hours.weekly_seconds() == 0:
            problems.append(ConfigProblem(("schedules", name), "no working time on any day"))
    return problems


def _pool(config: RoutingConfig, index: int, pool: Pool) -> list[ConfigProblem]:
    path: Path = ("pools", index)
    problems = []
    seen: set[str] = set()
    for m_index, member in enumerate(pool.members):
        m_path: Path = (*path, "members", m_index)
        if not config.has_rep(member.rep):
            problems.append(_unknown((*m_path, "rep"), "rep", member.rep, config))
        if member.rep in seen:
            problems.append(ConfigProblem((*m_path, "rep"), f"rep {member.rep!r} is listed twice"))
        seen.add(member.rep)
        if pool.strategy == "round_robin" and member.weight != 1:
            problems.append(
                ConfigProblem(
                    (*m_path, "weight"),
                    (
                        "strategy round_robin gives every member equal turns and ignores weights: "
                        "use strategy weighted, or remove the weight"
                    ),
                )
            )
    if pool.fallback is not None and pool.fallback == pool.id:
        problems.append(ConfigProblem((*path, "fallback"), "a pool cannot fall back to itself"))
    elif pool.fallback is not None and not config.has_pool(pool.fallback):
        problems.append(_unknown((*path, "fallback"), "pool", pool.fallback, config))
    if pool.manager is not None and pool.manager not in (
        {m.id for m in config.managers} | {r.id for r in config.reps}
    ):
        problems.append(_unknown((*path, "manager"), "manager", pool.manager, config))
    problems += _skills(config, path, pool)
    problems += _policy(config, path, pool)
    return problems


def _skills(config: RoutingConfig, path: Path, pool: Pool) -> list[ConfigProblem]:
    needed = set(pool.required_skills)
    if not needed:
        return []
    able = [
        m.rep
        for m in pool.members
        if config.has_rep(m.rep) and needed <= set(config.rep(m.rep).skills)
    ]
    if able:
        return []
    return [
        ConfigProblem(
            (*path, "required_skills"),
            (f"no member has every required skill {sorted(needed)}: the pool could never assign"),
        )
    ]


def _policy(config: RoutingConfig, path: Path, pool: Pool) -> list[ConfigProblem]:
    if pool.sla_policy is None:
        return []
    policies = {p.id: p for p in config.sla_policies}
    policy = policies.get(pool.sla_policy)
    if policy is None:
        return [_unknown((*path, "sla_policy"), "SLA policy", pool.sla_policy, config)]
    if policy.escalate.to == "fallback" and pool.fallback is None:
        message = f"SLA policy {policy.id!r} escalates to the fallback pool, but this pool has none"
        return [ConfigProblem((*path, "fallback"), message)]
    if policy.escalate.to == "manager" and pool.manager is None:
        unmanaged = sorted(
            m.rep
            for m in pool.members
            if config.has_rep(m.rep) and config.rep(m.rep).manager is None
        )
        if unmanaged:
            message = (
                f"SLA policy {policy.id!r} escalates to a manager, but {unmanaged} have none: "
                "give the pool a manager (used for leads without one) or give those reps one"
            )
            return [ConfigProblem((*path, "manager"), message)]
    return []


def _fallback_cycles(config: RoutingConfig) -> list[ConfigProblem]:
    """One problem per cycle, at the cycle's first pool in the document."""
    fallback = {p.id: p.fallback for p in config.pools}
    index = {p.id: i for i, p in enumerate(config.pools)}
    cycles: dict[str, tuple[str, ...]] = {}
    for start in fallback:
        chain = [start]
        while (nxt := fallback.get(chain[-1])) in fallback and nxt not in chain:
            chain.append(nxt)
        if nxt in chain and nxt != chain[-1]:  # a self-fallback is reported by _pool
            cycle = chain[chain.index(nxt) :]
            first = min(cycle, key=index.__getitem__)
            at = cycle.index(first)
            cycles[first] = (*cycle[at:], *cycle[:at], first)
    return [
        ConfigProblem(
            ("pools", index[first], "fallback"),
            f"fallback cycle {' -> '.join(loop)}: a lead nobody takes would never leave",
        )
        for first, loop in sorted(cycles.items(), key=lambda item: index[item[0]])
    ]


def _conditions(
    config: RoutingConfig, path: Path, territories: tuple[str, ...] | None
) -> list[ConfigProblem]:
    return [
        _unknown((*path, "when", "territory", i), "territory", name, config)
        for i, name in enumerate(territories or ())
        if name not in config.territories
    ]


def _rule(config: RoutingConfig, path: Path, rule: Rule) -> list[ConfigProblem]:
    problems = _conditions(config, path, rule.when.territory)
    if not config.has_pool(rule.pool):
        problems.append(_unknown((*path, "pool"), "pool", rule.pool, config))
    return problems


def _scoring_rule(config: RoutingConfig, path: Path, rule: ScoringRule) -> list[ConfigProblem]:
    problems = _conditions(config, path, rule.when.territory)
    if rule.when.score is not None:
        problems.append(
            ConfigProblem(
                (*path, "when", "score"),
                ("a scoring rule cannot depend on the score it is computing"),
            )
        )
    return problems
