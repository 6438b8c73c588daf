"""Realistic synthetic leads, the same every run for the same seed.

Field sizes follow what the front doors produce: a normalized email as the identity key, an
E.164 phone, a company and its domain, a short message, UTM fields and a few form attributes.
About one lead in twenty is a repeat of an earlier person, as real traffic has.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from services.leads.events import Channel, Lead
from services.leads.topics import Topic
from services.streaming.cloudevents import ce_headers
from services.streaming.codec import AvroCodec

FIRST = ("Anna", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hiro", "Ines", "Jonas")
LAST = ("Meyer", "Okafor", "Dubois", "Ivanova", "Silva", "Nakamura", "Rossi", "Smith", "Kowalski")
COUNTRIES = ("DE", "US", "GB", "FR", "ES", "NL", "JP", "BR", "IN", "PL")
PRODUCTS = ("crm", "analytics", "support-desk", "telephony")
CAMPAIGNS = ("spring-launch", "webinar-q2", "partner-referral", "retargeting")
MESSAGES = (
    "Hi, we are evaluating tools for a team of about {n} people and would like a demo next week.",
    "Can you send pricing for {n} seats? We need SSO and an EU data location.",
    "Interested in the {p} add-on. Who can I talk to about a pilot?",
)
REPEAT_EVERY = 20


@dataclass(frozen=True, slots=True)
class EncodedLead:
    """One `leads.inbound` record as ingest writes it."""

    lead_id: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


def make_lead(index: int, rng: random.Random, received_at_ms: int) -> Lead:
    """The `index`-th lead; every `REPEAT_EVERY`-th reuses an earlier person's identity."""
    person = rng.randrange(max(1, index)) if index % REPEAT_EVERY == 0 and index else index
    first, last = FIRST[person % len(FIRST)], LAST[person % len(LAST)]
    company = f"Company {person % 5000}"
    domain = f"company{person % 5000}.example"
    email = f"{first.lower()}.{last.lower()}.{person}@{domain}"
    channel = (Channel.FORM, Channel.EMAIL, Channel.CHAT, Channel.SMS)[index % 4]
    message = rng.choice(MESSAGES).format(n=rng.randrange(3, 400), p=rng.choice(PRODUCTS))
    return Lead(
        lead_id=f"bench-{index:09d}",
        identity_key=email,
        channel=channel,
        source=f"bench-{channel.value}",
        source_message_id=f"msg-{index:09d}",
        received_at_ms=received_at_ms,
        email=email,
        phone=f"+49151{person % 10_000_000:07d}",
        first_name=first,
        last_name=last,
        company=company,
        company_domain=domain,
        country=COUNTRIES[person % len(COUNTRIES)],
        language="en",
        product=rng.choice(PRODUCTS),
        deal_value=float(rng.randrange(1_000, 250_000)),
        message=message,
        campaign=rng.choice(CAMPAIGNS),
        page_url=f"https://www.example.com/pricing?ref={index % 97}",
        utm={"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "q2"},
        attributes={"team_size": str(rng.randrange(3, 400)), "form_id": "contact-sales"},
    )


def encoded_leads(
    count: int, seed: int = 7, start_ms: int = 1_780_000_000_000
) -> list[EncodedLead]:
    """`count` leads Avro-encoded with CloudEvents headers, as ingest puts them on the topic."""
    return list(iter_encoded_leads(count, seed, start_ms))


def iter_encoded_leads(count: int, seed: int, start_ms: int) -> Iterator[EncodedLead]:
    codec = AvroCodec(Lead)
    rng = random.Random(seed)
    for index in range(count):
        lead = make_lead(index, rng, start_ms + index)
        headers = ce_headers(
            event_id=lead.lead_id,
            source="bench",
            event_type="io.leadrouter.lead.received",
            time_ms=lead.received_at_ms,
            subject=lead.lead_id,
            schema=Topic.INBOUND.value,
        )
        yield EncodedLead(
            lead.lead_id, lead.identity_key.encode(), codec.encode(lead), tuple(headers)
        )
