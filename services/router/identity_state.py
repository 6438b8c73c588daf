"""What triage remembers per person (`router.identity`, keyed by identity): the leads it routed.

Two questions need it: "is this the same lead again?" (a redelivered webhook or a producer retry
carries the same `lead_id`) and "is this a repeat?" (a new lead from the same person within the
dedup window joins the earlier lead's pool and owner). Memory is bounded so one noisy identity
cannot grow its record without limit: entries older than `MEMORY_MS` before the newest lead are
forgotten, and at most `MAX_SEEN` are kept. A lead redelivered after that is routed again; the
bound is documented in docs/routing.md.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from services.leads.events import unvalidated

MEMORY_MS = 30 * 86_400_000
MAX_SEEN = 200


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SeenLead(_Value):
    lead_id: str
    received_at_ms: int
    pool_id: str
    rule_id: str | None = None


class IdentityState(_Value):
    """Mirrors schemas/IdentityState.avsc; `seen` is oldest first."""

    identity_key: str
    seen: tuple[SeenLead, ...] = ()

    def has_seen(self, lead_id: str) -> bool:
        return any(s.lead_id == lead_id for s in self.seen)

    def latest(self) -> SeenLead | None:
        return self.seen[-1] if self.seen else None

    def remember(self, lead: SeenLead) -> IdentityState:
        """This state with `lead` added, then trimmed to the memory bounds."""
        seen = sorted((*self.seen, lead), key=lambda s: s.received_at_ms)  # stable: ties keep order
        horizon = seen[-1].received_at_ms - MEMORY_MS
        kept = [s for s in seen if s.received_at_ms >= horizon][-MAX_SEEN:]
        values = {"identity_key": self.identity_key, "seen": tuple(kept)}
        return unvalidated(IdentityState, values)  # of the declared types already
