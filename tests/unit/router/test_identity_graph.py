"""The identity graph as values: linking, the canonical person id, the fan-out guard."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ingest.chat import normalize_chat
from services.leads.events import Lead
from services.leads.identity_config import MAX_KEPT_PER_KIND, IdentityLinking
from services.leads.routing_config import ConfigInvalid
from services.router.identity_graph import (
    IdentityLinks,
    Kind,
    Link,
    empty,
    kind_of,
    lead_identifiers,
    linked,
    merge,
    resolve,
    shared_reason,
)
from services.router.ownership import owner_facts
from services.router.triage_decision import Routed, triage
from tests.unit.ingest.payloads import NOW_MS, fixture
from tests.unit.router.config_builders import make_config, make_lead

T0 = 1_763_900_000_000
GUARD = IdentityLinking()


def lead_of(lead_id: str, ids: Iterable[str], at_ms: int = T0) -> Lead:
    """A lead carrying `ids` (at most one email, one phone, one crm id, one chat handle)."""
    fields: dict[str, str | None] = {"email": None, "phone": None}
    attributes = {}
    for identifier in ids:
        kind = kind_of(identifier)
        if kind is Kind.EMAIL:
            fields["email"] = identifier
        elif kind is Kind.PHONE:
            fields["phone"] = identifier
        elif kind is Kind.CRM:
            attributes["crm_id"] = identifier.removeprefix("crm:")
        else:
            attributes["chat_id"] = identifier
    key = fields["email"] or fields["phone"] or attributes.get("chat_id") or "chat:anon"
    return make_lead(
        lead_id,
        identity_key=key,
        received_at_ms=at_ms,
        company_domain=None,
        attributes=attributes,
        **fields,
    )


def graph_of(leads: Iterable[Lead]) -> dict[str, IdentityLinks]:
    """Every lead's links merged into the records, in the order given."""
    graph: dict[str, IdentityLinks] = {}
    for lead in leads:
        graph.update(linked(graph.get, lead))
    return graph


def test_a_lead_carries_its_email_phone_crm_id_and_chat_handle_in_the_total_order() -> None:
    lead = lead_of("l1", ["chat:v1", "+15550001", "ann@acme.example", "crm:42"])
    assert lead_identifiers(lead) == ("crm:42", "ann@acme.example", "+15550001", "chat:v1")


def test_a_form_with_a_known_phone_joins_the_sms_person_and_says_which_link_did() -> None:
    sms = lead_of("sms", ["+15550001"], T0)
    form = lead_of("form", ["+15550001", "ann@acme.example"], T0 + 1000)
    chat = lead_of("chat", ["ann@acme.example", "chat:v1"], T0 + 2000)
    graph = graph_of([sms, form])
    person = resolve(GUARD, chat, graph.get)
    assert person.members == ("ann@acme.example", "+15550001", "chat:v1")
    assert person.canonical == "ann@acme.example"
    joined = person.joined["+15550001"]
    assert joined.explain() == "phone +15550001 linked by lead form at 2025-11-23T12:13:21+00:00"


def test_a_lone_new_identifier_is_its_own_person() -> None:
    nothing: dict[str, IdentityLinks] = {}
    person = resolve(GUARD, lead_of("l1", ["ann@acme.example"]), nothing.get)
    assert (person.canonical, person.members, person.joined) == (
        "ann@acme.example",
        ("ann@acme.example",),
        {},
    )


def test_a_switchboard_phone_shared_by_fifty_people_merges_nobody() -> None:
    leads = [lead_of(f"l{n}", ["+15550000", f"p{n}@acme.example"], T0 + n) for n in range(50)]
    for n, lead in enumerate(leads):  # each lead resolved against the leads before it
        person = resolve(GUARD, lead, graph_of(leads[:n]).get)
        assert [m for m in person.members if kind_of(m) is Kind.EMAIL] == [lead.identity_key]
    graph = graph_of(leads)
    assert shared_reason(GUARD, "+15550000", graph["+15550000"]) is not None
    assert len(graph["+15550000"].links) == MAX_KEPT_PER_KIND  # bounded, whatever the traffic


def test_a_role_address_is_shared_from_its_first_lead() -> None:
    first = lead_of("l1", ["info@acme.example", "+15550001"])
    second = lead_of("l2", ["info@acme.example", "+15550002"], T0 + 1)
    person = resolve(GUARD, second, graph_of([first]).get)
    assert "+15550001" not in person.members
    assert person.canonical == "+15550002"  # the shared key is a member, never the canonical id
    assert [g.identifier for g in person.guarded] == ["info@acme.example"]
    assert person.guarded[0].why == "email info@acme.example is a role address"


def test_when_an_identifier_becomes_shared_the_links_through_it_stop_counting() -> None:
    early = graph_of([lead_of("a", ["+15550001", "a@x.example"])])
    sms = lead_of("s", ["+15550001"], T0 + 1)
    assert resolve(GUARD, sms, early.get).members == ("a@x.example", "+15550001")
    later = graph_of(
        [
            lead_of("a", ["+15550001", "a@x.example"]),
            lead_of("c", ["+15550001", "c@x.example"], T0 + 5),
        ]
    )
    person = resolve(GUARD, lead_of("d", ["a@x.example"], T0 + 9), later.get)
    assert person.members == ("a@x.example",)
    assert person.guarded[0].why == "phone +15550001 is shared by 2 email identifiers (fan-out 1)"


def test_a_disabled_graph_leaves_every_lead_alone() -> None:
    graph = graph_of([lead_of("a", ["+15550001", "a@x.example"])])
    config = IdentityLinking(enabled=False)
    assert resolve(config, lead_of("b", ["+15550001"]), graph.get).members == ("+15550001",)


@pytest.mark.parametrize(
    ("section", "path"),
    [
        ({"max_links_per_kind": 0}, "identity.max_links_per_kind"),
        ({"max_links_per_kind": MAX_KEPT_PER_KIND}, "identity.max_links_per_kind"),
        ({"shared_local_parts": ["info@"]}, "identity.shared_local_parts"),
        ({"fanout": 3}, "identity.fanout"),
    ],
)
def test_the_identity_section_is_validated_naming_the_field(
    section: dict[str, object], path: str
) -> None:
    with pytest.raises(ConfigInvalid) as caught:
        make_config(identity=section)
    assert path in str(caught.value)


def test_the_identity_section_defaults_to_a_fan_out_of_one_with_role_addresses_shared() -> None:
    identity = make_config().identity
    assert identity.max_links_per_kind == 1
    assert {"info", "sales", "support"} <= set(identity.shared_local_parts)


# -- properties -----------------------------------------------------------------------------

EMAILS = [f"e{n}@x.example" for n in range(5)] + ["sales@x.example"]
PHONES = [f"+1555000{n}" for n in range(4)]
CHATS = ["chat:v0", "chat:v1"]
CRMS = ["crm:1", "crm:2"]


@st.composite
def leads(draw: st.DrawFn) -> list[Lead]:
    found = []
    for n in range(draw(st.integers(1, 12))):
        ids = [
            draw(st.sampled_from(pool))
            for pool in (EMAILS, PHONES, CHATS, CRMS)
            if draw(st.booleans())
        ]
        found.append(lead_of(f"l{n}", ids or [draw(st.sampled_from(EMAILS))], T0 + n * 1000))
    return found


def final_persons(graph: dict[str, IdentityLinks], config: IdentityLinking) -> dict[str, str]:
    every = sorted({i for record in graph.values() for i in (record.identifier,)})
    return {i: resolve(config, lead_of("probe", [i], T0 * 2), graph.get).canonical for i in every}


@settings(max_examples=150, deadline=None)
@given(leads(), st.randoms(use_true_random=False), st.integers(1, 3))
def test_the_canonical_id_does_not_depend_on_arrival_order(
    arrived: list[Lead], rng: object, fan_out: int
) -> None:
    config = IdentityLinking(max_links_per_kind=fan_out)
    shuffled = list(arrived)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    first, second = graph_of(arrived), graph_of(shuffled)
    assert first == second
    assert final_persons(first, config) == final_persons(second, config)


@settings(max_examples=150, deadline=None)
@given(leads(), st.integers(1, 3))
def test_no_link_crosses_the_fan_out_guard(arrived: list[Lead], fan_out: int) -> None:
    config = IdentityLinking(max_links_per_kind=fan_out)
    graph = graph_of(arrived)
    for lead in arrived:
        person = resolve(config, lead, graph.get)
        for member, joined in person.joined.items():
            assert shared_reason(config, member, graph.get(member)) is None
            if joined.lead_id is not None:  # reached through a recorded link, from `to`
                assert shared_reason(config, joined.to, graph.get(joined.to)) is None
        for guarded in person.guarded:
            assert guarded.identifier not in person.joined


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(EMAILS + PHONES), st.text("ab", max_size=2), st.integers(0, 9)),
        max_size=30,
    ),
    st.randoms(use_true_random=False),
)
def test_merge_is_a_bounded_union_whatever_the_order_or_grouping(
    links: list[tuple[str, str, int]], rng: object
) -> None:
    made = [Link(identifier=i, lead_id=f"l{lead}", at_ms=at) for i, lead, at in links]
    shuffled = list(made)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    half = len(made) // 2
    one = merge(empty("crm:0"), made)
    grouped = merge(merge(empty("crm:0"), shuffled[:half]), shuffled[half:])
    assert one == grouped == merge(one, made)
    for identifier in {link.identifier for link in made}:
        kept = [link for link in one.links if link.identifier == identifier]
        earliest = min((link.at_ms, link.lead_id) for link in made if link.identifier == identifier)
        assert [(k.at_ms, k.lead_id) for k in kept] == [earliest]


OWNER_CONFIG = make_config(
    reps=[{"id": r, "name": r, "email": f"{r}@example.com"} for r in ("ann", "bob", "cy", "dee")],
    pools=[{"id": "general", "members": [{"rep": r} for r in ("ann", "bob", "cy", "dee")]}],
    continuity={"person_window": "30d", "company_domain_window": 0, "dedup_window": 0},
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["e0@x.example", "+15550000", "chat:v0"]),
            st.sampled_from(["ann", "bob", "cy", "dee"]),
            st.integers(1, 10_000_000),
        ),
        min_size=1,
        max_size=4,
        unique_by=lambda fact: fact[0],
    ),
)
def test_a_merged_person_keeps_the_earliest_owner_of_any_of_its_identifiers(
    owned: list[tuple[str, str, int]],
) -> None:
    facts = {
        f.subject: f
        for identifier, rep, ago in owned
        for f in owner_facts(
            identity_key=identifier,
            company_domain=None,
            rep_id=rep,
            pool_id="general",
            lead_id=f"old-{identifier}",
            assigned_at_ms=T0 - ago,
        )
    }
    graph = graph_of([lead_of("seen", ["e0@x.example", "+15550000", "chat:v0"], T0 - 20_000_000)])
    for own in ("e0@x.example", "+15550000"):  # whichever identifier the lead is keyed by
        lead = lead_of("new", [own], T0)
        person = resolve(GUARD, lead, graph.get)
        outcome = triage(OWNER_CONFIG, None, facts, lead, T0, person=person)
        assert isinstance(outcome, Routed)
        earliest = min(owned, key=lambda fact: (-fact[2], f"old-{fact[0]}"))  # time, lead id
        assert outcome.request.preferred_owner == earliest[1]


def test_a_lead_alone_is_decided_byte_for_byte_as_without_the_graph() -> None:
    lead = lead_of("l1", ["jo@x.example"])
    facts = {f.subject: f for f in owner_facts(identity_key="jo@x.example", company_domain=None,
             rep_id="bob", pool_id="general", lead_id="old", assigned_at_ms=T0 - 5)}  # fmt: skip
    alone = resolve(GUARD, lead, graph_of([]).get)
    with_graph = triage(OWNER_CONFIG, None, facts, lead, T0, person=alone)
    assert with_graph == triage(OWNER_CONFIG, None, facts, lead, T0)


def test_a_chat_from_the_front_door_links_its_email_phone_and_visitor_handle() -> None:
    lead = normalize_chat(fixture("chat_started.json"), NOW_MS)
    assert lead_identifiers(lead) == (
        "priya.raman@northwind-logistics.co.uk",
        "+442079460018",
        "chat:vis_7QK2M9X4",
    )


def test_a_form_soon_after_a_text_from_its_phone_is_a_repeat_of_the_text() -> None:
    config = make_config(
        reps=[{"id": r, "name": r, "email": f"{r}@example.com"} for r in ("ann", "bob")],
        pools=[{"id": "general", "members": [{"rep": "ann"}, {"rep": "bob"}]}],
        continuity={"person_window": "30d", "company_domain_window": 0, "dedup_window": "1h"},
    )
    texted = owner_facts(
        identity_key="+15550001",
        company_domain=None,
        rep_id="bob",
        pool_id="general",
        lead_id="L-sms",
        assigned_at_ms=T0 - 600_000,
    )
    form = lead_of("L-form", ["+15550001", "jo@x.example"], T0)
    person = resolve(GUARD, form, graph_of([]).get)
    outcome = triage(config, None, {f.subject: f for f in texted}, form, T0, person=person)
    assert isinstance(outcome, Routed)
    request = outcome.request
    assert (request.is_repeat, request.repeat_of, request.preferred_owner) == (True, "L-sms", "bob")
    assert request.reason.startswith(
        "repeat of L-sms within the dedup window (via phone +15550001 on this lead): its owner bob"
    )
