"""What changes between two routing configs, in words an operator checks before publishing.

Items with ids (reps, pools, rules, ...) are matched by id, so moving a rep in the file is not a
change but changing their cap is: `rep ann: max_open 10 -> 12`. Rule order matters (first match
wins), so a reordering is reported on its own line. Pure: two configs in, lines out.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

from pydantic import BaseModel

from services.leads.routing_config import Member, RoutingConfig

_SECTIONS: tuple[tuple[str, str], ...] = (
    ("managers", "manager"),
    ("reps", "rep"),
    ("pools", "pool"),
    ("rules", "rule"),
    ("sla_policies", "SLA policy"),
)


def config_changes(old: RoutingConfig, new: RoutingConfig) -> list[str]:
    """Every difference, one line each, in document order; empty when they route the same."""
    lines: list[str] = []
    for field in ("description", "default_pool", "fallback_queue"):
        lines += _field_change(field, getattr(old, field), getattr(new, field))
    lines += _mapping_changes("territory", old.territories, new.territories)
    lines += _mapping_changes("schedule", old.schedules, new.schedules)
    for section, kind in _SECTIONS:
        lines += _item_changes(kind, getattr(old, section), getattr(new, section))
    lines += _order_change("rule", [r.id for r in old.rules], [r.id for r in new.rules])
    lines += _item_changes("scoring rule", old.scoring.rules, new.scoring.rules)
    lines += _field_change("scoring.base", old.scoring.base, new.scoring.base)
    for section in ("continuity", "identity"):
        before = getattr(old, section).model_dump(by_alias=True)
        for field, value in getattr(new, section).model_dump(by_alias=True).items():
            lines += _field_change(f"{section}.{field}", before[field], value)
    return lines


def _show(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    if isinstance(value, Enum):
        value = value.value
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _field_change(name: str, before: Any, after: Any) -> list[str]:
    return [] if before == after else [f"{name}: {_show(before)} -> {_show(after)}"]


def _mapping_changes(kind: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    lines = [f"+ {kind} {name}" for name in new if name not in old]
    lines += [f"- {kind} {name}" for name in old if name not in new]
    lines += [
        f"~ {kind} {name}: {_show(old[name])} -> {_show(new[name])}"
        for name in new
        if name in old and old[name] != new[name]
    ]
    return lines


def _item_changes(kind: str, old: Sequence[Any], new: Sequence[Any]) -> list[str]:
    before = {item.id: item for item in old}
    after = {item.id: item for item in new}
    lines = [f"+ {kind} {item_id}" for item_id in after if item_id not in before]
    lines += [f"- {kind} {item_id}" for item_id in before if item_id not in after]
    for item_id, item in after.items():
        if item_id in before and before[item_id] != item:
            fields = type(item).model_fields
            for field in fields:
                was, now = getattr(before[item_id], field), getattr(item, field)
                if was != now and field == "members":
                    lines += _member_changes(f"{kind} {item_id}", was, now)
                elif was != now:
                    label = fields[field].alias or field
                    lines.append(f"~ {kind} {item_id}: {label} {_show(was)} -> {_show(now)}")
    return lines


def _member_changes(owner: str, old: Sequence[Member], new: Sequence[Member]) -> list[str]:
    before = {m.rep: m.weight for m in old}
    after = {m.rep: m.weight for m in new}
    lines = [
        f"~ {owner}: + member {rep} (weight {w})" for rep, w in after.items() if rep not in before
    ]
    lines += [f"~ {owner}: - member {rep}" for rep in before if rep not in after]
    lines += [
        f"~ {owner}: member {rep} weight {before[rep]} -> {w}"
        for rep, w in after.items()
        if rep in before and before[rep] != w
    ]
    return lines


def _order_change(kind: str, old: list[str], new: list[str]) -> list[str]:
    kept_old = [i for i in old if i in new]
    kept_new = [i for i in new if i in old]
    if kept_old == kept_new:
        return []
    return [f"{kind} order (first match wins): {', '.join(kept_old)} -> {', '.join(kept_new)}"]
