"""The console's operations, shared by the JSON API and the web pages: reads from the
projection, and manual actions checked against it, then written (`actions.ActionWriter`).

Every method blocks (SQLite, the broker): the HTTP layer calls them off the event loop.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from services.console import queries
from services.console.actions import ActionWriter, audit_entry, reassign_request
from services.console.config_review import review
from services.console.fairness import fairness
from services.console.problems import Refused
from services.console.sla_board import sla_board
from services.console.tokens import Principal
from services.console.web_metrics import ConsoleMetrics
from services.leads.config_errors import ConfigInvalid
from services.leads.events import (
    AdminAction,
    AdminAudit,
    PresenceStatus,
    RepPresence,
    RoutingRequest,
)
from services.router.config_source import publish_config
from services.router.presence import pool_key
from services.streaming.errors import TransientError
from services.streaming.records import Clock
from services.streaming.settings import KafkaSettings

T = TypeVar("T")


def day_start_ms(now_ms: int) -> int:
    """Midnight UTC of `now_ms`'s day: the board's "today"."""
    day = datetime.fromtimestamp(now_ms / 1000, tz=UTC).replace(hour=0, minute=0, second=0)
    return int(day.replace(microsecond=0).timestamp() * 1000)


class ConsoleService:
    def __init__(
        self,
        db: sqlite3.Connection,
        writer: ActionWriter,
        kafka: KafkaSettings,
        metrics: ConsoleMetrics,
        clock: Clock,
    ) -> None:
        self.db = db
        self.writer = writer
        self.kafka = kafka
        self.metrics = metrics
        self.clock = clock
        self.lock = threading.Lock()

    def read(self, query: Callable[..., T], *args: Any) -> T:
        with self.lock:
            return query(self.db, *args)

    # -- reads -------------------------------------------------------------------------------
    def board(self) -> dict[str, Any]:
        now = self.clock.now_ms()
        return self.read(queries.board, day_start_ms(now), now)

    def sla(self) -> dict[str, Any]:
        now = self.clock.now_ms()
        return self.read(sla_board, day_start_ms(now), now)

    def fairness(self, period_ms: int) -> dict[str, Any]:
        """The fairness report over the `period_ms` up to now."""
        now = self.clock.now_ms()
        return self.read(fairness, now - period_ms, now)

    def lead(self, lead_id: str) -> dict[str, Any]:
        found = self.read(queries.timeline, lead_id)
        if found is None:
            raise Refused(404, "unknown_lead", "lead_id", f"lead_id: no lead {lead_id!r} seen")
        return found

    def pool_members(self, pool_id: str | None) -> list[str]:
        in_force = self.read(queries.config_in_force)
        if in_force is None or pool_id is None or not in_force[1].has_pool(pool_id):
            return []
        return [m.rep for m in in_force[1].pool(pool_id).members]

    def review(self, text: str) -> dict[str, Any]:
        newest = self.read(
            lambda db: db.execute(
                "SELECT version, document FROM config ORDER BY version DESC LIMIT 1"
            ).fetchone()
        )
        return review(text, (int(newest[0]), str(newest[1])) if newest else None)

    # -- actions -----------------------------------------------------------------------------
    def assign_to_rep(
        self, principal: Principal, lead_id: str, rep_id: str, reason: str, override: bool = False
    ) -> dict[str, Any]:
        """A reassign of the lead naming `rep_id`, who must be in the lead's pool; the answer
        carries warnings when the router may still pass them over (away, offline), or, with
        `override` (operators and admins: the routes' role), would have."""
        lead = self.read(queries.open_lead, lead_id)
        if lead is None:
            raise Refused(404, "unknown_lead", "lead_id", f"lead_id: {lead_id!r} has no assignment")
        members = self.pool_members(lead.pool_id)
        if rep_id not in members:
            raise Refused(422, "not_a_member", "rep_id",
                          f"rep_id: {rep_id!r} is not a member of pool {lead.pool_id}")  # fmt: skip
        if rep_id == lead.rep_id:
            raise Refused(409, "already_owner", "rep_id", f"rep_id: {rep_id} owns it already")
        now = self.clock.now_ms()
        warnings = []
        presence = self.read(queries.presence_of, rep_id, now)
        passes = (
            "overridden: the router assigns them anyway"
            if override
            else ("the router will pass them over")
        )
        if presence != PresenceStatus.AVAILABLE.value:
            warnings.append(f"{rep_id} is {presence}: {passes}")
        skipped = self.read(queries.last_skip, lead_id, rep_id)
        if skipped is not None:
            warnings.append(f"the last decision skipped {rep_id}: {skipped}")
        request = reassign_request(
            lead, principal=principal, reason=_reason(reason), now_ms=now, to_rep=rep_id
        )
        audit = audit_entry(
            principal, AdminAction.ASSIGN_TO_REP, lead_id, _reason(reason), now,
            requests=(request,), detail={"rep_id": rep_id, "pool_id": lead.pool_id}
            | ({"override": "true"} if override else {}),
        )  # fmt: skip
        self.writer_call(lambda: self.writer.write(audit, (request,), override=override))
        self.metrics.actions.labels(action=audit.action.value).inc()
        return {"request_id": request.request_id, "audit_id": audit.audit_id,
                "warnings": warnings}  # fmt: skip

    def reassign_all(self, principal: Principal, rep_id: str, reason: str) -> dict[str, Any]:
        """Every open lead of `rep_id` back to its pool's strategy, without `rep_id`."""
        leads = self.read(queries.open_leads_of, rep_id)
        now = self.clock.now_ms()
        requests = tuple(
            reassign_request(lead, principal=principal, reason=_reason(reason), now_ms=now,
                             to_rep=None)
            for lead in leads
        )  # fmt: skip
        audit = audit_entry(
            principal, AdminAction.REASSIGN_REP_LEADS, rep_id, _reason(reason), now,
            requests=requests, detail={"leads": str(len(requests))},
        )  # fmt: skip
        self._write(audit, requests)
        return {"audit_id": audit.audit_id, "requests": len(requests)}

    def set_presence(
        self,
        principal: Principal,
        rep_id: str,
        status: str,
        reason: str,
        until_ms: int | None = None,
    ) -> dict[str, Any]:
        """Write the rep's presence; `until_ms` makes away or offline lapse to available."""
        if rep_id not in self.read(_known_reps):
            raise Refused(422, "unknown_rep", "rep_id", f"rep_id: {rep_id!r} is not in the config")
        try:
            parsed = PresenceStatus(status)
        except ValueError:
            raise Refused(422, "bad_status", "status",
                          "status: expected available, away or offline") from None  # fmt: skip
        now = self.clock.now_ms()
        if until_ms is not None and (parsed is PresenceStatus.AVAILABLE or until_ms <= now):
            detail = "until: only away or offline lapse, and only at a later time"
            raise Refused(422, "bad_until", "until", detail)
        presence = RepPresence(rep_id=rep_id, status=parsed, until_ms=until_ms, changed_at_ms=now)
        audit = audit_entry(principal, AdminAction.SET_PRESENCE, rep_id, _reason(reason), now,
                            detail={"status": parsed.value})  # fmt: skip
        self.writer_call(lambda: self.writer.write(audit, presence=presence))
        self.metrics.actions.labels(action=audit.action.value).inc()
        return {"audit_id": audit.audit_id}

    def set_pool_paused(
        self, principal: Principal, pool_id: str, paused: bool, reason: str
    ) -> dict[str, Any]:
        """Pause or resume `pool_id`: its presence (`presence.pool_key`) on `reps.presence`,
        away while paused, which the router follows like a rep's."""
        if not self.pool_members(pool_id):
            detail = f"pool_id: {pool_id!r} is not in the config"
            raise Refused(422, "unknown_pool", "pool_id", detail)
        now = self.clock.now_ms()
        status = PresenceStatus.AWAY if paused else PresenceStatus.AVAILABLE
        presence = RepPresence(rep_id=pool_key(pool_id), status=status, changed_at_ms=now)
        action = AdminAction.PAUSE_POOL if paused else AdminAction.RESUME_POOL
        audit = audit_entry(principal, action, pool_id, _reason(reason), now,
                            detail={"pool_id": pool_id})  # fmt: skip
        self.writer_call(lambda: self.writer.write(audit, presence=presence))
        self.metrics.actions.labels(action=audit.action.value).inc()
        return {"audit_id": audit.audit_id, "paused": paused}

    def publish(self, principal: Principal, text: str, reason: str) -> dict[str, Any]:
        now = self.clock.now_ms()
        try:
            result = self.writer_call(
                lambda: publish_config(self.kafka, text, published_by=principal.name, now_ms=now)
            )
        except ConfigInvalid as exc:
            raise Refused(422, "invalid_config", "document", str(exc)) from exc
        version = result.record.version
        if result.changed:
            audit = audit_entry(principal, AdminAction.PUBLISH_CONFIG, f"config v{version}",
                                _reason(reason), now,
                                detail={"content_hash": result.record.content_hash})  # fmt: skip
            self._write(audit, ())
        return {"version": version, "changed": result.changed}

    def _write(self, audit: AdminAudit, requests: tuple[RoutingRequest, ...]) -> None:
        self.writer_call(lambda: self.writer.write(audit, requests))
        self.metrics.actions.labels(action=audit.action.value).inc()

    def writer_call(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except TransientError as exc:
            raise Refused(503, "not_written", "broker", f"broker: {exc}; retry") from exc


def _reason(reason: str) -> str:
    return reason.strip()[:500] or "no reason given"


def _known_reps(db: sqlite3.Connection) -> set[str]:
    in_force = queries.config_in_force(db)
    return {rep.id for rep in in_force[1].reps} if in_force else set()
