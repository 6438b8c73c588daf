"""Web forms: an HTML form post (urlencoded) or a JSON object, to a `Lead`.

The submission's id is, in order: a `submission_id` field, the `Idempotency-Key` header, or a
hash of the form id and its fields, so a double-clicked or retried post gives the same lead id.
A configured honeypot field that a person never sees must arrive empty.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qsl

from services.ingest.identity import content_id
from services.ingest.lead_fields import Envelope, build_lead, canonical_key
from services.ingest.rejection import InvalidLead
from services.leads.events import Attachment, Channel, Lead

Fields = tuple[tuple[str, str], ...]
MAX_FIELDS = 200
SUBMISSION_ID_FIELDS = frozenset({"submission_id", "_submission_id"})


@dataclass(frozen=True, slots=True)
class FormSubmission:
    form_id: str
    fields: Fields
    received_at_ms: int
    idempotency_key: str | None = None
    accept_language: str | None = None
    honeypot_field: str | None = None
    attachments: tuple[Attachment, ...] = ()
    """Files of a multipart form: metadata only."""


def parse_urlencoded(body: bytes) -> Fields:
    """`application/x-www-form-urlencoded` in UTF-8, blank values kept, order kept."""
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(
            text, keep_blank_values=True, encoding="utf-8", errors="strict",
            max_num_fields=MAX_FIELDS,
        )  # fmt: skip
    except UnicodeDecodeError:
        raise InvalidLead("body", "is not UTF-8", "a UTF-8 urlencoded form", "malformed") from None
    except ValueError:
        raise InvalidLead(
            "body", f"more than {MAX_FIELDS} fields", "a smaller form", "malformed"
        ) from None
    return tuple(pairs)


def parse_json_object(body: bytes, what: str = "a JSON object of field names to values") -> Fields:
    """A JSON object's members as fields: lists give one field per item, objects stay JSON."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidLead("body", "is not valid JSON", what, "malformed") from None
    if not isinstance(document, dict):
        raise InvalidLead("body", f"is a JSON {type(document).__name__}", what, "malformed")
    fields: list[tuple[str, str]] = []
    for name, value in document.items():
        items = value if isinstance(value, list) else [value]
        fields.extend((name, text) for item in items if (text := json_text(item)) is not None)
    if len(fields) > MAX_FIELDS:
        raise InvalidLead("body", f"more than {MAX_FIELDS} fields", "a smaller form", "malformed")
    return tuple(fields)


def json_text(value: object) -> str | None:
    """A JSON value as a field value: strings as they are, anything else as compact JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    except (ValueError, RecursionError):
        return None


def normalize_form(submission: FormSubmission) -> Lead:
    fields: list[tuple[str, str]] = []
    submission_id = None
    honeypot = canonical_key(submission.honeypot_field) if submission.honeypot_field else None
    for name, value in submission.fields:
        key = canonical_key(name)
        if honeypot is not None and key == honeypot:
            if value.strip():
                raise InvalidLead(
                    name, "the hidden field was filled in", "it to be empty", "honeypot"
                )
        elif key in SUBMISSION_ID_FIELDS:
            submission_id = submission_id or value.strip()[:200] or None
        else:
            fields.append((name, value))
    source_message_id = (
        submission_id
        or (submission.idempotency_key or "").strip()[:200]
        or content_id([submission.form_id, *(part for pair in fields for part in pair)])
    )
    envelope = Envelope(
        channel=Channel.FORM,
        source=submission.form_id,
        source_message_id=f"{submission.form_id}/{source_message_id}",
        received_at_ms=submission.received_at_ms,
        language_hint=submission.accept_language,
        attachments=submission.attachments,
    )
    return build_lead(envelope, fields)
