"""The HTTP front door: one ASGI app for forms, Twilio SMS, chat and email posts.

Every lead endpoint runs the same course: read the request into a lead (`http_channels`: body
within its size limit, signature when one is configured, the channel's pure normalizer),
publish, and answer success only once the broker acknowledged (`LeadPublisher`). Bad input is
a problem+json 4xx naming the field; a broker that does not acknowledge in time is 503 with
Retry-After. Logs carry lead ids, reasons and field names, never the person's data.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.ingest.http_channels import ChannelReaders
from services.ingest.metrics import IngestMetrics
from services.ingest.problems import Problem, Refused, invalid_lead, response, routing_problem
from services.ingest.publisher import BrokerUnavailable, Publishing
from services.ingest.rejection import InvalidLead
from services.ingest.settings import IngestSettings
from services.leads.events import Channel, Lead
from services.streaming.records import Clock

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


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
                lead = await build(request)
                await self.publisher.publish(lead)
            except InvalidLead as exc:
                return self._refuse(labels, invalid_lead(exc))
            except Refused as exc:
                return self._refuse(labels, exc.problem)
            except BrokerUnavailable:
                self.metrics.unavailable.labels(**labels).inc()
                log.warning("%s lead not accepted: broker unavailable", channel.value)
                retry = str(self.settings.retry_after_s)
                problem = Problem(
                    503, "broker_unavailable", "broker", "broker: the lead was not stored; retry"
                )
                return response(problem, headers={"Retry-After": retry})
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
