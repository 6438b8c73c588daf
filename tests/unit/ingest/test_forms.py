from __future__ import annotations

import pytest

from services.ingest.forms import normalize_form, parse_json_object, parse_urlencoded
from services.ingest.rejection import InvalidLead
from services.leads.events import Channel
from tests.unit.ingest.payloads import NOW_MS, fixture, make_submission


def test_html_form_post_with_utf8_names_becomes_a_complete_lead() -> None:
    fields = parse_urlencoded(fixture("html_form_utf8.form"))
    lead = normalize_form(make_submission().__class__("contact", fields, NOW_MS))
    assert lead.channel is Channel.FORM
    assert lead.source == "contact"
    assert (lead.first_name, lead.last_name) == ("Zoë", "Müller-Lüdenscheidt")
    assert lead.email == "zoe.mueller@xn--bckerei-beispiel-vnb.de"
    assert lead.identity_key == lead.email
    assert lead.phone == "+49301234567"
    assert lead.country == "DE"
    assert lead.company == "Bäckerei Beispiel GmbH"
    assert lead.company_domain == "xn--bckerei-beispiel-vnb.de"
    assert lead.product == "enterprise"
    assert lead.message == "Wir möchten 12 Filialen anbinden. Bitte um Rückruf."
    assert lead.utm == {"source": "newsletter", "medium": "email", "campaign": "herbst-2026"}
    assert lead.campaign == "herbst-2026"
    assert lead.attributes == {"newsletter_opt_in": "yes", "interests": "routing, sla"}
    assert lead.received_at_ms == NOW_MS


def test_unknown_fields_are_kept_as_attributes_never_dropped() -> None:
    lead = normalize_form(make_submission(email="a@example.com", shoe_size="44", Referrer="x"))
    assert lead.attributes == {"shoe_size": "44", "Referrer": "x"}


def test_same_submission_posted_twice_has_the_same_lead_id() -> None:
    first = normalize_form(make_submission(email="a@example.com", message="hi"))
    again = normalize_form(make_submission(email="a@example.com", message="hi"))
    other = normalize_form(make_submission(email="a@example.com", message="hi there"))
    assert first.lead_id == again.lead_id
    assert other.lead_id != first.lead_id


def test_idempotency_key_and_submission_id_name_the_submission() -> None:
    keyed = normalize_form(make_submission(idempotency_key="k-1", email="a@example.com"))
    rekeyed = normalize_form(make_submission(idempotency_key="k-1", email="b@example.com"))
    assert keyed.lead_id == rekeyed.lead_id
    assert keyed.source_message_id == "contact/k-1"
    with_id = normalize_form(make_submission(email="a@example.com", submission_id="s-9"))
    assert with_id.source_message_id == "contact/s-9"
    assert "submission_id" not in with_id.attributes


def test_full_name_is_split_and_trimmed() -> None:
    lead = normalize_form(make_submission(email="a@example.com", name="  Ada   King Lovelace "))
    assert (lead.first_name, lead.last_name) == ("Ada", "King Lovelace")
    lead = normalize_form(make_submission(email="a@example.com", name="Lovelace, Ada"))
    assert (lead.first_name, lead.last_name) == ("Ada", "Lovelace")


def test_free_mail_address_gives_no_company_domain() -> None:
    assert normalize_form(make_submission(email="ada@GMail.com")).company_domain is None
    assert normalize_form(make_submission(email="ada@acme.io")).company_domain == "acme.io"


def test_phone_only_lead_is_keyed_by_e164_and_country_comes_from_the_number() -> None:
    lead = normalize_form(make_submission(phone="+44 20 7946 0018"))
    assert lead.identity_key == "+442079460018"
    assert lead.country == "GB"


def test_national_phone_uses_the_forms_country() -> None:
    lead = normalize_form(make_submission(phone="(415) 555-2671", country="United States"))
    assert lead.phone == "+14155552671"
    assert lead.country == "US"


def test_lead_without_email_or_phone_is_refused_as_unreachable() -> None:
    with pytest.raises(InvalidLead) as refused:
        normalize_form(make_submission(name="Ada", message="call me"))
    assert refused.value.reason == "unreachable"


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("email", "ada@", "not an email address"),
        ("email", "ada at example.com", "not an email address"),
        ("phone", "+1 555", "not a valid number"),
        ("phone", "call me", "not a phone number"),
        ("country", "Atlantis", "not a known country"),
        ("language", "klingon!", "not a language tag"),
        ("deal_value", "lots", "not an amount"),
    ],
)
def test_bad_field_is_refused_naming_the_field(field: str, value: str, problem: str) -> None:
    with pytest.raises(InvalidLead) as refused:
        normalize_form(make_submission(**{"email": "a@example.com", field: value}))
    assert refused.value.field == field
    assert problem in refused.value.problem
    assert refused.value.expected


def test_filled_honeypot_is_refused() -> None:
    submission = make_submission(email="a@example.com", website="http://spam")
    honeypotted = submission.__class__(
        submission.form_id, submission.fields, NOW_MS, honeypot_field="website"
    )
    with pytest.raises(InvalidLead) as refused:
        normalize_form(honeypotted)
    assert (refused.value.reason, refused.value.field) == ("honeypot", "website")


def test_long_message_is_cut_and_flagged() -> None:
    lead = normalize_form(make_submission(email="a@example.com", message="x" * 5000))
    assert lead.message is not None and len(lead.message) == 4000
    assert lead.attributes["message_truncated"] == "true"


def test_language_comes_from_the_field_else_the_accept_language_header() -> None:
    base = make_submission(email="a@example.com")
    hinted = base.__class__(base.form_id, base.fields, NOW_MS, accept_language="pt-BR,pt;q=0.9")
    assert normalize_form(hinted).language == "pt"
    assert normalize_form(make_submission(email="a@example.com", locale="de_AT")).language == "de"


def test_json_form_keeps_nested_values_as_json_text() -> None:
    fields = parse_json_object(b'{"email": "a@example.com", "seats": 12, "tags": ["a", "b"]}')
    assert fields == (("email", "a@example.com"), ("seats", "12"), ("tags", "a"), ("tags", "b"))


@pytest.mark.parametrize("body", [b"[1, 2]", b"{not json", b'"text"'])
def test_json_that_is_not_an_object_is_malformed(body: bytes) -> None:
    with pytest.raises(InvalidLead) as refused:
        parse_json_object(body)
    assert (refused.value.reason, refused.value.field) == ("malformed", "body")


def test_urlencoded_body_that_is_not_utf8_is_malformed() -> None:
    with pytest.raises(InvalidLead) as refused:
        parse_urlencoded(b"name=%FF%FE")
    assert refused.value.reason == "malformed"


def test_over_long_attribute_is_cut_and_named_in_attributes_truncated() -> None:
    lead = normalize_form(make_submission(email="a@example.com", notes_x="y" * 2500, short="s"))
    assert lead.attributes["notes_x"] == "y" * 2000
    assert lead.attributes["attributes_truncated"] == "notes_x"
    assert lead.attributes["short"] == "s"


def test_repeated_known_field_keeps_the_second_value_as_an_attribute() -> None:
    fields = (("email", "a@example.com"), ("email", "b@example.com"))
    lead = normalize_form(make_submission().__class__("contact", fields, NOW_MS))
    assert lead.email == "a@example.com"
    assert lead.attributes == {"email": "b@example.com"}


@pytest.mark.parametrize(
    ("written", "amount"),
    [("$1,200.50", 1200.5), ("1.200,50 €", 1200.5), ("1,5", 1.5), ("1,200", 1200.0),
     ("25000", 25000.0), ("€ 3 000", 3000.0)],
)  # fmt: skip
def test_deal_value_reads_the_usual_ways_of_writing_amounts(written: str, amount: float) -> None:
    assert normalize_form(make_submission(email="a@b.io", budget=written)).deal_value == amount
