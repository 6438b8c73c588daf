"""From named fields to a `Lead`: the mapping every channel's normalizer ends with.

Common field names (and their usual spellings on web forms) fill the lead's fields; `utm_*`
fill `utm`; everything else is kept in `attributes`, never dropped. A lead must have a way to
reach the person: an email, a phone, or a channel id (a chat visitor) to answer on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from services.ingest.contact import (
    MAX_NAME_LENGTH,
    bound_text,
    clean,
    normalize_amount,
    normalize_country,
    normalize_email,
    normalize_language,
    normalize_phone,
    phone_country,
    split_name,
    unicode_text,
)
from services.ingest.free_mail import company_domain
from services.ingest.identity import identity_key, lead_id
from services.ingest.rejection import InvalidLead, LeadTooLarge
from services.leads.events import Attachment, Channel, Lead

MESSAGE_LIMIT = 4000
"""Characters of message text a lead carries; the cut is flagged in `message_truncated`."""
MAX_ATTRIBUTES = 100
MAX_ATTRIBUTE_KEY = 100
MAX_ATTRIBUTE_VALUE = 2000
TRUNCATED = "attributes_truncated"
MAX_UTM = 50
"""`utm_*` entries a lead carries; more is refused (too_large), never silently dropped."""
MAX_ATTACHMENTS = 100
"""Attachments (metadata) a lead carries; more is refused (too_large)."""
MAX_SOURCE = 300
MAX_ATTACHMENT_TEXT = 255
"""An attachment's file name and content type are cut to this many characters."""

ALIASES: Mapping[str, tuple[str, ...]] = {
    "email": ("email", "e_mail", "email_address", "mail", "your_email", "emailaddress"),
    "phone": ("phone", "phone_number", "telephone", "tel", "mobile", "mobile_phone", "cell",
              "your_phone", "phonenumber"),
    "first_name": ("first_name", "firstname", "fname", "given_name", "forename"),
    "last_name": ("last_name", "lastname", "lname", "surname", "family_name"),
    "full_name": ("name", "full_name", "fullname", "your_name", "contact_name"),
    "company": ("company", "company_name", "organization", "organisation", "org", "business"),
    "country": ("country", "country_code", "countrycode"),
    "region": ("region", "state", "province", "county"),
    "language": ("language", "lang", "locale", "preferred_language"),
    "product": ("product", "product_interest", "interest", "service"),
    "deal_value": ("deal_value", "budget", "value", "amount", "estimated_value"),
    "message": ("message", "comments", "comment", "body", "inquiry", "enquiry", "your_message",
                "question", "details", "notes"),
    "campaign": ("campaign", "campaign_name", "campaign_id"),
    "page_url": ("page_url", "page", "url", "landing_page", "source_url"),
}  # fmt: skip
_CANONICAL = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
_KEY_SEPARATORS = re.compile(r"[\s\-.]+")


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the channel knows besides the fields: where, which message, when, which hints."""

    channel: Channel
    source: str
    source_message_id: str
    received_at_ms: int
    language_hint: str | None = None
    """From a header (Accept-Language, Content-Language); a language field wins over it."""
    country_hint: str | None = None
    channel_contact_id: str | None = None
    """An id to answer the person on in the channel itself (a chat visitor): identity fallback."""
    attachments: tuple[Attachment, ...] = ()
    extra: Mapping[str, str] = field(default_factory=dict)
    """Channel metadata kept as attributes (subject, provider ids)."""


@lru_cache(maxsize=4096)  # the same few dozen names arrive all day; bounded against churn
def canonical_key(name: str) -> str:
    """ "Your-Email " -> "your_email": how field names are matched against `ALIASES`."""
    return _KEY_SEPARATORS.sub("_", name.strip().lower()).strip("_")


def build_lead(
    envelope: Envelope,
    fields: Iterable[tuple[str, str]],
    attributes: Iterable[tuple[str, str]] = (),
) -> Lead:
    """The lead for `fields` (name, value pairs matched against `ALIASES`; a repeated name keeps
    every value) and `attributes` (a provider's own parameters: kept as they are, unmatched).

    Every text must be valid Unicode (refused naming its field otherwise), and the counted
    limits hold: `MAX_UTM`, `MAX_ATTACHMENTS`, `MAX_ATTRIBUTES`."""
    _check_envelope(envelope)
    known: dict[str, str] = {}
    utm: dict[str, str] = {}
    kept: dict[str, str] = dict(envelope.extra)
    for name, raw in attributes:
        if value := clean(unicode_text(raw, unicode_text(name, name)), limit=len(raw)):
            _keep(kept, name, value)
    for name, raw in fields:
        value = clean(unicode_text(raw, unicode_text(name, name)), limit=len(raw))
        if value is None:
            continue
        key = canonical_key(name)
        target = _CANONICAL.get(key)
        if target is not None and target not in known:
            known[target] = value
        elif key.startswith("utm_") and len(key) > 4:
            utm_key = key[4:][:MAX_ATTRIBUTE_KEY]
            if utm_key not in utm and len(utm) >= MAX_UTM:
                raise LeadTooLarge(
                    "utm", f"more than {MAX_UTM} utm_ entries", f"at most {MAX_UTM} entries"
                )
            utm[utm_key] = clean(value) or ""
        else:
            _keep(kept, name, value)
    return _lead(envelope, known, utm, kept)


def _check_envelope(envelope: Envelope) -> None:
    if len(envelope.attachments) > MAX_ATTACHMENTS:
        raise LeadTooLarge(
            "attachments",
            f"{len(envelope.attachments)} attachments, more than {MAX_ATTACHMENTS}",
            f"at most {MAX_ATTACHMENTS} attachments",
        )
    for field_name in ("source", "source_message_id", "channel_contact_id"):
        if (value := getattr(envelope, field_name)) is not None:
            unicode_text(value, field_name)
    for name, value in envelope.extra.items():
        unicode_text(value, name)
    for attachment in envelope.attachments:
        unicode_text(attachment.filename or "", "attachments")
        unicode_text(attachment.content_type, "attachments")


def _bounded(attachment: Attachment) -> Attachment:
    filename, kind = attachment.filename, attachment.content_type
    if len(filename or "") <= MAX_ATTACHMENT_TEXT and len(kind) <= MAX_ATTACHMENT_TEXT:
        return attachment
    return Attachment(
        filename=None if filename is None else filename[:MAX_ATTACHMENT_TEXT],
        content_type=kind[:MAX_ATTACHMENT_TEXT],
        size_bytes=attachment.size_bytes,
    )


def _keep(attributes: dict[str, str], name: str, value: str) -> None:
    """Keep a field as an attribute; a repeated name joins its values; an over-long value is
    cut to `MAX_ATTRIBUTE_VALUE` and its name listed in `attributes_truncated`."""
    key = clean(name, limit=MAX_ATTRIBUTE_KEY) or "_"
    if key in attributes:
        value = f"{attributes[key]}, {value}"
    elif len(attributes) >= MAX_ATTRIBUTES:
        raise InvalidLead(
            "body", f"more than {MAX_ATTRIBUTES} fields", "a form with fewer fields",
            reason="malformed",
        )  # fmt: skip
    attributes[key] = value[:MAX_ATTRIBUTE_VALUE]
    listed = [name for name in attributes.get(TRUNCATED, "").split(",") if name]
    if len(value) > MAX_ATTRIBUTE_VALUE and key != TRUNCATED and key not in listed:
        attributes[TRUNCATED] = ",".join([*listed, key])


def _lead(
    envelope: Envelope, known: dict[str, str], utm: dict[str, str], attributes: dict[str, str]
) -> Lead:
    country = normalize_country(known.get("country")) or _hint_country(envelope)
    email = normalize_email(known.get("email"))
    phone = normalize_phone(known.get("phone"), region=country)
    country = country or phone_country(phone)
    first, last = (
        clean(known.get("first_name"), MAX_NAME_LENGTH),
        clean(known.get("last_name"), MAX_NAME_LENGTH),
    )
    if first is None and last is None:
        first, last = split_name(known.get("full_name"))
    elif "full_name" in known:
        attributes.setdefault("name", clean(known["full_name"]) or "")
    key = identity_key(email, phone, envelope.channel_contact_id)
    if key is None:
        raise InvalidLead(
            "email",
            "the lead has no email, no phone and no other way to reach the person",
            "an email address or a phone number",
            reason="unreachable",
        )
    message, truncated = bound_text(known.get("message"), MESSAGE_LIMIT)
    if truncated:
        attributes["message_truncated"] = "true"
    language = normalize_language(known.get("language")) or _hint_language(envelope)
    return Lead(
        lead_id=lead_id(envelope.channel, envelope.source_message_id),
        identity_key=key,
        channel=envelope.channel,
        source=envelope.source[:MAX_SOURCE],
        source_message_id=envelope.source_message_id,
        received_at_ms=envelope.received_at_ms,
        email=email,
        phone=phone,
        first_name=first,
        last_name=last,
        company=clean(known.get("company")),
        company_domain=company_domain(email),
        country=country,
        region=clean(known.get("region")),
        language=language,
        product=clean(known.get("product")),
        deal_value=normalize_amount(known.get("deal_value")),
        message=message,
        campaign=clean(known.get("campaign")) or utm.get("campaign"),
        page_url=clean(known.get("page_url"), limit=2000),
        utm=utm,
        attributes=attributes,
        attachments=tuple(_bounded(attachment) for attachment in envelope.attachments),
    )


def _hint_country(envelope: Envelope) -> str | None:
    """A provider's country guess (Twilio's FromCountry) is a hint, like a header's language."""
    try:
        return normalize_country(envelope.country_hint, field="country_hint")
    except InvalidLead:
        return None


def _hint_language(envelope: Envelope) -> str | None:
    """A header's language is a hint: an unreadable one is ignored, not a reason to refuse."""
    try:
        return normalize_language(envelope.language_hint, field="language_hint")
    except InvalidLead:
        return None
