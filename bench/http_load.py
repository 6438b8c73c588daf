"""A small keep-alive HTTP/1.1 load generator on asyncio streams.

General clients spend more CPU per request than the server under test on this small a machine,
so the load generator would be what is measured. Requests are rendered to bytes before the clock
starts; a connection sends one, reads the status line, headers and a Content-Length body, and
sends the next.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request's outcome: status, the lead id it answered with, and its timing."""

    status: int
    lead_id: str | None
    intended_s: float
    """When the request was due to go out (time.monotonic): latency counts from here, so a
    backed-up client does not hide its own queueing."""
    answered_s: float


def render(
    path: str, body: bytes, content_type: str, headers: Sequence[tuple[str, str]] = ()
) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: bench", f"Content-Type: {content_type}"]
    lines += [f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        length = 0
        for line in header_lines:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        body = await self.reader.readexactly(length) if length else b""
        return int(status_line.split(" ", 2)[1]), body

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def _lead_id(body: bytes) -> str | None:
    if not body.startswith(b"{"):
        return None
    value = json.loads(body).get("lead_id")
    return str(value) if value is not None else None


async def closed_loop(
    host: str, port: int, requests: Sequence[bytes], concurrency: int
) -> tuple[float, list[Exchange]]:
    """Send every request over `concurrency` connections, each waiting for its answer."""
    connections = [await Connection.open(host, port) for _ in range(concurrency)]
    queue = iter(requests)
    exchanges: list[Exchange] = []

    async def worker(connection: Connection) -> None:
        for request in queue:
            sent = time.monotonic()
            status, body = await connection.exchange(request)
            exchanges.append(Exchange(status, _lead_id(body), sent, time.monotonic()))

    started = time.monotonic()
    await asyncio.gather(*(worker(c) for c in connections))
    elapsed = time.monotonic() - started
    for connection in connections:
        await connection.close()
    return elapsed, exchanges


async def open_loop(
    host: str, port: int, requests: Sequence[bytes], rate: float, connections: int
) -> list[Exchange]:
    """Send request i at start + i / rate whatever the answers do, over a pool of connections.

    When every connection is busy a due request waits for one; its latency still counts from
    when it was due.
    """
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await Connection.open(host, port))
    exchanges: list[Exchange] = []
    start = time.monotonic() + 0.05

    async def send(index: int, request: bytes) -> None:
        intended = start + index / rate
        connection = await pool.get()
        try:
            status, body = await connection.exchange(request)
        finally:
            pool.put_nowait(connection)
        exchanges.append(Exchange(status, _lead_id(body), intended, time.monotonic()))

    tasks = []
    for index, request in enumerate(requests):
        delay = start + index / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(index, request)))
    await asyncio.gather(*tasks)
    while not pool.empty():
        await pool.get_nowait().close()
    return exchanges
