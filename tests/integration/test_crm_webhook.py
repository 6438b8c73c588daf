"""The reference CRM webhook receiver (examples/crm_webhook) against the notifier's own webhook
adapter: a delivery is applied once however often it is sent; a forged one is refused."""

from __future__ import annotations

import importlib.util
import sqlite3
import threading
from pathlib import Path
from types import ModuleType

from services.notifier.channels.webhook import WebhookChannel
from services.notifier.deliveries import Failed, Sent
from tests.unit.notifier.builders import make_delivery

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "crm_webhook" / "receiver.py"


def receiver_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crm_webhook_receiver", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_receiver_applies_each_notification_once_and_refuses_forgeries(tmp_path: Path) -> None:
    receiver = receiver_module()
    db = tmp_path / "crm.sqlite3"
    http = receiver.server(receiver.Crm(str(db)), SECRET, 0)
    thread = threading.Thread(target=http.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{http.server_address[1]}/leadrouter"
    try:
        delivery = make_delivery("webhook", url=url)
        channel = WebhookChannel(SECRET)
        answers = [channel.send(delivery) for _ in range(3)]  # the notifier retrying
        forged = WebhookChannel("whsec_" + "QUJD" * 8).send(make_delivery("webhook", url=url))
    finally:
        http.shutdown()
        http.server_close()
        thread.join(5)
    assert answers == [Sent(), Sent(), Sent()]
    assert isinstance(forged, Failed) and forged.status == 401 and not forged.retryable
    with sqlite3.connect(db) as connection:
        owners = connection.execute("select lead_id, rep_id, pool_id from lead_owners").fetchall()
        seen = connection.execute("select count(*) from deliveries").fetchone()
    assert owners == [("lead-1", "ann", "inside")]
    assert seen == (1,)
