"""The HTTP front door: one ASGI app for forms, Twilio SMS, chat and email posts.

Every lead endpoint runs the same course: read the request into a lead (`http_channels`: body
within its size limit, signature when one is configured, the channel's pure normalizer),
publish, and answer success only once the broker acknowledged (`LeadPublisher`). Bad input is
a problem+json 4xx naming the field (431 for headers past `MAX_HEADERS` / `MAX_HEADER_BYTES`,
413 for a lead too large for the topic); a broker that does not acknowledge in time is 503 with
Retry-After. Anything else is a bug: 500, counted in `errors` and logged with its traceback. A
client that leaves before its body arrived is no error: nothing is written and it is logged at
debug. Logs carry lead ids, reasons and field names, never the person's data.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.ingest.http_channels import ChannelReaders
from services.ingest.metrics import IngestMetrics
from services.ingest.problems import (
    Problem,
    Refused,
    headers_too_large,
    internal_error,
    invalid_lead,
    response,
    routing_problem,
)
from services.ingest.publisher import BrokerUnavailable, Publishing
from services.ingest.rejection import InvalidLead
from services.ingest.settings import IngestSettings
from services.leads.events import Channel, Lead
from services.streaming.records import Clock

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_HEADERS = 100
MAX_HEADER_BYTES = 32 * 1024
"""Every header name and value together; browsers' cookies and providers' signatures fit."""


def check_headers(request: Request) -> None:
    """Refuse (431) a request with more than `MAX_HEADERS` headers or `MAX_HEADER_BYTES`."""
    raw = request.headers.raw
    if len(raw) > MAX_HEADERS:
        raise Refused(headers_too_large(f"{len(raw)} headers", f"at most {MAX_HEADERS}"))
    size = sum(len(name) + len(value) for name, value in raw)
    if size > MAX_HEADER_BYTES:
        raise Refused(
            headers_too_large(f"{size} bytes of headers", f"at most {MAX_HEADER_BYTES} bytes")
        )


def accepted_response(lead: Lead) -> Response:
    return JSONResponse({"lead_id": lead.lead_id}, status_code=202)


def twiml_response(_: Lead) -> Response:
    return Response(EMPTY_TWIML, media_type="text/xml")


class IngestApp:
    def __init__(
        self,
        settings: IngestSettings,
        publisher: Publishing,
        metrics: IngestMetrics,
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.publisher = publisher
        self.metrics = metrics
        self.clock = clock
        self.read = ChannelReaders(settings, clock)

    def asgi(self) -> Starlette:
        lead_routes = [
            ("/v1/leads/forms/{form_id}", Channel.FORM, self.read.form, accepted_response),
            ("/v1/leads/sms/twilio", Channel.SMS, self.read.twilio, twiml_response),
            ("/v1/leads/chat", Channel.CHAT, self.read.chat, accepted_response),
            ("/v1/leads/email", Channel.EMAIL, self.read.email, accepted_response),
        ]
        routes = [
            Route(path, self._endpoint(channel, build, answer), methods=["POST"])
            for path, channel, build, answer in lead_routes
        ]
        routes += [
            Route("/healthz", self._healthz, methods=["GET"]),
            Route("/readyz", self._readyz, methods=["GET"]),
        ]
        return Starlette(routes=routes, exception_handlers={HTTPException: routing_problem})

    # -- the course every lead request runs ------------------------------------------------
    def _endpoint(
        self,
        channel: Channel,
        build: Callable[[Request], Awaitable[Lead]],
        answer: Callable[[Lead], Response],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            started = self.clock.monotonic()
            labels = {"door": "http", "channel": channel.value}
            self.metrics.received.labels(**labels).inc()
            try:
                check_headers(request)
                lead = await build(request)
                await self.publisher.publish(lead)
            except InvalidLead as exc:
                return self._refuse(labels, invalid_lead(exc))
            except Refused as exc:
                return self._refuse(labels, exc.problem)
            except ClientDisconnect:
                log.debug("%s request abandoned before its body arrived", channel.value)
                return Response(status_code=400)  # nobody is left to read it
            except BrokerUnavailable:
                self.metrics.unavailable.labels(**labels).inc()
                log.warning("%s lead not accepted: broker unavailable", channel.value)
                retry = str(self.settings.retry_after_s)
                problem = Problem(
                    503, "broker_unavailable", "broker", "broker: the lead was not stored; retry"
                )
                return response(problem, headers={"Retry-After": retry})
            except Exception:  # a bug: a counted problem+json 500, not the server's bare one
                self.metrics.errors.labels(**labels).inc()
                log.exception("%s request failed", channel.value)
                return response(internal_error())
            finally:
                self.metrics.request_seconds.labels(**labels).observe(
                    self.clock.monotonic() - started
                )
            self.metrics.accepted.labels(**labels).inc()
            log.debug("accepted %s lead %s", channel.value, lead.lead_id)  # counted in metrics
            return answer(lead)

        return endpoint

    def _refuse(self, labels: dict[str, str], problem: Problem) -> Response:
        self.metrics.rejected.labels(**labels, reason=problem.reason).inc()
        log.info("refused %s lead: %s (%s)", labels["channel"], problem.reason, problem.field)
        return response(problem)

    # -- probes ----------------------------------------------------------------------------
    async def _healthz(self, _: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def _readyz(self, _: Request) -> Response:
        if await self.publisher.ready():
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "broker unreachable"}, status_code=503)
