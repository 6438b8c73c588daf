from __future__ import annotations

import random

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from services.demo.feed_plan import (
    TouchPlan,
    first_touch_delay_ms,
    next_channel,
    presence_changes,
)
from services.demo.people import make_prospect


@settings(deadline=None)  # a loaded CI machine must not fail on time
@given(st.text(min_size=1, max_size=40), st.integers(1, 5))
def test_touch_delay_is_stable_and_inside_the_plan(lead_id: str, attempt: int) -> None:
    plan = TouchPlan(touch_fraction=0.5, min_delay_ms=1_000, max_delay_ms=5_000)
    delay = first_touch_delay_ms(plan, lead_id, attempt)
    assert delay == first_touch_delay_ms(plan, lead_id, attempt)
    assert delay is None or 1_000 <= delay < 5_000


def test_about_the_planned_share_of_leads_is_touched() -> None:
    plan = TouchPlan(touch_fraction=0.6)
    touched = sum(first_touch_delay_ms(plan, f"lead-{n}", 1) is not None for n in range(2_000))
    assert 1_080 <= touched <= 1_320


def test_every_channel_is_used() -> None:
    rng = random.Random(3)
    assert {next_channel(rng) for _ in range(200)} == {"form", "chat", "email", "sms"}


@settings(deadline=None)  # a loaded CI machine must not fail on time
@given(st.integers(0, 2**32))
def test_presence_never_sends_more_than_max_away(seed: int) -> None:
    rng = random.Random(seed)
    reps, away = ["a", "b", "c", "d"], []
    for _ in range(30):
        for change in presence_changes(rng, reps, away, max_away=2):
            if change.available:
                away.remove(change.rep_id)
            else:
                assert change.rep_id not in away
                away.append(change.rep_id)
        assert len(away) <= 2


@settings(deadline=None)  # a loaded CI machine must not fail on time
@given(st.integers(0, 2**32))
def test_prospects_have_valid_phones_and_emails(seed: int) -> None:
    person = make_prospect(random.Random(seed))
    assert phonenumbers.is_valid_number(phonenumbers.parse(person.phone))
    local, _, domain = person.email.partition("@")
    assert local.isascii() and local and "." in domain


def test_some_touched_leads_are_closed_won_or_lost_and_the_choice_is_stable() -> None:
    from services.demo.feed_plan import closing

    plan = TouchPlan(close_fraction=0.4)
    outcomes = [closing(plan, f"lead-{n}") for n in range(1_000)]
    assert outcomes == [closing(plan, f"lead-{n}") for n in range(1_000)]
    assert {o for o in outcomes} == {None, "closed_won", "closed_lost"}
    assert 320 <= sum(o is not None for o in outcomes) <= 480
