"""Twilio's inbound-message webhook (form-encoded) to a `Lead`.

`MessageSid` is the message id, `From` the person's number (E.164, or `whatsapp:+…`), `To` our
number (the lead's source), `Body` the text, `FromCountry`/`FromState` Twilio's geo lookup.
Every other parameter (AccountSid, NumMedia, MediaUrl0, FromCity, …) is kept as an attribute.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.ingest.lead_fields import Envelope, build_lead
from services.ingest.rejection import InvalidLead
from services.leads.events import Channel, Lead

MAPPED = frozenset({"MessageSid", "SmsMessageSid", "SmsSid", "From", "To", "Body", "FromState"})
TRANSPORT_PREFIXES = ("whatsapp:", "messenger:", "rcs:")
PARAMETERS = {"phone": "From", "message": "Body", "region": "FromState"}
"""A refused lead field named as the Twilio parameter it came from."""


def normalize_twilio(params: Iterable[tuple[str, str]], received_at_ms: int) -> Lead:
    values: dict[str, str] = {}
    rest: list[tuple[str, str]] = []
    for name, value in params:
        if name in MAPPED or name == "FromCountry":
            values.setdefault(name, value)
        else:
            rest.append((name, value))
    sid = (values.get("MessageSid") or values.get("SmsMessageSid") or "").strip()
    if not sid:
        raise InvalidLead("MessageSid", "is missing", "Twilio's message id (SM…)", "missing_field")
    sender = values.get("From", "").strip()
    if not sender:
        raise InvalidLead("From", "is missing", "the sender's phone number", "missing_field")
    transport = "sms"
    for prefix in TRANSPORT_PREFIXES:
        if sender.lower().startswith(prefix):
            transport, sender = prefix[:-1], sender[len(prefix) :]
    to = values.get("To", "").strip()
    for prefix in TRANSPORT_PREFIXES:
        to = to.removeprefix(prefix)
    envelope = Envelope(
        channel=Channel.SMS,
        source=to[:64] or "twilio",
        source_message_id=sid[:200],
        received_at_ms=received_at_ms,
        country_hint=values.get("FromCountry"),
        extra={"transport": transport, "provider": "twilio"},
    )
    fields = [
        ("phone", sender),
        ("message", values.get("Body", "")),
        ("region", values.get("FromState", "")),
    ]
    try:
        return build_lead(envelope, fields, attributes=rest)
    except InvalidLead as exc:
        if exc.field in PARAMETERS:
            raise InvalidLead(PARAMETERS[exc.field], exc.problem, exc.expected,
                              exc.reason) from None  # fmt: skip
        raise
