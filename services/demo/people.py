"""Made-up prospects for the demo feed (pure: the caller passes the random source).

Names, companies and countries are plausible enough for the router's rules (territories,
products, languages, deal values) to have something to decide on.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

FIRST_NAMES = (
    "Anna", "Jonas", "Léa", "Mateo", "Sofia", "Lukas", "Chloé", "Oliver", "Emma", "Noah",
    "Mia", "Hugo", "Zoë", "Björn", "Aiko", "Rafael", "Ines", "Tomás", "Priya", "Kwame",
)  # fmt: skip
LAST_NAMES = (
    "Müller", "Martin", "García", "Rossi", "Smith", "Nguyen", "Schmidt", "Dubois", "Silva",
    "Jansen", "Kowalski", "O'Brien", "Sato", "Andersson", "Okafor", "Fernández",
)  # fmt: skip
COMPANIES = (
    ("Acme Robotics", "acme-robotics.example"),
    ("Northwind Traders", "northwind.example"),
    ("Globex", "globex.example"),
    ("Initech", "initech.example"),
    ("Umbrella Health", "umbrella-health.example"),
    ("Vandelay Industries", "vandelay.example"),
    ("Stark Logistics", "stark-logistics.example"),
    ("Wayne Foods", "waynefoods.example"),
)
FREE_MAIL = ("gmail.com", "outlook.com", "web.de", "yahoo.fr")
COUNTRIES = (
    ("US", "en", "+1 415 555 01{:02d}"),
    ("GB", "en", "+44 20 7946 00{:02d}"),
    ("DE", "de", "+49 30 9018 20{:02d}"),
    ("FR", "fr", "+33 1 70 36 00 {:02d}"),
    ("ES", "es", "+34 912 345 0{:02d}"),
    ("NL", "nl", "+31 20 794 00{:02d}"),
    ("JP", "ja", "+81 3 1234 00{:02d}"),
    ("BR", "pt", "+55 11 3456 00{:02d}"),
)
"""Country, language, and a phone pattern with a two-digit slot."""
PRODUCTS = ("platform", "analytics", "support", "enterprise")
MESSAGES = (
    "Could someone call me about pricing for {n} seats?",
    "We are evaluating {product} for our team of {n}. Is there a trial?",
    "Interested in a demo of {product} next week.",
    "Please send me a quote for {n} licences.",
)


@dataclass(frozen=True, slots=True)
class Prospect:
    first_name: str
    last_name: str
    email: str
    phone: str
    company: str | None
    country: str
    language: str
    product: str
    message: str
    deal_value: int


def make_prospect(rng: random.Random) -> Prospect:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    country, language, phone_pattern = rng.choice(COUNTRIES)
    ascii_name = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore")
    local = ascii_name.decode().lower().replace("'", "")
    serial = rng.randrange(10_000)
    if rng.random() < 0.7:
        company, domain = rng.choice(COMPANIES)
    else:
        company, domain = None, rng.choice(FREE_MAIL)
    product = rng.choice(PRODUCTS)
    seats = rng.choice((5, 10, 25, 50, 200))
    return Prospect(
        first_name=first,
        last_name=last,
        email=f"{local}{serial}@{domain}",
        phone=phone_pattern.format(serial % 100),
        company=company,
        country=country,
        language=language,
        product=product,
        message=rng.choice(MESSAGES).format(n=seats, product=product),
        deal_value=seats * rng.choice((300, 600, 1200)),
    )
