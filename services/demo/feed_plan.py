"""The demo's choices, pure: which channel next, which leads get a first touch and when, who
steps away. Randomness is the caller's `random.Random`; per-lead choices hash the lead id, so
the same assignment always gets the same answer whichever process sees it.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

CHANNEL_MIX = (("form", 4), ("chat", 3), ("email", 2), ("sms", 2))
"""Relative frequency of each front door in the demo feed."""


@dataclass(frozen=True, slots=True)
class TouchPlan:
    touch_fraction: float = 0.6
    """Share of assignments a rep acts on; the rest run into their SLA."""
    min_delay_ms: int = 2_000
    max_delay_ms: int = 20_000
    close_fraction: float = 0.4
    """Share of touched leads the rep closes (won or lost) soon after, freeing capacity."""
    close_after_ms: int = 8_000


@dataclass(frozen=True, slots=True)
class PresenceChange:
    rep_id: str
    available: bool


def next_channel(rng: random.Random) -> str:
    channels = [name for name, _ in CHANNEL_MIX]
    weights = [weight for _, weight in CHANNEL_MIX]
    return rng.choices(channels, weights=weights, k=1)[0]


def first_touch_delay_ms(plan: TouchPlan, lead_id: str, attempt: int) -> int | None:
    """How long after the assignment its rep touches the lead; None: never (SLA runs out)."""
    draw = zlib.crc32(f"{lead_id}:{attempt}".encode())
    if (draw % 10_000) >= plan.touch_fraction * 10_000:
        return None
    span = plan.max_delay_ms - plan.min_delay_ms
    return plan.min_delay_ms + (draw // 10_000) % max(1, span)


def closing(plan: TouchPlan, lead_id: str) -> str | None:
    """`closed_won` / `closed_lost` for the touched leads the rep closes, None for the rest."""
    draw = zlib.crc32(f"close:{lead_id}".encode())
    if (draw % 10_000) >= plan.close_fraction * 10_000:
        return None
    return "closed_won" if (draw // 10_000) % 3 == 0 else "closed_lost"


def presence_changes(
    rng: random.Random, reps: Sequence[str], away: Sequence[str], max_away: int
) -> list[PresenceChange]:
    """Bring the longest-away rep back, or send one more away while fewer than `max_away` are."""
    changes = []
    if away and (len(away) >= max_away or rng.random() < 0.5):
        changes.append(PresenceChange(away[0], available=True))
    present = [rep for rep in reps if rep not in away]
    if present and len(away) < max_away and rng.random() < 0.7:
        changes.append(PresenceChange(rng.choice(present), available=False))
    return changes
