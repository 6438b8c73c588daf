from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ingest.email_mime import (
    PARSE_ERRORS,
    normalize_email_message,
    one_text_part,
    whole_mime,
)
from services.ingest.rejection import InvalidLead
from services.leads.events import Attachment, Channel
from tests.unit.ingest.payloads import NOW_MS, fixture, make_email


def test_thunderbird_multipart_mail_with_html_part_and_attachment() -> None:
    lead = normalize_email_message(fixture("thunderbird_multipart.eml"), None, NOW_MS)
    assert lead.channel is Channel.EMAIL
    assert lead.source == "sales@example-saas.com"
    assert lead.source_message_id == "<9b1f3c2e-5d7a-4e11-8c0a-2f6b4d9e1a73@kowalski-logistyka.pl>"
    assert lead.email == "marta.kowalska@kowalski-logistyka.pl"
    assert (lead.first_name, lead.last_name) == ("Marta", "Kowalska")
    assert lead.company_domain == "kowalski-logistyka.pl"
    assert lead.language == "pl"
    assert lead.message is not None
    assert lead.message.startswith("Dzień dobry,\n\nprosimy o ofertę dla 25 handlowców.")
    assert "<p>" not in lead.message
    assert lead.attributes["subject"] == "Zapytanie ofertowe \u2013 routing leadów"
    assert lead.attachments == (
        Attachment(
            filename="wymagania-routing.pdf", content_type="application/pdf", size_bytes=210
        ),
    )


def test_html_only_mail_is_converted_to_text_and_reply_to_is_the_person() -> None:
    lead = normalize_email_message(
        fixture("outlook_html_only.eml"), "leads@example-saas.com", NOW_MS
    )
    assert (
        lead.message
        == "Hi there,\n\nCould you send a quote for 10 seats? We are in Dublin.\n\nThanks,\nSeán"
    )
    assert lead.email == "sean@obrien-consulting.ie"
    assert (lead.first_name, lead.last_name) == ("Seán", "O'Brien")
    assert lead.attributes["subject"] == "Quote request \u2013 10 seats"
    assert lead.language == "en"


def test_envelope_recipient_is_the_source() -> None:
    lead = normalize_email_message(make_email(), "Sales@Example.com", NOW_MS)
    assert lead.source == "sales@example.com"


def test_message_without_message_id_gets_a_stable_id_from_its_bytes() -> None:
    first = normalize_email_message(make_email(body="one"), None, NOW_MS)
    again = normalize_email_message(make_email(body="one"), None, NOW_MS + 1)
    other = normalize_email_message(make_email(body="two"), None, NOW_MS)
    assert first.lead_id == again.lead_id != other.lead_id
    assert first.source_message_id.startswith("sha256:")


def test_mail_without_a_sender_address_is_refused_naming_from() -> None:
    with pytest.raises(InvalidLead) as refused:
        normalize_email_message(make_email(sender="undisclosed"), None, NOW_MS)
    assert (refused.value.field, refused.value.reason) == ("From", "missing_field")


def test_bytes_that_are_not_mail_are_refused() -> None:
    with pytest.raises(InvalidLead):
        normalize_email_message(b"\x00\xff garbage", None, NOW_MS)


# -- the one-part reading gives what the full MIME reading gives --------------------------------

SENDERS = st.sampled_from(
    [
        "Ada Lovelace <ada@example.com>",
        "=?utf-8?q?Sof=C3=ADa_Garc=C3=ADa?= <sofia@example.es>",
        '"Lovelace, Ada" <ada@example.com>',
        "ada@example.com (Ada)",
        "=?iso-8859-1?b?U2XhbiBPJ0JyaWVu?= <sean@example.ie>, other@example.com",
        "undisclosed",
        "Sean O'Brien\r\n <sean@example.ie>",
        "M\xfcller <mueller@example.de>",
        "M\udcfcller <mueller@example.de>",  # a raw Latin-1 byte, as old mailers send
        "<broken@",
    ]
)
SUBJECTS = st.sampled_from(
    ["Hi", "=?utf-8?q?Zapytanie_=E2=80=93_lead=C3=B3w?=", "two\r\n words", "caf\xe9", ""]
)
CONTENT_TYPES = st.sampled_from(
    [
        None,
        "text/plain",
        'text/plain; charset="utf-8"',
        "text/plain; charset=iso-8859-1",
        "TEXT/HTML; charset=utf-8",
        "text/html",
        "text/plain; charset=no-such-charset",
        "text/plain; format=flowed",
        "text/plain;\r\n charset=utf-8",
        'text/plain; name="notes.txt"',
        "application/octet-stream",
        "text/csv",
    ]
)
ENCODINGS = st.sampled_from([None, "7bit", "8bit", "Quoted-Printable", "base64", "x-unknown"])
BODIES = st.sampled_from(
    [
        b"Hello,\r\nplease call me.\r\n",
        b"<p>Hello <b>there</b></p><script>x()</script>",
        "Dzie\u0144 dobry".encode(),
        b"caf\xe9 =C3=A9 au lait",
        b"SGVsbG8sIHdvcmxkIQ==",
        b"",
    ]
)


@given(
    sender=SENDERS,
    reply_to=st.none() | SENDERS,
    subject=SUBJECTS,
    content_type=CONTENT_TYPES,
    encoding=ENCODINGS,
    disposition=st.sampled_from([None, "inline", 'attachment; filename="a.txt"']),
    language=st.sampled_from([None, "de-AT", "pl"]),
    message_id=st.sampled_from([None, "<m1@example.com>", " <folded@example.com>"]),
    body=BODIES,
)
def test_one_part_reading_matches_the_full_reading(
    *,
    sender: str,
    reply_to: str | None,
    subject: str,
    content_type: str | None,
    encoding: str | None,
    disposition: str | None,
    language: str | None,
    message_id: str | None,
    body: bytes,
) -> None:
    headers = [("From", sender), ("To", "leads@example.com"), ("Subject", subject)]
    optional = [
        ("Reply-To", reply_to),
        ("Content-Type", content_type),
        ("Content-Transfer-Encoding", encoding),
        ("Content-Disposition", disposition),
        ("Content-Language", language),
        ("Message-ID", message_id),
        ("Date", "Thu, 28 May 2026 20:26:40 +0000"),
    ]
    headers += [(name, value) for name, value in optional if value is not None]
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    raw = head.encode("utf-8", "surrogateescape") + b"\r\n" + body
    assert read(one_text_part, raw) in (None, read(whole_mime, raw))


def read(reading: Callable[[bytes], object], raw: bytes) -> object:
    """The reading's result, or the type of what it raised (both must fail alike)."""
    try:
        return reading(raw)
    except PARSE_ERRORS as exc:
        return type(exc)


def test_a_plain_one_part_mail_takes_the_cheap_reading() -> None:
    raw = fixture("outlook_html_only.eml")
    assert one_text_part(make_email()) == whole_mime(make_email())
    assert one_text_part(raw) is None or one_text_part(raw) == whole_mime(raw)
    assert one_text_part(fixture("thunderbird_multipart.eml")) is None
