"""Reference CRM webhook receiver: leadrouter-notifier's signed webhooks -> a SQLite owner table.

Copy this to start a CRM integration that needs no Kafka client. It needs only the Standard
Webhooks library (`standardwebhooks`) and the secret the notifier signs with
(NOTIFIER_WEBHOOK_SECRET); the body is documented in schemas/notification.webhook.schema.json.

- Every request is verified (signature and a timestamp within 5 minutes) before it is read;
  one that fails is answered 401 and changes nothing.
- Deliveries are de-duplicated by `webhook-id`, the notification id, which stays the same on
  every retry: the notifier sends at least once, so a repeat after its crash is answered 200
  and changes nothing.
- The id is recorded in the same SQLite transaction as the owner change, and the answer is sent
  after it commits: a receiver crash before the answer gets the delivery again, never loses it.

    python examples/crm_webhook/receiver.py --db crm.sqlite3 --port 8099   # secret from
    WEBHOOK_SECRET=whsec_... in the environment
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SCHEMA = """
create table if not exists deliveries (webhook_id text primary key, received_at text not null);
create table if not exists lead_owners (
    lead_id text primary key, rep_id text, pool_id text not null, last_event text not null
);
"""


class Crm:
    """The CRM's side: applies one verified event, once."""

    def __init__(self, db: str) -> None:
        self.connection = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
        self.connection.executescript(SCHEMA)
        self.lock = threading.Lock()

    def apply(self, webhook_id: str, event: dict[str, Any]) -> bool:
        """Record the event; False when this webhook id was applied before."""
        data = event["data"]
        with self.lock:
            cursor = self.connection.cursor()
            cursor.execute("begin")
            try:
                cursor.execute(
                    "insert into deliveries values (?, datetime('now')) on conflict do nothing",
                    (webhook_id,),
                )
                if cursor.rowcount == 0:
                    cursor.execute("rollback")
                    return False
                if event["type"] in ("lead.assigned", "lead.unassigned"):
                    cursor.execute(
                        "insert into lead_owners values (?, ?, ?, ?) on conflict (lead_id) do "
                        "update set rep_id = excluded.rep_id, pool_id = excluded.pool_id, "
                        "last_event = excluded.last_event",
                        (data["lead_id"], data["rep_id"], data["pool_id"], data["event_id"]),
                    )
                cursor.execute("commit")
            except BaseException:
                cursor.execute("rollback")
                raise
        return True


def server(crm: Crm, secret: str, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    verifier = Webhook(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            try:
                event = verifier.verify(body, headers)
            except WebhookVerificationError as exc:
                self._answer(401, {"error": str(exc)})
                return
            fresh = crm.apply(headers["webhook-id"], event)
            self._answer(200, {"applied": fresh})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return ThreadingHTTPServer((host, port), Handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="crm.sqlite3")
    parser.add_argument("--port", type=int, default=8099)
    args = parser.parse_args()
    server(Crm(args.db), os.environ["WEBHOOK_SECRET"], args.port).serve_forever()


if __name__ == "__main__":
    main()
