"""A local HTTP server that answers as a provider would, and records what it was sent.

Each test gives it a function from the request to (status, headers, body): the provider's
documented answers (Slack's `200 ok` or `404 channel_not_found`, Twilio's JSON errors,
`429` with Retry-After), so the adapters are tested against real HTTP over a real socket.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Reply = tuple[int, dict[str, str], bytes]
Answerer = Callable[[Seen], Reply]


def text(status: int, body: str = "", **headers: str) -> Reply:
    return status, {"content-type": "text/plain", **_names(headers)}, body.encode()


def json_reply(status: int, body: object, **headers: str) -> Reply:
    return (
        status,
        {"content-type": "application/json", **_names(headers)},
        json.dumps(body).encode(),
    )


def _names(headers: dict[str, str]) -> dict[str, str]:
    return {name.replace("_", "-"): value for name, value in headers.items()}


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client killed mid-request (the kill test's SIGKILL) is expected, not news."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class ProviderServer:
    def __init__(self, answer: Answerer) -> None:
        self.answer = answer
        self.seen: list[Seen] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                seen = Seen(
                    "POST",
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                owner.seen.append(seen)
                status, headers, body = owner.answer(seen)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    @contextmanager
    def running(self) -> Iterator[ProviderServer]:
        thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            thread.join(5)


@contextmanager
def provider(answer: Answerer) -> Iterator[ProviderServer]:
    with ProviderServer(answer).running() as server:
        yield server
