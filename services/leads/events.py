"""Event models: frozen pydantic twins of the Avro schemas in `schemas/`.

Field names, order and types match the `.avsc` files one for one (a contract test holds them
to it). Times are epoch milliseconds UTC in fields ending `_ms`; the domain never reads a clock,
so every time here came from a record or a caller.

Validation belongs to the edges: a model built from outside input (an HTTP body, a CLI
argument, a test) is built the ordinary way and validated. Inside the router and the SLA
watcher, values come from Avro records of the schema or from the domain's own code, already of
the declared types; those are built with `unvalidated` (or `Event.trusted`), which stores the
values as given, about twice as fast as validating them again.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

_new = object.__new__
_set = object.__setattr__
# BaseModel's own slots, set through their descriptors: cheaper than `object.__setattr__` by name.
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
M = TypeVar("M", bound=BaseModel)


def unvalidated(model: type[M], values: dict[str, Any]) -> M:
    """A `model` holding `values` as they are, with no validation and no copy of the dict.

    Contract: `values` names every field of the model (defaults are not filled in), each of its
    declared type (enum members, not strings; tuples, not lists; nested models, not dicts), and
    the model has no validators, private attributes or extra fields. Then the result is equal
    to `model(**values)` and behaves as it does (`model_copy`, `model_dump`, hashing, `==`).
    """
    built = _new(model)
    _set(built, "__dict__", values)
    _set_fields_set(built, _every_field_set(model))
    _set_extra(built, None)
    _set_private(built, None)
    return built


_FIELDS_SET: dict[type[BaseModel], set[str]] = {}


def _every_field_set(model: type[BaseModel]) -> set[str]:
    """The fields-set of a `model` built with every field given: one set per frozen model,
    shared by its instances (about 200 bytes each saved; the router and backtest hold millions).
    Pydantic adds to an instance's set only on assignment, which a frozen model refuses, and
    `model_copy` copies the set before adding to it."""
    shared = _FIELDS_SET.get(model)
    if shared is None:
        shared = set(model.model_fields)
        if not model.model_config.get("frozen"):
            return shared  # assignment would add to it: each instance has its own
        _FIELDS_SET[model] = shared
    return shared


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """Built by the domain from values already of the declared types: see `unvalidated`.
        Every field must be given."""
        return unvalidated(cls, values)


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    CHAT = "chat"
    FORM = "form"
    OTHER = "other"


class RequestKind(StrEnum):
    ASSIGN = "assign"
    REASSIGN = "reassign"
    RELEASE = "release"


class Outcome(StrEnum):
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    RELEASED = "released"


class ActivityType(StrEnum):
    FIRST_TOUCH = "first_touch"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CONTACTED = "contacted"
    CLOSED_WON = "closed_won"
    CLOSED_LOST = "closed_lost"
    DISQUALIFIED = "disqualified"


class EscalationStep(StrEnum):
    NOTIFY = "notify"
    REASSIGN = "reassign"
    ESCALATE = "escalate"


class PresenceStatus(StrEnum):
    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


class Attachment(Event):
    filename: str | None = None
    content_type: str
    size_bytes: int


class Lead(Event):
    lead_id: str
    identity_key: str
    channel: Channel
    source: str
    source_message_id: str
    received_at_ms: int
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    company_domain: str | None = None
    country: str | None = None
    region: str | None = None
    language: str | None = None
    product: str | None = None
    deal_value: float | None = None
    message: str | None = None
    campaign: str | None = None
    page_url: str | None = None
    utm: dict[str, str] = Field(default_factory=dict)
    attributes: dict[str, str] = Field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()


class Candidate(Event):
    rep_id: str
    pool_id: str
    skip_reason: str | None = None
    credit: float | None = None


class DecisionTrace(Event):
    config_version: int
    config_hash: str
    rule_id: str | None = None
    score: int = 0
    strategy: str
    fairness_policy: str
    pools_tried: tuple[str, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    chosen_rep: str | None = None
    input_topic: str
    input_partition: int
    input_offset: int
    presence_position: tuple[int, ...] = ()


OPERATOR_HEADER = "leadrouter_operator"
"""A `routing.requests` record header on a request an operator made (a console action): its
value an `OperatorAct`. The Assignment's reason then names the request's reason (the console
writes `console: <actor>: <why>`), and on an override assign picks `preferred_owner` (a member
of the pool) whatever its verdict. A header, not a field: a new field would change the writer
schema, and so the bytes, of every request and decision."""


class OperatorAct(StrEnum):
    MANUAL = "manual"
    OVERRIDE = "override"
    """Manual, and eligibility overridden."""


def operator_act(headers: Iterable[tuple[str, bytes | None]]) -> OperatorAct | None:
    """The `OPERATOR_HEADER` of a request's headers; None for any other request (an unknown
    value too: the request is then decided as anyone's)."""
    value = next((v for k, v in headers if k == OPERATOR_HEADER), None)
    try:
        return None if value is None else OperatorAct(value.decode())
    except (UnicodeDecodeError, ValueError):
        return None


class RoutingRequest(Event):
    request_id: str
    kind: RequestKind
    lead_id: str
    pool_id: str
    lead: Lead | None = None
    rep_id: str | None = None
    preferred_owner: str | None = None
    previous_owners: tuple[str, ...] = ()
    required_skills: tuple[str, ...] = ()
    attempt: int = 1
    rule_id: str | None = None
    score: int = 0
    is_repeat: bool = False
    reason: str
    received_at_ms: int
    requested_at_ms: int
    pools_tried: tuple[str, ...] = ()
    prior_candidates: tuple[Candidate, ...] = ()
    repeat_of: str | None = None
    prior_config_version: int | None = None
    prior_presence_position: tuple[int, ...] = ()


class Assignment(Event):
    assignment_id: str
    lead_id: str
    kind: RequestKind
    outcome: Outcome
    pool_id: str
    requested_pool_id: str
    rep_id: str | None = None
    reason: str
    attempt: int
    previous_owners: tuple[str, ...] = ()
    is_repeat: bool = False
    received_at_ms: int
    decided_at_ms: int
    lead: Lead | None = None
    trace: DecisionTrace


class LeadActivity(Event):
    activity_id: str
    lead_id: str
    type: ActivityType
    rep_id: str | None = None
    occurred_at_ms: int
    source: str = "crm"
    note: str | None = None


class Escalation(Event):
    escalation_id: str
    lead_id: str
    assignment_id: str
    pool_id: str
    policy_id: str
    step: EscalationStep
    rep_id: str | None = None
    target: str | None = None
    attempt: int
    previous_owners: tuple[str, ...] = ()
    reason: str
    due_at_ms: int
    fired_at_ms: int


class DeadLetter(Event):
    service: str
    reason: str
    detail: str
    original_topic: str | None = None
    original_partition: int | None = None
    original_offset: int | None = None
    original_key: bytes | None = None
    original_value: bytes | None = None
    failed_at_ms: int


class RepPresence(Event):
    rep_id: str
    status: PresenceStatus
    until_ms: int | None = None
    changed_at_ms: int


class RoutingConfigRecord(Event):
    version: int
    content_hash: str
    document: str
    published_at_ms: int
    published_by: str = ""


class AdminAction(StrEnum):
    ASSIGN_TO_REP = "assign_to_rep"
    REASSIGN_REP_LEADS = "reassign_rep_leads"
    SET_PRESENCE = "set_presence"
    PUBLISH_CONFIG = "publish_config"
    PAUSE_POOL = "pause_pool"
    RESUME_POOL = "resume_pool"


class AdminAudit(Event):
    audit_id: str
    actor: str
    role: str
    action: AdminAction
    target: str
    reason: str
    at_ms: int
    request_ids: tuple[str, ...] = ()
    detail: dict[str, str] = Field(default_factory=dict)
