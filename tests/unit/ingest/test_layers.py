"""The normalizers are the pure layer: no Kafka, no clock, no environment, no randomness."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

INGEST = Path(__file__).resolve().parents[3] / "services" / "ingest"
PURE = [
    "forms", "twilio_sms", "chat", "email_mime", "mailgun", "lead_fields", "contact",
    "identity", "free_mail", "html_text", "signatures", "rejection", "raw_topics", "inbound",
]  # fmt: skip
FORBIDDEN = {"confluent_kafka", "time", "os", "random", "secrets", "datetime", "socket",
             "starlette", "uvicorn", "aiosmtpd", "logging", "pathlib"}  # fmt: skip


def imported_roots(module: str) -> set[str]:
    tree = ast.parse((INGEST / f"{module}.py").read_text())
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("module", PURE)
def test_pure_module_imports_no_io(module: str) -> None:
    assert imported_roots(module) & FORBIDDEN == set()
