"""The HTTP front door: one ASGI app for forms, Twilio SMS, chat and email posts.

Every lead endpoint runs the same course: read the body within its size limit, check the
signature when one is configured, normalize (pure), publish, and answer success only once the
broker acknowledged (`LeadPublisher`). Bad input is a problem+json 4xx naming the field; a
broker that does not acknowledge in time is 503 with Retry-After. Logs carry lead ids, reasons
and field names, never the person's data.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.ingest.chat import normalize_chat
from services.ingest.email_mime import normalize_email_message
from services.ingest.forms import (
    FormSubmission,
    normalize_form,
    parse_json_object,
    parse_urlencoded,
)
from services.ingest.http_body import media_type, multipart_form, read_body
from services.ingest.mailgun import normalize_mailgun
from services.ingest.metrics import IngestMetrics
from services.ingest.problems import (
    Problem,
    Refused,
    bad_signature,
    invalid_lead,
    response,
    routing_problem,
    unknown_form,
)
from services.ingest.problems import unsupported as unsupported_problem
from services.ingest.publisher import BrokerUnavailable, Publishing
from services.ingest.rejection import InvalidLead
from services.ingest.settings import IngestSettings
from services.ingest.signatures import verify_form, verify_hub, verify_mailgun, verify_twilio
from services.ingest.twilio_sms import normalize_twilio
from services.leads.events import Attachment, Channel, Lead
from services.streaming.records import Clock

log = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MULTIPART = "multipart/form-data"
RFC822 = "message/rfc822"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
FORM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


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

    def asgi(self) -> Starlette:
        lead_routes = [
            ("/v1/leads/forms/{form_id}", Channel.FORM, self._form, accepted_response),
            ("/v1/leads/sms/twilio", Channel.SMS, self._twilio, twiml_response),
            ("/v1/leads/chat", Channel.CHAT, self._chat, accepted_response),
            ("/v1/leads/email", Channel.EMAIL, self._email, accepted_response),
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

    # -- channels --------------------------------------------------------------------------
    async def _form(self, request: Request) -> Lead:
        form_id = str(request.path_params["form_id"])
        config = self.settings.forms.get(form_id)
        if not FORM_ID.match(form_id) or (
            config is None and not self.settings.allow_unconfigured_forms
        ):
            raise Refused(unknown_form())
        body = await read_body(request, self.settings.form_max_bytes)
        if config is not None and config.secret is not None:
            problem = verify_form(
                config.secret.get_secret_value(),
                request.headers.get("x-leadrouter-signature"),
                body,
                self.clock.now_ms() // 1000,
                self.settings.signature_window_s,
            )
            if problem is not None:
                raise Refused(bad_signature(problem))
        kind = media_type(request)
        attachments: tuple[Attachment, ...] = ()
        if kind == FORM:
            fields = parse_urlencoded(body)
        elif kind == JSON:
            fields = parse_json_object(body)
        elif kind == MULTIPART:
            fields, attachments = await multipart_form(request, body, self.settings.form_max_bytes)
        else:
            raise Refused(unsupported_problem(kind, (FORM, JSON, MULTIPART)))
        return normalize_form(
            FormSubmission(
                form_id=form_id,
                fields=fields,
                received_at_ms=self.clock.now_ms(),
                idempotency_key=request.headers.get("idempotency-key"),
                accept_language=request.headers.get("accept-language"),
                honeypot_field=config.honeypot if config is not None else None,
                attachments=attachments,
            )
        )

    async def _twilio(self, request: Request) -> Lead:
        body = await read_body(request, self.settings.form_max_bytes)
        if media_type(request) != FORM:
            raise Refused(unsupported_problem(media_type(request), (FORM,)))
        params = parse_urlencoded(body)
        token = self.settings.twilio_auth_token
        if token is not None:
            problem = verify_twilio(
                token.get_secret_value(),
                request.headers.get("x-twilio-signature"),
                self._public_url(request),
                params,
            )
            if problem is not None:
                raise Refused(bad_signature(problem))
        return normalize_twilio(params, self.clock.now_ms())

    async def _chat(self, request: Request) -> Lead:
        body = await read_body(request, self.settings.form_max_bytes)
        if media_type(request) != JSON:
            raise Refused(unsupported_problem(media_type(request), (JSON,)))
        secret = self.settings.chat_secret
        if secret is not None:
            problem = verify_hub(
                secret.get_secret_value(), request.headers.get("x-hub-signature-256"), body
            )
            if problem is not None:
                raise Refused(bad_signature(problem))
        return normalize_chat(body, self.clock.now_ms())

    async def _email(self, request: Request) -> Lead:
        body = await read_body(request, self.settings.email_max_bytes)
        kind = media_type(request)
        if kind == RFC822:
            recipient = request.query_params.get("recipient")
            return normalize_email_message(body, recipient, self.clock.now_ms())
        if kind == MULTIPART:
            fields, attachments = await multipart_form(request, body, self.settings.email_max_bytes)
        elif kind == FORM:  # Mailgun posts urlencoded when the mail has no attachments
            fields, attachments = parse_urlencoded(body), ()
        else:
            raise Refused(unsupported_problem(kind, (RFC822, MULTIPART, FORM)))
        key = self.settings.mailgun_signing_key
        if key is not None:
            values = dict(reversed(fields))  # the first of a repeated name wins
            problem = verify_mailgun(
                key.get_secret_value(),
                values.get("timestamp"),
                values.get("token"),
                values.get("signature"),
                now_s=self.clock.now_ms() // 1000,
                window_s=self.settings.signature_window_s,
            )
            if problem is not None:
                raise Refused(bad_signature(problem))
        return normalize_mailgun(fields, attachments, self.clock.now_ms())

    def _public_url(self, request: Request) -> str:
        """The URL as Twilio requested it: the configured public base, else as it arrived."""
        base = self.settings.public_base_url
        if base is None:
            return str(request.url)
        query = request.url.query
        return base.rstrip("/") + request.url.path + (f"?{query}" if query else "")

    # -- probes ----------------------------------------------------------------------------
    async def _healthz(self, _: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def _readyz(self, _: Request) -> Response:
        if await self.publisher.ready():
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "broker unreachable"}, status_code=503)
