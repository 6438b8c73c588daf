"""The console's settings, from `CONSOLE_*` environment variables (Kafka's own: `KAFKA_*`).

`CONSOLE_TOKENS` is JSON: a list of `{"name": "alice", "role": "operator", "sha256": "…"}`, the
hash of each bearer token (`leadrouter console token NAME --role ROLE` makes one and prints the
token once). `CONSOLE_SESSION_SECRET` signs the web session cookie; unset, a random one is made
at start, so sessions end with the process.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.streaming.env_settings import EnvSettings


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    def allows(self, needed: Role) -> bool:
        order = (Role.VIEWER, Role.OPERATOR, Role.ADMIN)
        return order.index(self) >= order.index(needed)


class TokenEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    role: Role
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ConsoleSettings(EnvSettings):
    model_config = SettingsConfigDict(env_prefix="CONSOLE_", frozen=True)

    host: str = "0.0.0.0"
    port: int = 8090
    metrics_port: int = 9104
    db: str = "console.sqlite3"
    """The projection's SQLite file; deleting it (or `leadrouter console rebuild`) rebuilds it
    from the topics."""
    batch_records: int = Field(default=2000, ge=1)
    """Records applied per SQLite transaction at most."""
    tokens: list[TokenEntry] = Field(default_factory=list)
    session_secret: SecretStr | None = None
    session_hours: float = Field(default=12.0, gt=0)
    secure_cookie: bool = False
    """True behind HTTPS: browsers then send the session cookie over HTTPS only."""
    instance: int = Field(default=0, ge=0)
    """The instance slot: the stable transactional id manual actions are written with."""
