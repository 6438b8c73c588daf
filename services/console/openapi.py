"""The admin API's OpenAPI 3.1 document, written out by hand: one entry per route in api.py
(a unit test holds the two to each other)."""

from __future__ import annotations

from typing import Any

PROBLEM = {"$ref": "#/components/responses/Problem"}
REFUSALS = {"400": PROBLEM, "401": PROBLEM, "403": PROBLEM, "404": PROBLEM, "422": PROBLEM}


def _query(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": {"type": "string"},
            "description": description}  # fmt: skip


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _body(required: list[str], **properties: str) -> dict[str, Any]:
    schema = {
        "type": "object",
        "required": required,
        "properties": {
            k: {"type": "boolean" if k == "override" else "string", "description": v}
            for k, v in properties.items()
        },
    }
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _op(summary: str, role: str, **extra: Any) -> dict[str, Any]:
    return {
        "summary": summary,
        "description": f"Needs role `{role}` or higher.",
        "responses": {"200": {"description": "OK", "content": {"application/json": {}}},
                      **REFUSALS},
        **extra,
    }  # fmt: skip


def document() -> dict[str, Any]:
    reason = "why: recorded with the actor in admin.audit"
    return {
        "openapi": "3.1.0",
        "info": {"title": "leadrouter console admin API", "version": "1"},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Problem": {
                    "description": "RFC 9457 problem document naming the field",
                    "content": {"application/problem+json": {}},
                }
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/leads": {"get": _op("Search leads", "viewer", parameters=[
                _query("lead_id", "exact lead id"), _query("email", "exact, any case"),
                _query("phone", "E.164 as normalized"), _query("rep", "current owner"),
                _query("pool", "current pool"), _query("since", "received at or after (ms/ISO)"),
                _query("until", "received before (ms or ISO)"), _query("limit", "at most 200"),
            ])},
            "/api/v1/leads/{lead_id}": {"get": _op(
                "One lead's timeline: inbound fields, triage, assignments with traces, SLA "
                "steps, activity, console actions", "viewer", parameters=[_path("lead_id")])},
            "/api/v1/board": {"get": _op("Pools x reps: weight, presence, open load, today's "
                                         "count, deviation from the fair share", "viewer")},
            "/api/v1/sla": {"get": _op("Open SLA timers due soonest, breaches today, compliance "
                                       "per pool and rep today", "viewer")},
            "/api/v1/fairness": {"get": _op(
                "Per pool and rep, assigned against the weighted share over a period (default "
                "the last 7 days)", "viewer", parameters=[
                    _query("since", "from (ms or ISO)"), _query("until", "to (ms or ISO)")])},
            "/api/v1/leads/{lead_id}/assign": {"post": _op(
                "Reassign the lead to a named member of its pool", "operator",
                parameters=[_path("lead_id")],
                requestBody=_body(["rep_id"], rep_id="the rep", reason=reason,
                                  override="true: assign whatever eligibility says"))},
            "/api/v1/reps/{rep_id}/reassign": {"post": _op(
                "Reassign every open lead of the rep through the pool's strategy, without them",
                "operator", parameters=[_path("rep_id")], requestBody=_body([], reason=reason))},
            "/api/v1/reps/{rep_id}/presence": {"post": _op(
                "Set the rep's presence on reps.presence", "operator",
                parameters=[_path("rep_id")],
                requestBody=_body(["status"], status="available, away or offline",
                                  until="when away/offline lapses (ms or ISO)",
                                  reason=reason))},
            "/api/v1/pools/{pool_id}/pause": {"post": _op(
                "Pause the pool: its leads go to its fallback pool, else the fallback queue",
                "operator", parameters=[_path("pool_id")], requestBody=_body([], reason=reason))},
            "/api/v1/pools/{pool_id}/resume": {"post": _op(
                "Resume the pool: leads routed to it are decided in it again", "operator",
                parameters=[_path("pool_id")], requestBody=_body([], reason=reason))},
            "/api/v1/config/validate": {"post": _op(
                "Validate a candidate config and diff it against the version in force",
                "viewer", requestBody=_body(["document"], document="the YAML text"))},
            "/api/v1/config/publish": {"post": _op(
                "Publish a candidate config as the next version", "admin",
                requestBody=_body(["document"], document="the YAML text", reason=reason))},
        },
    }  # fmt: skip
