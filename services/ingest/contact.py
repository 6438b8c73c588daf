"""Field normalizers shared by every channel: email, phone, names, country, language, text.

Each takes the raw value and the name of the field it came from (so an error names it), returns
the normalized value or None for a blank one, and raises only `InvalidLead`.
"""

from __future__ import annotations

import math
import re
import unicodedata

import phonenumbers
import pycountry

from services.ingest.rejection import InvalidLead

MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 200
MAX_SHORT_FIELD = 500
"""Company, product, campaign, region and attribute values are cut to this many characters."""

_LOCAL_PART = re.compile(r"^[^\s<>()\[\]\\,;:@\"]+$")
"""Dot-atom text, internationalized (RFC 6531 allows UTF-8 in the local part)."""
_DOMAIN_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_LANGUAGE_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*$")


def unicode_text(value: str, field: str) -> str:
    """`value` unchanged when it can be written as UTF-8. A lone surrogate (JSON's "\\ud800", an
    undecodable byte in a mail header) cannot be, anywhere downstream: refused, naming `field`."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidLead(
                field, "is not valid Unicode text (it holds a lone surrogate)", "UTF-8 text"
            ) from None
    return value


def clean(value: str | None, limit: int = MAX_SHORT_FIELD) -> str | None:
    """Trim whitespace, drop control characters, collapse blanks to None, cut to `limit`."""
    if value is None:
        return None
    text = value if _nothing_to_blank(value) else _blank_controls(value)
    text = text.strip()
    return text[:limit] if text else None


def _nothing_to_blank(value: str) -> bool:
    """True when no character but newline and tab is Unicode "Other": the common case, at C speed.

    `str.isprintable` is False exactly for "Other" and "Separator" characters other than the
    ASCII space, so a True answer (with the kept newline and tab taken out) proves there is
    nothing to replace; a False one only sends the value to the per-character pass."""
    return value.isprintable() or value.replace("\n", "").replace("\t", "").isprintable()


def _blank_controls(value: str) -> str:
    return "".join(
        ch if unicodedata.category(ch)[0] != "C" or ch in "\n\t" else " " for ch in value
    )


def normalize_email(raw: str | None, field: str = "email") -> str | None:
    value = clean(raw, limit=10 * MAX_EMAIL_LENGTH)
    if value is None:
        return None
    value = value.lower().removeprefix("mailto:").strip()
    expected = "an address like name@example.com"
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        raise InvalidLead(field, "not an email address (no local part or domain)", expected)
    if len(value) > MAX_EMAIL_LENGTH:
        raise InvalidLead(field, f"longer than {MAX_EMAIL_LENGTH} characters", expected)
    if not _LOCAL_PART.match(local) or local.startswith(".") or ".." in local:
        raise InvalidLead(field, "the part before @ has characters an address cannot", expected)
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidLead(field, "the domain is not a valid host name", expected) from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise InvalidLead(field, "the domain is not a valid host name", expected)
    return f"{local}@{ascii_domain}"


def normalize_phone(raw: str | None, field: str = "phone", region: str | None = None) -> str | None:
    """E.164; a national number needs `region` (ISO alpha-2) to say which country it is in."""
    value = clean(raw, limit=64)
    if value is None:
        return None
    value = value.removeprefix("tel:")
    expected = "an international number like +49 30 1234567, or a national one with a country"
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise InvalidLead(field, "not a phone number", expected) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidLead(field, "not a valid number for its country", expected)
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def phone_country(e164: str | None) -> str | None:
    """The ISO alpha-2 country an E.164 number belongs to, when the number says."""
    if e164 is None:
        return None
    region = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
    return region if isinstance(region, str) and len(region) == 2 and region != "ZZ" else None


def split_name(full: str | None) -> tuple[str | None, str | None]:
    """ "Ada Lovelace" -> ("Ada", "Lovelace"); "Lovelace, Ada" -> ("Ada", "Lovelace")."""
    value = clean(full, limit=MAX_NAME_LENGTH)
    if value is None:
        return None, None
    value = " ".join(value.strip("\"'").split())
    if "," in value:
        last, _, first = value.partition(",")
        return clean(first, MAX_NAME_LENGTH), clean(last, MAX_NAME_LENGTH)
    first, _, last = value.partition(" ")
    return clean(first, MAX_NAME_LENGTH), clean(last, MAX_NAME_LENGTH)


def normalize_country(raw: str | None, field: str = "country") -> str | None:
    """ISO 3166-1 alpha-2 from an alpha-2 or alpha-3 code or an English country name."""
    value = clean(raw, limit=100)
    if value is None:
        return None
    if value.upper() == "UK":
        return "GB"  # common usage, not an ISO code
    try:
        country = pycountry.countries.lookup(value)
    except LookupError:
        raise InvalidLead(
            field, f"{value!r} is not a known country", "an ISO 3166-1 code or an English name"
        ) from None
    return str(country.alpha_2)


def normalize_language(raw: str | None, field: str = "language") -> str | None:
    """The primary subtag, lower case ("de-AT" -> "de"); an Accept-Language list's first entry."""
    value = clean(raw, limit=200)
    if value is None:
        return None
    first = value.split(",")[0].split(";")[0].strip()
    match = _LANGUAGE_TAG.match(first)
    expected = "a language tag like en, de-AT or pt_BR"
    if first == "*":
        return None
    if match is None:
        raise InvalidLead(field, f"{first[:40]!r} is not a language tag", expected)
    primary = match.group(1).lower()
    if len(primary) == 3:
        language = pycountry.languages.get(alpha_3=primary) or pycountry.languages.get(
            bibliographic=primary
        )
        if language is None:
            raise InvalidLead(field, f"{primary!r} is not a known language", expected)
        return str(getattr(language, "alpha_2", primary))
    if pycountry.languages.get(alpha_2=primary) is None:
        raise InvalidLead(field, f"{primary!r} is not a known language", expected)
    return primary


def bound_text(raw: str | None, limit: int) -> tuple[str | None, bool]:
    """The text trimmed (lines too) and cut to `limit` characters; True when it was cut."""
    value = clean(raw, limit=len(raw) if raw else 0)
    if value is None:
        return None, False
    lines = (line.rstrip() for line in value.split("\n"))  # format=flowed leaves trailing blanks
    value = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    if len(value) <= limit:
        return value, False
    return value[:limit].rstrip(), True


def _decimal_point(digits: str) -> str:
    """ "1,200.50" and "1.200,50" -> "1200.50"; "1,5" -> "1.5"; "1,200" -> "1200".

    With both separators the last one is the decimal point; a lone comma is a decimal comma
    unless exactly three digits follow it (a thousands separator)."""
    if "," in digits and "." in digits:
        decimal = "," if digits.rfind(",") > digits.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        return digits.replace(thousands, "").replace(decimal, ".")
    if digits.count(",") == 1 and len(digits.partition(",")[2]) != 3:
        return digits.replace(",", ".")
    return digits.replace(",", "")


def normalize_amount(raw: str | None, field: str = "deal_value") -> float | None:
    value = clean(raw, limit=64)
    if value is None:
        return None
    digits = value.replace(" ", "").replace("\u00a0", "").strip("$€£¥")
    try:
        amount = float(_decimal_point(digits))
    except ValueError:
        amount = math.nan
    if not math.isfinite(amount) or amount < 0:
        raise InvalidLead(field, f"{value[:40]!r} is not an amount", "a non-negative number")
    return amount
