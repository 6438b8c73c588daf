"""`leadrouter console rebuild|sync|token`: the web console's projection and its logins.

`rebuild` deletes the projection file (CONSOLE_DB) and reads every projected topic from its
beginning; `sync` applies what the file has not seen yet, from the offsets stored in it. Both
stop once every partition is read to its end. `token NAME --role ROLE` makes a bearer token,
prints it once, and prints the `CONSOLE_TOKENS` entry (its hash) to configure.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from services.cli.base import Subparsers
from services.console.projection import Projection, connect
from services.console.projector import Projector, catch_up
from services.console.settings import ConsoleSettings, Role
from services.console.tokens import new_token, token_hash
from services.streaming.settings import KafkaSettings


def register(subparsers: Subparsers) -> None:
    console = subparsers.add_parser("console", help="the web console's projection and tokens")
    actions = console.add_subparsers(dest="action", required=True)
    rebuild = actions.add_parser("rebuild", help="rebuild the projection from the topics")
    rebuild.set_defaults(func=_rebuild)
    sync = actions.add_parser("sync", help="apply what the projection has not read yet")
    sync.set_defaults(func=_sync)
    token = actions.add_parser("token", help="make a bearer token; printed once, stored hashed")
    token.add_argument("name", help="who uses it: recorded as the actor of every action")
    token.add_argument("--role", choices=[r.value for r in Role], default=Role.VIEWER.value)
    token.set_defaults(func=_token)


def _project(settings: ConsoleSettings) -> int:
    projection = Projection(connect(settings.db))
    projector = Projector(KafkaSettings(), projection, batch_records=settings.batch_records)
    try:
        return catch_up(projector)
    finally:
        projector.close()
        projection.db.close()


def _rebuild(_args: argparse.Namespace) -> int:
    settings = ConsoleSettings()
    for suffix in ("", "-wal", "-shm"):
        Path(settings.db + suffix).unlink(missing_ok=True)
    started = time.monotonic()
    applied = _project(settings)
    print(f"rebuilt {settings.db}: {applied} records in {time.monotonic() - started:.1f} s")
    return 0


def _sync(_args: argparse.Namespace) -> int:
    settings = ConsoleSettings()
    print(f"{settings.db}: {_project(settings)} records applied")
    return 0


def _token(args: argparse.Namespace) -> int:
    token = new_token()
    entry = {"name": args.name, "role": args.role, "sha256": token_hash(token)}
    print(f"token for {args.name} ({args.role}), shown only now: {token}")
    print(f"add to CONSOLE_TOKENS: {json.dumps(entry)}")
    return 0
