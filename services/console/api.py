"""The admin API, `/api/v1/…`: JSON in and out, refusals as problem+json, the OpenAPI
document at `/api/v1/openapi.json` (services/console/openapi.py).

Reads need `viewer`, manual actions `operator`, publishing config `admin`. A caller uses a
bearer token, or a browser session plus its CSRF token in `X-CSRF-Token` for a POST.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.console.auth import Gate
from services.console.fairness import fairness
from services.console.openapi import document
from services.console.problems import Refused, problem_response
from services.console.queries import LeadQuery, search
from services.console.service import ConsoleService
from services.console.settings import Role
from services.console.tokens import Principal

Handler = Callable[[Request, Principal], Awaitable[Any]]


def instant_ms(name: str, text: str | None) -> int | None:
    """Epoch milliseconds, or an ISO 8601 time with an offset; Refused naming `name`."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        expected = "epoch ms or ISO 8601 with an offset"
        raise Refused(400, "bad_time", name, f"{name}: expected {expected}, got {text[:40]!r}")
    return int(moment.timestamp() * 1000)


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise Refused(400, "malformed", "body", f"body: not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise Refused(400, "malformed", "body", "body: expected a JSON object")
    return body


def text_field(body: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = body.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise Refused(422, "missing_field", name, f"{name}: expected a non-empty string")
    return value


class AdminApi:
    def __init__(self, service: ConsoleService, gate: Gate) -> None:
        self.service = service
        self.gate = gate

    def routes(self) -> list[Route]:
        viewer, operator, admin = Role.VIEWER, Role.OPERATOR, Role.ADMIN
        return [
            Route("/api/v1/openapi.json", self._openapi, methods=["GET"]),
            Route("/api/v1/leads", self._guard(viewer, self._search), methods=["GET"]),
            Route("/api/v1/leads/{lead_id}", self._guard(viewer, self._lead), methods=["GET"]),
            Route("/api/v1/board", self._guard(viewer, self._board), methods=["GET"]),
            Route("/api/v1/fairness", self._guard(viewer, self._fairness), methods=["GET"]),
            Route("/api/v1/sla", self._guard(viewer, self._sla), methods=["GET"]),
            Route("/api/v1/leads/{lead_id}/assign", self._guard(operator, self._assign, True),
                  methods=["POST"]),
            Route("/api/v1/reps/{rep_id}/reassign", self._guard(operator, self._reassign, True),
                  methods=["POST"]),
            Route("/api/v1/reps/{rep_id}/presence", self._guard(operator, self._presence, True),
                  methods=["POST"]),
            Route("/api/v1/pools/{pool_id}/pause", self._guard(operator, self._pause, True),
                  methods=["POST"]),
            Route("/api/v1/pools/{pool_id}/resume", self._guard(operator, self._resume, True),
                  methods=["POST"]),
            Route("/api/v1/config/validate", self._guard(viewer, self._validate),
                  methods=["POST"]),
            Route("/api/v1/config/publish", self._guard(admin, self._publish, True),
                  methods=["POST"]),
        ]  # fmt: skip

    def _guard(
        self, role: Role, handler: Handler, changes_state: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                principal = self.gate.require(request, role)
                if changes_state:
                    self.gate.check_csrf(request, principal, None)
                return JSONResponse(await handler(request, principal))
            except Refused as exc:
                return problem_response(exc.problem)

        return endpoint

    async def _openapi(self, _request: Request) -> Response:
        return JSONResponse(document())

    async def _search(self, request: Request, _who: Principal) -> Any:
        params = request.query_params
        limit = params.get("limit", "50")
        if not limit.isdigit():
            raise Refused(400, "bad_limit", "limit", "limit: expected a whole number")
        query = LeadQuery(
            lead_id=params.get("lead_id"), email=params.get("email"), phone=params.get("phone"),
            rep=params.get("rep"), pool=params.get("pool"),
            since_ms=instant_ms("since", params.get("since")),
            until_ms=instant_ms("until", params.get("until")), limit=int(limit),
        )  # fmt: skip
        return {"leads": await run_in_threadpool(self.service.read, search, query)}

    async def _lead(self, request: Request, _who: Principal) -> Any:
        return await run_in_threadpool(self.service.lead, request.path_params["lead_id"])

    async def _board(self, _request: Request, _who: Principal) -> Any:
        return await run_in_threadpool(self.service.board)

    async def _sla(self, _request: Request, _who: Principal) -> Any:
        return await run_in_threadpool(self.service.sla)

    async def _fairness(self, request: Request, _who: Principal) -> Any:
        now = self.service.clock.now_ms()
        since = instant_ms("since", request.query_params.get("since")) or now - 7 * 86_400_000
        until = instant_ms("until", request.query_params.get("until")) or now
        return await run_in_threadpool(self.service.read, fairness, since, until)

    async def _assign(self, request: Request, who: Principal) -> Any:
        body = await json_body(request)
        rep_id, reason = text_field(body, "rep_id"), text_field(body, "reason", required=False)
        override = body.get("override", False)
        if not isinstance(override, bool):
            raise Refused(422, "bad_override", "override", "override: expected true or false")
        lead_id = request.path_params["lead_id"]
        return await run_in_threadpool(
            self.service.assign_to_rep, who, lead_id, rep_id, reason, override
        )

    async def _reassign(self, request: Request, who: Principal) -> Any:
        reason = text_field(await json_body(request), "reason", required=False)
        rep_id = request.path_params["rep_id"]
        return await run_in_threadpool(self.service.reassign_all, who, rep_id, reason)

    async def _presence(self, request: Request, who: Principal) -> Any:
        body = await json_body(request)
        status, reason = text_field(body, "status"), text_field(body, "reason", required=False)
        until = instant_ms("until", str(body.get("until") or ""))
        rep_id = request.path_params["rep_id"]
        return await run_in_threadpool(
            self.service.set_presence, who, rep_id, status, reason, until
        )

    async def _pause(self, request: Request, who: Principal) -> Any:
        return await self._pool_paused(request, who, True)

    async def _resume(self, request: Request, who: Principal) -> Any:
        return await self._pool_paused(request, who, False)

    async def _pool_paused(self, request: Request, who: Principal, paused: bool) -> Any:
        reason = text_field(await json_body(request), "reason", required=False)
        pool_id = request.path_params["pool_id"]
        return await run_in_threadpool(self.service.set_pool_paused, who, pool_id, paused, reason)

    async def _validate(self, request: Request, _who: Principal) -> Any:
        text = text_field(await json_body(request), "document")
        return await run_in_threadpool(self.service.review, text)

    async def _publish(self, request: Request, who: Principal) -> Any:
        body = await json_body(request)
        text, reason = text_field(body, "document"), text_field(body, "reason", required=False)
        return await run_in_threadpool(self.service.publish, who, text, reason)
