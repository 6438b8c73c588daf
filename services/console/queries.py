"""Questions the console asks the projection: lead search, one lead's timeline, the live board.

Reads only; every function takes a connection and returns plain values ready for JSON. The
board's "today" starts at `day_start_ms`, given by the caller (the domain reads no clock).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from services.console.actions import OpenLead
from services.leads.config_errors import ConfigInvalid
from services.leads.events import Lead
from services.leads.routing_config import RoutingConfig
from services.router.config_document import parse_config_text
from services.router.presence import pool_key

MAX_RESULTS = 200


@dataclass(frozen=True, slots=True)
class LeadQuery:
    lead_id: str | None = None
    email: str | None = None
    phone: str | None = None
    rep: str | None = None
    pool: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    limit: int = 50


def search(db: sqlite3.Connection, query: LeadQuery) -> list[dict[str, Any]]:
    """Leads matching every given filter, newest first."""
    clauses: list[str] = []
    values: list[str | int] = []
    for column, value in (
        ("lead_id", query.lead_id),
        ("email", query.email.strip().lower() if query.email else None),
        ("phone", query.phone),
        ("rep_id", query.rep),
        ("pool_id", query.pool),
    ):
        if value:
            clauses.append(f"{column} = ?")
            values.append(value)
    if query.since_ms is not None:
        clauses.append("received_at_ms >= ?")
        values.append(query.since_ms)
    if query.until_ms is not None:
        clauses.append("received_at_ms < ?")
        values.append(query.until_ms)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = db.execute(
        "SELECT lead_id, channel, email, phone, first_name, last_name, company, country, "
        f"received_at_ms, pool_id, rep_id, open FROM leads {where} "
        "ORDER BY received_at_ms DESC, lead_id LIMIT ?",
        (*values, min(max(query.limit, 1), MAX_RESULTS)),
    )
    columns = [c[0] for c in rows.description]
    return [dict(zip(columns, row, strict=True)) | {"open": bool(row[-1])} for row in rows]


def timeline(db: sqlite3.Connection, lead_id: str) -> dict[str, Any] | None:
    """Everything known about one lead, or None when the projection has never seen it."""
    row = db.execute(
        "SELECT lead, pool_id, rep_id, open, received_at_ms FROM leads WHERE lead_id = ?",
        (lead_id,),
    ).fetchone()
    if row is None:
        return None
    lead_json, pool_id, rep_id, is_open, received_at_ms = row
    events = [
        {"kind": kind, "at_ms": at_ms, "topic": topic, "partition": partition, "offset": offset,
         "record": json.loads(body)}
        for kind, at_ms, topic, partition, offset, body in db.execute(
            'SELECT kind, at_ms, topic, partition, "offset", body FROM events '
            "WHERE lead_id = ? ORDER BY at_ms, seq",
            (lead_id,),
        )
    ]  # fmt: skip
    requests = [e for e in events if e["kind"] == "request"]
    first = requests[0]["record"] if requests else None
    audit = [
        json.loads(body)
        for (body,) in db.execute(
            "SELECT body FROM audit WHERE target = ? ORDER BY at_ms", (lead_id,)
        )
    ]
    return {
        "lead_id": lead_id,
        "lead": json.loads(lead_json) if lead_json else None,
        "received_at_ms": received_at_ms,
        "owner": {"pool_id": pool_id, "rep_id": rep_id, "open": bool(is_open)},
        "triage": _triage(first),
        "requests": [e["record"] | {"input": _where(e)} for e in requests],
        "assignments": [
            e["record"] | {"requested_by": _requested_by(e["record"], requests)}
            for e in events
            if e["kind"] == "assignment"
        ],
        "sla": [e["record"] for e in events if e["kind"] == "escalation"],
        "activity": [e["record"] for e in events if e["kind"] == "activity"],
        "audit": audit,
        "events": [{k: e[k] for k in ("kind", "at_ms", "topic", "partition", "offset")}
                   for e in events],
    }  # fmt: skip


def _where(event: dict[str, Any]) -> str:
    return f"{event['topic']}[{event['partition']}]@{event['offset']}"


def _requested_by(assignment: dict[str, Any], requests: list[dict[str, Any]]) -> str | None:
    """The reason of the request this assignment decided (it names a console action's actor)."""
    trace = assignment["trace"]
    for request in requests:
        if (request["partition"], request["offset"]) == (
            trace["input_partition"],
            trace["input_offset"],
        ) and trace["input_topic"].endswith(request["topic"]):
            return str(request["record"]["reason"])
    return None


def _triage(request: dict[str, Any] | None) -> dict[str, Any] | None:
    if request is None:
        return None
    return {
        "pool_id": request["pool_id"],
        "rule_id": request["rule_id"],
        "score": request["score"],
        "is_repeat": request["is_repeat"],
        "repeat_of": request["repeat_of"],
        "continuity_owner": request["preferred_owner"],
        "reason": request["reason"],
    }


@lru_cache(maxsize=8)
def _parsed(version: int, document: str) -> RoutingConfig | None:
    try:
        return parse_config_text(document)
    except ConfigInvalid:
        return None


def config_in_force(db: sqlite3.Connection) -> tuple[int, RoutingConfig] | None:
    """The newest valid published version, as the router follows it."""
    for version, document in db.execute(
        "SELECT version, document FROM config ORDER BY version DESC"
    ):
        parsed = _parsed(version, document)
        if parsed is not None:
            return version, parsed
    return None


def board(db: sqlite3.Connection, day_start_ms: int, now_ms: int) -> dict[str, Any]:
    """Pools x reps of the config in force: weight, presence, open load, assigned today, and
    the deviation of today's count from the rep's weighted share of the pool's today."""
    found = config_in_force(db)
    if found is None:
        return {"config_version": None, "pools": []}
    version, config = found
    presence = {
        rep: (status if until is None or until > now_ms else "available")
        for rep, status, until in db.execute("SELECT rep_id, status, until_ms FROM presence")
    }
    load = dict(
        ((pool, rep), n)
        for pool, rep, n in db.execute(
            "SELECT pool_id, rep_id, COUNT(*) FROM leads WHERE open = 1 GROUP BY pool_id, rep_id"
        )
    )
    today = dict(
        ((pool, rep), n)
        for pool, rep, n in db.execute(
            "SELECT pool_id, rep_id, COUNT(*) FROM events WHERE kind = 'assignment' "
            "AND outcome = 'assigned' AND at_ms >= ? GROUP BY pool_id, rep_id",
            (day_start_ms,),
        )
    )
    pools = []
    for pool in config.pools:
        total_weight = sum(m.weight for m in pool.members) or 1
        pool_today = sum(today.get((pool.id, m.rep), 0) for m in pool.members)
        reps = [
            {
                "rep_id": m.rep,
                "weight": m.weight,
                "presence": presence.get(m.rep, "available"),
                "open": load.get((pool.id, m.rep), 0),
                "today": today.get((pool.id, m.rep), 0),
                "deviation": round(
                    today.get((pool.id, m.rep), 0) - pool_today * m.weight / total_weight, 2
                ),
            }
            for m in pool.members
        ]
        paused = presence.get(pool_key(pool.id), "available") != "available"
        pools.append({"pool_id": pool.id, "strategy": pool.strategy.value, "today": pool_today,
                      "paused": paused, "reps": reps})  # fmt: skip
    return {"config_version": version, "pools": pools}


def open_lead(db: sqlite3.Connection, lead_id: str) -> OpenLead | None:
    """The lead as an action needs it: its pool, owner and latest attempt; None when no
    assignment of it has been read yet (nothing to move)."""
    row = db.execute(
        "SELECT l.pool_id, l.rep_id, l.received_at_ms, l.lead, "
        "(SELECT body FROM events e WHERE e.lead_id = l.lead_id AND e.kind = 'assignment' "
        " ORDER BY e.seq DESC LIMIT 1) FROM leads l WHERE l.lead_id = ?",
        (lead_id,),
    ).fetchone()
    if row is None or row[0] is None or row[4] is None:
        return None
    pool_id, rep_id, received_at_ms, lead_json, last = row
    lead = Lead.model_validate_json(lead_json) if lead_json else None
    attempt = int(json.loads(last)["attempt"])
    return OpenLead(lead_id, pool_id, rep_id, attempt, received_at_ms, lead)


def open_leads_of(db: sqlite3.Connection, rep_id: str) -> list[OpenLead]:
    ids = [i for (i,) in db.execute("SELECT lead_id FROM leads WHERE rep_id = ? AND open = 1 "
                                    "ORDER BY received_at_ms", (rep_id,))]  # fmt: skip
    return [lead for lead in (open_lead(db, i) for i in ids) if lead is not None]


def presence_of(db: sqlite3.Connection, rep_id: str, now_ms: int) -> str:
    row = db.execute("SELECT status, until_ms FROM presence WHERE rep_id = ?", (rep_id,)).fetchone()
    if row is None or (row[1] is not None and row[1] <= now_ms):
        return "available"
    return str(row[0])


def last_skip(db: sqlite3.Connection, lead_id: str, rep_id: str) -> str | None:
    """Why the router passed `rep_id` over in the lead's latest decision, if it did."""
    row = db.execute(
        "SELECT body FROM events WHERE lead_id = ? AND kind = 'assignment' "
        "ORDER BY seq DESC LIMIT 1",
        (lead_id,),
    ).fetchone()
    if row is None:
        return None
    for candidate in json.loads(row[0])["trace"]["candidates"]:
        if candidate["rep_id"] == rep_id and candidate["skip_reason"]:
            return str(candidate["skip_reason"])
    return None
