"""A raw RFC 5322 message (SMTP DATA, or a `message/rfc822` post) to a `Lead`.

The person is `Reply-To` when present (forms that mail from a no-reply address set it), else
`From`. The text is the `text/plain` body, else the HTML body converted to text. Attachments
keep their metadata (file name, type, decoded size); their bodies are not stored. The message
id is `Message-ID`, else a hash of the raw bytes, so a re-delivered mail keeps its lead id.

Two readings, one result. The standard library's `policy.default` parses every header into
structured objects whenever one is looked at, which made a one-part mail cost about 2 ms. A
mail that is a single text/plain or text/html part with plain Content-Type and
Content-Transfer-Encoding headers (what form mailers and most scripts send) is therefore read
with `policy.compat32`, and only the headers the lead uses are decoded, by `policy.default`'s
own header code, so the values are the same. Anything else (multipart, attachments, unusual
parameters) takes the full `policy.default` reading.
"""

from __future__ import annotations

import email.errors
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses

from services.ingest.contact import clean
from services.ingest.html_text import html_to_text
from services.ingest.identity import content_id
from services.ingest.lead_fields import Envelope, build_lead
from services.ingest.rejection import InvalidLead, LeadTooLarge
from services.leads.events import Attachment, Channel, Lead

PARSE_ERRORS = (
    email.errors.MessageError,
    ValueError,
    LookupError,
    TypeError,
    AttributeError,
    UnicodeError,
)
"""The stdlib parser's header folding and charset code raise these on malformed input."""
EXPECTED = "an RFC 5322 message with a From header"
MAX_DEPTH = 20
"""MIME nesting a lead's mail may have; real mail nests three or four levels."""
MAX_PARTS = 250
"""MIME parts a lead's mail may have: room for the attachments a lead may carry (100), their
alternatives and wrappers. Checked before any part is decoded, so a flood costs one parse."""
ENVELOPE_FIELDS = {"email": "From", "source": "To", "source_message_id": "Message-ID"}
"""A refused lead field named as the header it came from."""
_PARSER = BytesParser(policy=policy.default)
_PLAIN_PARSER = BytesParser(policy=policy.compat32)
_HEADERS = ("from", "reply-to", "to", "subject", "date", "message-id", "content-language")
_SIMPLE_TYPE = re.compile(r'text/(plain|html)(?:; ?charset="?([A-Za-z0-9_.:-]+)"?)?', re.I)
_SIMPLE_ENCODING = re.compile(r"7bit|8bit|binary|quoted-printable|base64", re.I)


@dataclass(frozen=True, slots=True)
class _Content:
    """What a lead takes from a mail, however it was read."""

    headers: dict[str, str | None]
    body: str | None
    attachments: tuple[Attachment, ...]


def sender(from_value: str | None, reply_to: str | None) -> tuple[str | None, str | None]:
    """(address, display name) of who to answer: Reply-To's first address, else From's."""
    for value in (reply_to, from_value):
        if not value:
            continue
        for name, address in getaddresses([value]):
            if "@" in address:
                return address, name or None
    return None, None


def normalize_email_message(raw: bytes, recipient: str | None, received_at_ms: int) -> Lead:
    """`recipient` is the address it was sent to (SMTP RCPT), else the To header is used."""
    try:
        content = one_text_part(raw) or whole_mime(raw)
    except RecursionError:  # the parser recurses per nesting level, before _check_shape runs
        raise InvalidLead("body", f"nests MIME parts more than {MAX_DEPTH} levels deep",
                          EXPECTED, "malformed") from None  # fmt: skip
    except PARSE_ERRORS as exc:
        raise InvalidLead("body", f"cannot be parsed ({type(exc).__name__})", EXPECTED,
                          "malformed") from None  # fmt: skip
    headers, body, attachments = content.headers, content.body, content.attachments
    address, name = sender(headers["from"], headers["reply-to"])
    if address is None:
        raise InvalidLead("From", "has no email address", EXPECTED, "missing_field")
    source = recipient or (sender(headers["to"], None)[0]) or "email"
    extra = {k: v for k in ("subject", "date") if (v := clean(headers[k]))}
    message_id = (headers["message-id"] or "").strip()[:300] or content_id([raw])
    envelope = Envelope(
        channel=Channel.EMAIL,
        source=source.lower(),
        source_message_id=message_id,
        received_at_ms=received_at_ms,
        language_hint=headers["content-language"],
        attachments=attachments,
        extra=extra,
    )
    try:
        return build_lead(envelope, [("email", address), ("full_name", name or ""),
                                     ("message", body or "")])  # fmt: skip
    except InvalidLead as exc:
        if exc.field in ENVELOPE_FIELDS:
            raise InvalidLead(ENVELOPE_FIELDS[exc.field], exc.problem, exc.expected,
                              exc.reason) from None  # fmt: skip
        raise


def whole_mime(raw: bytes) -> _Content:
    """Any mail, read with `policy.default`: multipart, attachments, every header form."""
    message = _PARSER.parsebytes(raw)
    _check_shape(message)
    return _Content(
        headers={name: _header(message, name) for name in _HEADERS},
        body=_body_text(message),
        attachments=tuple(_attachments(message)),
    )


def one_text_part(raw: bytes) -> _Content | None:
    """A one-part text mail read cheaply, exactly as `whole_mime` reads it; None for any other.

    Only headers whose every form `whole_mime` reads the same way qualify: Content-Type absent
    or `text/plain` / `text/html` with at most a plain charset, a plain transfer encoding, and
    no Content-Disposition (so the part is the body, never an attachment)."""
    message = _PLAIN_PARSER.parsebytes(raw)
    first: dict[str, str] = {}
    for name, value in message.raw_items():
        first.setdefault(name.lower(), value)
    content_type = first.get("content-type", "text/plain")
    kind = _SIMPLE_TYPE.fullmatch(content_type)
    encoding = first.get("content-transfer-encoding", "7bit")
    if (
        message.is_multipart()
        or kind is None
        or not _SIMPLE_ENCODING.fullmatch(encoding)
        or "content-disposition" in first
    ):
        return None
    headers = {  # first, as whole_mime does: a mail bad twice over fails the same way
        name: str(policy.default.header_fetch_parse(name, first[name])) if name in first else None
        for name in _HEADERS
    }
    payload = message.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return None
    text = payload.decode(kind.group(2) or "ASCII", errors="replace")  # as get_content does
    body = html_to_text(text) if kind.group(1).lower() == "html" else text
    return _Content(headers=headers, body=body, attachments=())


def _check_shape(message: EmailMessage) -> None:
    """Refuse a mail nested deeper than `MAX_DEPTH` or with more than `MAX_PARTS` parts, before
    the recursive walks (`walk`, `get_body`) and any decoding run over it."""
    stack: list[tuple[Message, int]] = [(message, 1)]
    parts = 0
    while stack:
        part, depth = stack.pop()
        parts += 1
        if depth > MAX_DEPTH:
            raise InvalidLead("body", f"nests MIME parts more than {MAX_DEPTH} levels deep",
                              EXPECTED, "malformed")  # fmt: skip
        if parts > MAX_PARTS:
            raise LeadTooLarge(
                "body", f"has more than {MAX_PARTS} MIME parts", f"at most {MAX_PARTS} parts"
            )
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack.extend((child, depth + 1) for child in payload if isinstance(child, Message))


def _header(message: EmailMessage, name: str) -> str | None:
    value = message.get(name)
    return None if value is None else str(value)


def _body_text(message: EmailMessage) -> str | None:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return None
    content = part.get_content()
    if not isinstance(content, str):
        return None
    return html_to_text(content) if part.get_content_subtype() == "html" else content


def _attachments(message: EmailMessage) -> list[Attachment]:
    found = []
    for part in message.walk():
        if part.is_multipart() or not _is_attachment(part):
            continue
        payload = part.get_payload(decode=True)
        found.append(
            Attachment(
                filename=(part.get_filename() or None),
                content_type=part.get_content_type(),
                size_bytes=len(payload) if isinstance(payload, bytes) else 0,
            )
        )
    return found


def _is_attachment(part: Message) -> bool:
    if isinstance(part, EmailMessage) and part.is_attachment():
        return True
    return part.get_filename() is not None and part.get_content_maintype() != "text"
