"""`router.rotation` records to bytes and back: the Avro twins of the rotation dataclasses.

The decision code works on plain dataclasses (cheap to rebuild every decision); the state store
encodes once per key per transaction, so the conversion to these pydantic twins of
`schemas/RotationState.avsc` and `schemas/OpenLead.avsc` costs nothing per decision. The writer
schema's fingerprint at the head of every value tells the two kinds apart on the way back.
"""

from __future__ import annotations

from dataclasses import asdict
from functools import cache

from pydantic import BaseModel, ConfigDict

from services.router import rotation
from services.streaming.codec import AvroCodec
from services.streaming.records import Serde


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MemberStanding(_Record):
    rep_id: str
    credit: int
    assigned: int
    last_assigned_seq: int
    day: str
    day_count: int
    open: int


class RotationState(_Record):
    """Named as the schema, which is how the codec finds it."""

    pool_id: str
    decisions: int
    members: tuple[MemberStanding, ...]


class OpenLead(_Record):
    pool_id: str
    lead_id: str
    rep_id: str


@cache
def rotation_serde() -> Serde[rotation.RotationRecord]:
    pools, leads = AvroCodec(RotationState), AvroCodec(OpenLead)

    def encode(record: rotation.RotationRecord) -> bytes:
        if isinstance(record, rotation.RotationState):
            return pools.encode(RotationState.model_validate(asdict(record)))
        return leads.encode(OpenLead.model_validate(asdict(record)))

    def decode(data: bytes) -> rotation.RotationRecord:
        if data[: len(leads.header)] == leads.header:
            lead = leads.decode(data)
            return rotation.OpenLead(lead.pool_id, lead.lead_id, lead.rep_id)
        state = pools.decode(data)
        members = tuple(rotation.MemberStanding(**m.model_dump()) for m in state.members)
        return rotation.RotationState(state.pool_id, state.decisions, members)

    return Serde(encode=encode, decode=decode)
