"""Problems found in a routing config document, each pointing at a path and a line.

A problem's `path` is the route from the document root to the offending value, as keys and list
indexes (`("pools", 2, "members", 0, "rep")`), printed the way a person reads it:
`pools[2].members[0].rep`. The line is filled in by whoever parsed the YAML (the domain never
reads files), so the same problem can be reported for a document from disk or from a topic.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from services.streaming.errors import PermanentError

Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """`("pools", 2, "members", 0, "rep")` -> `pools[2].members[0].rep`; `()` -> `(document)`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "(document)"


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    path: Path
    message: str
    line: int | None = None
    """1-based line in the YAML document, when the document came with positions."""

    def at_line(self, line: int | None) -> ConfigProblem:
        return replace(self, line=line)

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{format_path(self.path)}: {self.message}"


class ConfigInvalid(PermanentError):
    """A routing config document was refused; `problems` lists every reason, in document order.

    Deliberately not a `ValueError`: pydantic would swallow a ValueError raised inside a model
    validator and re-wrap it as one anonymous error, losing the paths.
    """

    def __init__(self, problems: tuple[ConfigProblem, ...]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(
            "invalid_config", f"routing config has {len(problems)} problem(s):\n{lines}"
        )
