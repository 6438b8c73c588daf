"""A prospect as each channel's provider would send it (pure: ids and times come in).

The shapes follow docs/channels.md: an HTML form post, Twilio's inbound-message webhook, the
chat-started webhook, and a plain RFC 5322 email. Signing is the provider's side of each scheme,
written here from the published descriptions so the demo exercises the real checks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from urllib.parse import urlencode

from services.demo.people import Prospect


def form_fields(prospect: Prospect, submission_id: str, campaign: str) -> list[tuple[str, str]]:
    fields = [
        ("first_name", prospect.first_name),
        ("last_name", prospect.last_name),
        ("email", prospect.email),
        ("phone", prospect.phone),
        ("country", prospect.country),
        ("product", prospect.product),
        ("message", prospect.message),
        ("deal_value", str(prospect.deal_value)),
        ("utm_source", "demo"),
        ("utm_campaign", campaign),
        ("submission_id", submission_id),
    ]
    if prospect.company:
        fields.append(("company", prospect.company))
    return fields


def form_body(fields: list[tuple[str, str]]) -> bytes:
    return urlencode(fields).encode()


def form_signature(secret: str, body: bytes, now_s: int) -> str:
    mac = hmac.new(secret.encode(), f"{now_s}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={now_s},v1={mac}"


def twilio_params(prospect: Prospect, message_sid: str, to_number: str) -> list[tuple[str, str]]:
    return [
        ("MessageSid", message_sid),
        ("SmsSid", message_sid),
        ("AccountSid", "AC" + hashlib.sha256(b"leadrouter-demo").hexdigest()[:32]),
        ("From", prospect.phone.replace(" ", "")),
        ("To", to_number),
        ("Body", f"Hi, {prospect.first_name} here. {prospect.message}"),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("FromCountry", prospect.country),
        ("SmsStatus", "received"),
        ("ApiVersion", "2010-04-01"),
    ]


def twilio_signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    """Twilio's scheme: the full URL, then every parameter's name and value sorted by name."""
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def chat_body(prospect: Prospect, conversation_id: str, visitor_id: str) -> bytes:
    document = {
        "event": "conversation.started",
        "conversation_id": conversation_id,
        "site_id": "www",
        "visitor": {
            "id": visitor_id,
            "name": f"{prospect.first_name} {prospect.last_name}",
            "email": prospect.email,
            "country": prospect.country,
            "language": prospect.language,
            "company": prospect.company,
        },
        "first_message": prospect.message,
        "page_url": f"https://www.example.com/{prospect.product}/pricing",
        "product": prospect.product,
        "utm": {"source": "demo", "medium": "chat"},
    }
    return json.dumps(document, ensure_ascii=False).encode()


def hub_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def email_message(prospect: Prospect, message_id: str, to: str, sent_at_ms: int) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((f"{prospect.first_name} {prospect.last_name}", prospect.email))
    message["To"] = to
    message["Subject"] = f"Question about {prospect.product}"
    message["Message-ID"] = f"<{message_id}@demo.leadrouter.example>"
    message["Date"] = format_datetime(datetime.fromtimestamp(sent_at_ms / 1000, tz=UTC))
    message["Content-Language"] = prospect.language
    signature = f"{prospect.first_name} {prospect.last_name}"
    if prospect.company:
        signature += f"\n{prospect.company}"
    message.set_content(f"Hello,\n\n{prospect.message}\n\n{signature}\n{prospect.phone}\n")
    return message
