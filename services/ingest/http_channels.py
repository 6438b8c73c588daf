"""Each HTTP channel's request read into a `Lead`: body within its limit, media type, the
provider's signature when a secret is configured, then the channel's pure normalizer.

A request that cannot become a lead raises `Refused` (a problem naming the field or header)
or `InvalidLead` (from the normalizer); `IngestApp` turns either into a 4xx. A body over
`OFF_LOOP_BYTES` is normalized on a worker thread, so a large mail does not hold every other
request on the event loop while it is parsed.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from functools import partial

from starlette.requests import Request

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
from services.ingest.problems import Refused, bad_signature, unknown_form
from services.ingest.problems import unsupported as unsupported_problem
from services.ingest.settings import IngestSettings
from services.ingest.signatures import (
    SignatureProblem,
    verify_form,
    verify_hub,
    verify_mailgun,
    verify_twilio,
)
from services.ingest.twilio_sms import normalize_twilio
from services.leads.events import Attachment, Lead
from services.streaming.records import Clock

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MULTIPART = "multipart/form-data"
RFC822 = "message/rfc822"
FORM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
OFF_LOOP_BYTES = 64 * 1024
SIGNATURE_HEADER = "x-leadrouter-signature"


async def normalized(body: bytes, normalize: Callable[[], Lead]) -> Lead:
    """`normalize()`, on a worker thread when `body` is large enough to stall the loop."""
    if len(body) > OFF_LOOP_BYTES:
        return await asyncio.to_thread(normalize)
    return normalize()


class ChannelReaders:
    """One `async (request) -> Lead` per channel, over the service's settings and clock."""

    def __init__(self, settings: IngestSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    async def form(self, request: Request) -> Lead:
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
                request.headers.get(SIGNATURE_HEADER),
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
        signed = config is not None and config.secret is not None
        submission = FormSubmission(
            form_id=form_id,
            fields=fields,
            received_at_ms=self.clock.now_ms(),
            # The signature covers the body, not this header: on a signed form it would let a
            # replay inside the window pass as a new submission, so only the body names one.
            idempotency_key=None if signed else request.headers.get("idempotency-key"),
            accept_language=request.headers.get("accept-language"),
            honeypot_field=config.honeypot if config is not None else None,
            attachments=attachments,
        )
        return await normalized(body, partial(normalize_form, submission))

    async def twilio(self, request: Request) -> Lead:
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
        return await normalized(body, partial(normalize_twilio, params, self.clock.now_ms()))

    async def chat(self, request: Request) -> Lead:
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
        return await normalized(body, partial(normalize_chat, body, self.clock.now_ms()))

    async def email(self, request: Request) -> Lead:
        body = await read_body(request, self.settings.email_max_bytes)
        kind = media_type(request)
        if kind == RFC822:
            self._authenticate_raw_mime(request, body)
            recipient = request.query_params.get("recipient")
            now_ms = self.clock.now_ms()
            return await normalized(body, partial(normalize_email_message, body, recipient, now_ms))
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
        return await normalized(
            body, partial(normalize_mailgun, fields, attachments, self.clock.now_ms())
        )

    def _authenticate_raw_mime(self, request: Request, body: bytes) -> None:
        """With `INGEST_EMAIL_SECRET`, a raw MIME post is signed as a form post is; without it
        but with a Mailgun key, the door is closed to raw MIME (only signed Mailgun posts)."""
        secret = self.settings.email_secret
        if secret is not None:
            problem = verify_form(
                secret.get_secret_value(),
                request.headers.get(SIGNATURE_HEADER),
                body,
                self.clock.now_ms() // 1000,
                self.settings.signature_window_s,
            )
        elif self.settings.mailgun_signing_key is not None:
            problem = SignatureProblem(
                "X-Leadrouter-Signature",
                "raw MIME posts are closed: INGEST_MAILGUN_SIGNING_KEY is set and "
                "INGEST_EMAIL_SECRET is not",
            )
        else:
            return
        if problem is not None:
            raise Refused(bad_signature(problem))

    def _public_url(self, request: Request) -> str:
        """The URL as Twilio requested it: the configured public base, else as it arrived."""
        base = self.settings.public_base_url
        if base is None:
            return str(request.url)
        query = request.url.query
        return base.rstrip("/") + request.url.path + (f"?{query}" if query else "")
