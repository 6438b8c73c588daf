"""Python source written line by line and compiled into a function: what the Avro reader and
writer generators (`avro_reader_source`, `avro_writer_source`) share.

`Source` hands out fresh local names, keeps the constants the code refers to by name (the
generated function's globals), and `function(name, label)` compiles the lines and returns the
function they define; `label` names it in tracebacks and profiles (`<avro writer X>`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Source:
    def __init__(self, constants: dict[str, Any]) -> None:
        self.lines: list[str] = []
        self.constants = dict(constants)
        self._names = 0

    def fresh(self, stem: str) -> str:
        """A local name no other line of this source uses."""
        self._names += 1
        return f"{stem}{self._names}"

    def constant(self, value: Any) -> str:
        """The name the generated code reads `value` by."""
        name = self.fresh("k")
        self.constants[name] = value
        return name

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def function(self, name: str, label: str) -> Callable[..., Any]:
        scope = dict(self.constants)
        text = "\n".join(self.lines) + "\n"
        exec(compile(text, f"<{label}>", "exec"), scope)  # our own source, made from a schema
        made: Callable[..., Any] = scope[name]
        return made
