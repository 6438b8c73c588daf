"""A routing config document as text: parsed with line numbers, validated, hashed.

`parse_config_text(text)` is what `leadrouter config validate` and every service that follows
`routing.config` use, so a document is judged the same way everywhere. Every problem carries the
1-based line of the value (or of the nearest enclosing key that exists), and YAML's own surprises
are closed off: duplicate keys are errors instead of silently keeping the last one, and only
`true`/`false` are booleans, so `country: [DE, NO]` means Norway, not `False`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from services.leads.config_errors import ConfigInvalid, ConfigProblem, Path, format_path
from services.leads.config_warnings import config_warnings
from services.leads.routing_config import RoutingConfig, parse_routing_config


class _ConfigLoader(yaml.SafeLoader):
    """SafeLoader whose booleans are only `true` and `false` (YAML 1.2), not yes/no/on/off."""


_ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    text: str
    data: Any
    lines: Mapping[Path, int]
    """Path in the document -> 1-based line where that key or item starts."""

    def line_of(self, path: Path) -> int | None:
        """The line of `path`, else of its longest prefix the document has."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


def content_hash(text: str) -> str:
    """sha256 of the document's UTF-8 bytes, hex: what `config_hash` in every trace refers to."""
    return hashlib.sha256(text.encode()).hexdigest()


def load_document(text: str) -> LoadedDocument:
    """Parse YAML keeping positions; raises `ConfigInvalid` for syntax errors and duplicate keys."""
    loader = _ConfigLoader(text)
    lines: dict[Path, int] = {}
    problems: list[ConfigProblem] = []
    try:
        node = loader.get_single_node()
        if node is None:
            raise ConfigInvalid((ConfigProblem((), "the document is empty", 1),))
        _walk(node, (), lines, problems)  # before constructing: merging rewrites the nodes
        if problems:
            raise ConfigInvalid(tuple(problems))
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else mark.line + 1
        raise ConfigInvalid((ConfigProblem((), f"not valid YAML: {exc.problem}", line),)) from None
    finally:
        loader.dispose()
    return LoadedDocument(text, data, lines)


def _walk(node: Node, path: Path, lines: dict[Path, int], problems: list[ConfigProblem]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines, problems)
    elif isinstance(node, MappingNode):
        seen: dict[str, int] = {}
        merged: dict[Path, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for source in sources:
                    _walk(source, path, merged, problems)
                continue
            key = str(key_node.value) if isinstance(key_node, ScalarNode) else "?"
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    ConfigProblem(
                        (*path, key), f"duplicate key (first given on line {seen[key]})", line
                    )
                )
                continue
            seen[key] = line
            lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines, problems)
        for merged_path, line in merged.items():  # keys written in place win over merged ones
            lines.setdefault(merged_path, line)


def parse_config_text(text: str) -> RoutingConfig:
    """The validated config in `text`; raises `ConfigInvalid` with every problem and its line."""
    document = load_document(text)
    try:
        return parse_routing_config(document.data)
    except ConfigInvalid as exc:
        located = tuple(p.at_line(document.line_of(p.path)) for p in exc.problems)
        raise ConfigInvalid(located) from None


def warnings_in(text: str, config: RoutingConfig) -> list[ConfigProblem]:
    """`config_warnings` for the config parsed from `text`, each with its line."""
    document = load_document(text)
    return [w.at_line(document.line_of(w.path)) for w in config_warnings(config)]


def describe(problem: ConfigProblem, source: str) -> str:
    """`routing.yaml:12: pools[2].members[0].rep: unknown rep 'ann'`: the compiler-style line."""
    where = f"{source}:{problem.line}" if problem.line is not None else source
    return f"{where}: {format_path(problem.path)}: {problem.message}"
