"""A candidate routing config judged as `leadrouter config validate|diff` judge it: problems and
warnings with their YAML line, and what publishing it would change against the version in force.
Pure: the caller passes the candidate's text and the published document."""

from __future__ import annotations

import difflib
from typing import Any

from services.leads.config_diff import config_changes
from services.leads.config_errors import ConfigInvalid, ConfigProblem, format_path
from services.router.config_document import content_hash, describe, parse_config_text, warnings_in

SOURCE = "candidate.yaml"


def _problem(problem: ConfigProblem) -> dict[str, Any]:
    return {
        "line": problem.line,
        "path": format_path(problem.path),
        "message": problem.message,
        "text": describe(problem, SOURCE),
    }


def review(text: str, in_force: tuple[int, str] | None) -> dict[str, Any]:
    """`valid`, `problems`, `warnings`, and against `in_force` (version, document) the
    `changes` a person reads and a line `diff`."""
    try:
        config = parse_config_text(text)
    except ConfigInvalid as exc:
        return {"valid": False, "problems": [_problem(p) for p in exc.problems], "warnings": []}
    result: dict[str, Any] = {
        "valid": True,
        "problems": [],
        "warnings": [_problem(w) for w in warnings_in(text, config)],
        "content_hash": content_hash(text),
        "against_version": None,
        "changes": ["nothing published yet: this would be version 1"],
        "diff": "",
    }
    if in_force is None:
        return result
    version, document = in_force
    result["against_version"] = version
    if content_hash(document) == content_hash(text):
        result["changes"] = [f"identical to version {version}: nothing would change"]
        return result
    try:
        old = parse_config_text(document)
        changes = config_changes(old, config) or ["no routing change (formatting or comments)"]
    except ConfigInvalid:
        changes = [f"version {version} in force does not validate: compare the text below"]
    result["changes"] = changes
    result["diff"] = "".join(
        difflib.unified_diff(
            document.splitlines(keepends=True),
            text.splitlines(keepends=True),
            f"version {version}",
            SOURCE,
        )
    )
    return result
