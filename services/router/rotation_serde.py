"""`router.rotation` records to bytes and back: the Avro twins of the rotation dataclasses.

The decision code works on plain dataclasses (cheap to rebuild every decision). They carry the
fields of `schemas/RotationState.avsc` and `schemas/OpenLead.avsc` one for one, so the codec
writes them as they are and reads straight back into them; the pydantic twins below name the
schemas for the codec (and hold the contract test to them). The writer schema's fingerprint at
the head of every value tells the two kinds apart on the way back.
"""

from __future__ import annotations

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
        # The dataclasses carry the schemas' fields: encoded as they are, no twin built.
        if isinstance(record, rotation.RotationState):
            return pools.encode_value(record)
        return leads.encode_value(record)

    def decode(data: bytes) -> rotation.RotationRecord:
        if data[: len(leads.header)] == leads.header:
            lead = leads.decode_fields(data)
            return rotation.OpenLead(lead["pool_id"], lead["lead_id"], lead["rep_id"])
        state = pools.decode_fields(data)
        # each member's fields as read, in the schema's order, which is MemberStanding's
        rows = [tuple(m.values()) for m in state["members"]]
        columns = rotation.Columns.of_rows(rows)
        return rotation.RotationState.of_columns(state["pool_id"], state["decisions"], columns)

    return Serde(encode=encode, decode=decode)
