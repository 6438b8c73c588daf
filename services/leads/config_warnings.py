"""Warnings about a valid routing config: things that route, but probably not as intended.

A warning never blocks a publish; `leadrouter config validate` and `publish` print them. Each
names the path of what to look at, like a problem does.
"""

from __future__ import annotations

from services.leads.config_errors import ConfigProblem
from services.leads.routing_config import RoutingConfig


def config_warnings(config: RoutingConfig) -> list[ConfigProblem]:
    warnings: list[ConfigProblem] = []
    catch_all = next((r for r in config.rules if r.when.is_empty()), None)
    for index, rule in enumerate(config.rules):
        if (
            catch_all is not None
            and rule is not catch_all
            and index > config.rules.index(catch_all)
        ):
            message = f"never reached: rule {catch_all.id!r} before it matches every lead"
            warnings.append(ConfigProblem(("rules", index), message))
    pooled = {m.rep for p in config.pools for m in p.members}
    for index, rep in enumerate(config.reps):
        if rep.id not in pooled:
            message = "in no pool: this rep never receives leads"
            warnings.append(ConfigProblem(("reps", index), message))
    reachable = {config.default_pool} | {r.pool for r in config.rules}
    reachable |= {p.fallback for p in config.pools if p.fallback is not None}
    for index, pool in enumerate(config.pools):
        if pool.id not in reachable:
            message = "no rule, default_pool or fallback leads here: only continuity can"
            warnings.append(ConfigProblem(("pools", index), message))
        if all(config.has_rep(m.rep) and not config.rep(m.rep).active for m in pool.members):
            target = f"pool {pool.fallback!r}" if pool.fallback else repr(config.fallback_queue)
            message = f"every member is inactive: each lead goes straight to {target}"
            warnings.append(ConfigProblem(("pools", index, "members"), message))
    used = {p.sla_policy for p in config.pools}
    for index, policy in enumerate(config.sla_policies):
        if policy.id not in used:
            message = "no pool uses this SLA policy"
            warnings.append(ConfigProblem(("sla_policies", index), message))
    return warnings
