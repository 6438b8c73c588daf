"""The fairness report: per pool and rep, leads assigned in a period against the rep's
weighted share of the pool's total (pure over a projection connection; the caller gives the
period). Weights are those of the config in force now: a period across a weight change is
measured against today's weights, as the report says."""

from __future__ import annotations

import sqlite3
from typing import Any

from services.console.queries import config_in_force


def fairness(db: sqlite3.Connection, since_ms: int, until_ms: int) -> dict[str, Any]:
    """`pools`: each with `total` and `reps` (`actual`, `expected`, `difference`, `weight`)."""
    found = config_in_force(db)
    if found is None:
        return {"config_version": None, "since_ms": since_ms, "until_ms": until_ms, "pools": []}
    version, config = found
    actual = {
        (pool, rep): n
        for pool, rep, n in db.execute(
            "SELECT pool_id, rep_id, COUNT(*) FROM events WHERE kind = 'assignment' "
            "AND outcome = 'assigned' AND at_ms >= ? AND at_ms < ? GROUP BY pool_id, rep_id",
            (since_ms, until_ms),
        )
    }
    pools = []
    for pool in config.pools:
        total_weight = sum(m.weight for m in pool.members) or 1
        total = sum(actual.get((pool.id, m.rep), 0) for m in pool.members)
        reps = []
        for member in pool.members:
            got = actual.get((pool.id, member.rep), 0)
            expected = total * member.weight / total_weight
            reps.append(
                {
                    "rep_id": member.rep,
                    "weight": member.weight,
                    "actual": got,
                    "expected": round(expected, 2),
                    "difference": round(got - expected, 2),
                }
            )
        pools.append({"pool_id": pool.id, "total": total, "reps": reps})
    return {"config_version": version, "since_ms": since_ms, "until_ms": until_ms, "pools": pools}
