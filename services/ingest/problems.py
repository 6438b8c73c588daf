"""HTTP errors as RFC 9457 problem documents (`application/problem+json`).

Every refusal names the field (or header) that was wrong, what was wrong and what was
expected, plus `reason`, the same bounded label the metrics count.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.ingest.rejection import InvalidLead
from services.ingest.signatures import SignatureProblem
from services.streaming.errors import PermanentError

MEDIA_TYPE = "application/problem+json"
TITLES = {
    400: "Malformed request",
    401: "Signature required",
    404: "Not found",
    405: "Method not allowed",
    413: "Body too large",
    415: "Unsupported content type",
    422: "Not a usable lead",
    431: "Request headers too large",
    500: "Internal error",
    503: "Lead not accepted, retry",
}


@dataclass(frozen=True, slots=True)
class Problem:
    status: int
    reason: str
    field: str
    detail: str
    expected: str | None = None


class Refused(PermanentError):
    """Raised inside a request's handling to answer with `problem`."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.reason, problem.detail)
        self.problem = problem


STATUS_BY_REASON = {"malformed": 400, "too_large": 413}
"""Every other `InvalidLead` reason is 422."""


def invalid_lead(exc: InvalidLead) -> Problem:
    status = STATUS_BY_REASON.get(exc.reason, 422)
    return Problem(status, exc.reason, exc.field, f"{exc.field}: {exc.problem}", exc.expected)


def bad_signature(problem: SignatureProblem) -> Problem:
    return Problem(401, "bad_signature", problem.header, f"{problem.header}: {problem.problem}")


def unknown_form() -> Problem:
    return Problem(404, "unknown_form", "form_id", "form_id: no such form", "a configured form id")


def too_large(limit: int) -> Problem:
    return Problem(
        413, "too_large", "body", f"body: larger than {limit} bytes", f"at most {limit} bytes"
    )


def headers_too_large(problem: str, limit: str) -> Problem:
    return Problem(431, "headers_too_large", "headers", f"headers: {problem}", limit)


def internal_error() -> Problem:
    return Problem(
        500, "internal_error", "request", "request: failed on our side; nothing was stored",
        "a retry, or a report with the time of the request",
    )  # fmt: skip


def unsupported(content_type: str, accepted: tuple[str, ...]) -> Problem:
    shown = content_type or "none"
    return Problem(
        415,
        "unsupported_media_type",
        "Content-Type",
        f"Content-Type: {shown[:80]} is not accepted here",
        " or ".join(accepted),
    )


def response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, object] = {
        "type": f"urn:leadrouter:problem:{problem.reason}",
        "title": TITLES.get(problem.status, "Request refused"),
        "status": problem.status,
        "detail": problem.detail,
        "field": problem.field,
        "reason": problem.reason,
    }
    if problem.expected is not None:
        body["expected"] = problem.expected
    return JSONResponse(body, problem.status, headers=headers, media_type=MEDIA_TYPE)


async def routing_problem(request: Request, exc: Exception) -> Response:
    """Unknown paths and wrong methods answer in problem+json like every other refusal."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else None  # Allow
    if status == 405:
        field, detail = "method", f"method: {request.method} is not allowed on {request.url.path}"
    else:
        field, detail = "path", f"path: {request.url.path} is not an ingest endpoint"
    return response(Problem(status, "no_route", field, detail, "see docs/channels.md"), headers)
