"""The console's refusals as RFC 9457 problem documents (`application/problem+json`), shaped
like ingest's: `type`, `title`, `status`, `detail` naming the field, `field`, `reason`."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.streaming.errors import PermanentError

MEDIA_TYPE = "application/problem+json"
TITLES = {
    400: "Malformed request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Refused",
    500: "Internal error",
    503: "Not written, retry",
}


@dataclass(frozen=True, slots=True)
class Problem:
    status: int
    reason: str
    field: str
    detail: str


class Refused(PermanentError):
    """Raised inside a request's handling to answer with `problem`."""

    def __init__(self, status: int, reason: str, field: str, detail: str) -> None:
        super().__init__(reason, detail)
        self.problem = Problem(status, reason, field, detail)


def problem_response(problem: Problem, extra: dict[str, object] | None = None) -> JSONResponse:
    body: dict[str, object] = {
        "type": f"urn:leadrouter:problem:{problem.reason}",
        "title": TITLES.get(problem.status, "Request refused"),
        "status": problem.status,
        "detail": problem.detail,
        "field": problem.field,
        "reason": problem.reason,
        **(extra or {}),
    }
    return JSONResponse(body, problem.status, media_type=MEDIA_TYPE)


async def routing_problem(request: Request, exc: Exception) -> Response:
    """Unknown paths and wrong methods answer in problem+json too."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 405:
        field, detail = "method", f"method: {request.method} is not allowed on {request.url.path}"
    else:
        field, detail = "path", f"path: {request.url.path} is not a console endpoint"
    return problem_response(Problem(status, "no_route", field, detail))
