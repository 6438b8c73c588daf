"""The import check behind each service's layer test: a domain module, and every leadrouter
module it imports directly or not, imports nothing that does I/O, reads the clock or the
environment, draws random numbers, or belongs to the streaming edge or the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {"confluent_kafka", "time", "os", "random", "uuid", "socket", "prometheus_client"}
FORBIDDEN_PREFIXES = ("services.streaming", "services.cli")
ALLOWED = {"services.streaming.errors"}  # the one exception tree: it imports nothing, all raise it


def source(module: str) -> ast.Module:
    return ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text())


def imports_of(module: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(source(module)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def reachable(module: str) -> dict[str, set[str]]:
    """Every leadrouter module `module` imports, directly or not, with its own imports."""
    seen: dict[str, set[str]] = {}
    todo = [module]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen[current] = imports_of(current)
            todo += [n for n in seen[current] if n.startswith("services.") and n not in seen]
    return seen


def impure_imports(module: str) -> list[str]:
    """'importer imports name' for each forbidden import reachable from `module`."""
    found = []
    for importer, names in sorted(reachable(module).items()):
        for name in sorted(names):
            if name in ALLOWED:
                continue
            if name.split(".")[0] in FORBIDDEN or name.startswith(FORBIDDEN_PREFIXES):
                found.append(f"{importer} imports {name}")
    return found
