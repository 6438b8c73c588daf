"""Twilio SMS against a local server speaking the Messages API, its requests checked against
the ones Twilio's own library makes; email against a real aiosmtpd server, in the clear, over
STARTTLS with AUTH, and over implicit TLS."""

from __future__ import annotations

import base64
import email
import json
import logging
import socket
import ssl
from collections.abc import Iterator
from email.message import Message
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client

from services.notifier.channels.smtp_email import SmtpChannel, SmtpServer
from services.notifier.channels.twilio_sms import TwilioSmsChannel
from services.notifier.deliveries import Failed, Sent
from tests.integration.notifier.providers import Seen, json_reply, provider
from tests.unit.notifier.builders import make_delivery

SID, TOKEN, FROM = "AC" + "1" * 32, "secret-token", "+15005550006"
MESSAGE_SID = "SM" + "2" * 32


class TwilioCapture(HttpClient):
    """Twilio's library with its HTTP client swapped for one that notes the request."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("twilio.test"), is_async=False)
        self.requests: list[dict[str, Any]] = []

    def request(  # noqa: PLR0917 - the signature Twilio's library calls
        self,
        method: str,
        uri: str,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        auth: Any = None,
        timeout: Any = None,
        allow_redirects: bool = False,
    ) -> Response:
        self.requests.append({"method": method, "uri": uri, "data": data, "auth": auth})
        return Response(201, json.dumps({"sid": MESSAGE_SID, "status": "queued"}))


def twilio_answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
    form = parse_qs(seen.body.decode())
    if form["To"] == ["+4915100000000"]:
        return json_reply(
            400,
            {
                "code": 21211,
                "message": "The 'To' number is not a valid phone number.",
                "more_info": "https://www.twilio.com/docs/errors/21211",
                "status": 400,
            },
        )
    if form["To"] == ["+4915100000429"]:
        return json_reply(
            429, {"code": 20429, "message": "Too Many Requests", "status": 429}, retry_after="2"
        )
    return json_reply(201, {"sid": MESSAGE_SID, "status": "queued", "to": form["To"][0]})


def test_twilio_request_is_the_one_twilios_library_makes_and_answers_are_read() -> None:
    delivery = make_delivery("sms", to="+4915123456789")
    capture = TwilioCapture()
    Client(SID, TOKEN, http_client=capture).messages.create(
        to="+4915123456789", from_=FROM, body=delivery.message["short"]
    )
    (reference,) = capture.requests
    with provider(twilio_answer) as twilio:
        channel = TwilioSmsChannel(SID, TOKEN, FROM, api_url=twilio.url)
        assert channel.send(delivery) == Sent(MESSAGE_SID)
        refused = channel.send(make_delivery("sms", to="+4915100000000"))
        limited = channel.send(make_delivery("sms", to="+4915100000429"))
    assert refused == Failed(False, "21211: The 'To' number is not a valid phone number.", 400)
    assert limited == Failed(True, "20429: Too Many Requests", 429, 2.0)
    ours = twilio.seen[0]
    assert ours.method == reference["method"]
    assert ours.path == urlsplit(reference["uri"]).path
    assert {k: v[0] for k, v in parse_qs(ours.body.decode()).items()} == reference["data"]
    user, _, password = (
        base64.b64decode(ours.headers["authorization"].split()[1]).decode().partition(":")
    )
    assert (user, password) == reference["auth"]


class Mailbox:
    """An aiosmtpd handler: keeps what it accepts; refuses two addresses as servers do."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_RCPT(  # noqa: N802 - the name aiosmtpd dispatches to
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 mailbox unavailable"
        if address.startswith("grey@"):
            return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        assert isinstance(envelope.content, bytes)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK queued"


def accept_ann(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"ann", b"pw")
    return AuthResult(success=ok)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
def plain() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield box, controller.port
    finally:
        controller.stop()


def test_email_is_multipart_with_a_message_id_from_the_notification_id(
    plain: tuple[Mailbox, int],
) -> None:
    box, port = plain
    delivery = make_delivery("email", to="ann@example.com")
    channel = SmtpChannel(SmtpServer(port=port, sender="leads@acme.example"))
    assert channel.send(delivery) == Sent(f"<{delivery.notification_id}@acme.example>")
    (mail,) = box.messages
    assert mail["Message-ID"] == f"<{delivery.notification_id}@acme.example>"
    assert mail["To"] == "ann@example.com"
    assert mail["Subject"] == delivery.message["subject"]
    assert [p.get_content_type() for p in mail.walk()] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]


def test_smtp_refusals_say_whether_to_retry(plain: tuple[Mailbox, int]) -> None:
    box, port = plain
    channel = SmtpChannel(SmtpServer(port=port))
    refused = channel.send(make_delivery("email", to="nobody@example.com"))
    greylisted = channel.send(make_delivery("email", to="grey@example.com"))
    assert refused == Failed(False, "5.1.1 mailbox unavailable", 550)
    assert greylisted == Failed(True, "4.7.1 greylisted, try again later", 451)
    assert box.messages == []


def test_email_over_starttls_with_auth(ca: trustme.CA) -> None:
    box = Mailbox()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=server_context(ca),
        require_starttls=True,
        authenticator=accept_ann,
        auth_require_tls=True,
        auth_required=True,
    )
    controller.start()
    try:
        server = SmtpServer(
            port=controller.port,
            security="starttls",
            username="ann",
            password="pw",
            tls_context=client_context(ca),
        )
        assert isinstance(SmtpChannel(server).send(make_delivery("email", to="a@x.io")), Sent)
        anonymous = SmtpServer(
            port=controller.port, security="starttls", tls_context=client_context(ca)
        )
        refused = SmtpChannel(anonymous).send(make_delivery("email", to="a@x.io"))
    finally:
        controller.stop()
    assert len(box.messages) == 1
    assert isinstance(refused, Failed) and refused.status == 530 and not refused.retryable


def test_email_over_implicit_tls(ca: trustme.CA) -> None:
    box = Mailbox()
    controller = Controller(
        box, hostname="127.0.0.1", port=free_port(), ssl_context=server_context(ca)
    )
    controller.start()
    try:
        server = SmtpServer(port=controller.port, security="tls", tls_context=client_context(ca))
        assert isinstance(SmtpChannel(server).send(make_delivery("email", to="a@x.io")), Sent)
    finally:
        controller.stop()
    assert len(box.messages) == 1
