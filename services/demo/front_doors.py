"""Sending one lead through ingest's real front doors: HTTP for forms, chat and SMS, SMTP for email.

`FrontDoors` holds where ingest listens and the secrets it checks; each `send_*` returns a
`Delivery` saying whether ingest accepted the lead (202, TwiML 200, SMTP 250) and, if not, the
status and the first line of its answer. Nothing here retries: the caller decides.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

import httpx

from services.demo.payloads import (
    chat_body,
    email_message,
    form_body,
    form_fields,
    form_signature,
    hub_signature,
    twilio_params,
    twilio_signature,
)
from services.demo.people import Prospect

CHANNELS = ("form", "sms", "chat", "email")


@dataclass(frozen=True, slots=True)
class Delivery:
    channel: str
    accepted: bool
    status: str
    lead_id: str | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class FrontDoors:
    http_base: str = "http://127.0.0.1:8080"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    form_secret: str | None = None
    chat_secret: str | None = None
    twilio_auth_token: str | None = None
    form_id: str = "contact"
    sms_number: str = "+14155550100"
    """The number prospects text (Twilio's `To`)."""
    email_to: str = "leads@demo.leadrouter.example"


def _problem_line(response: httpx.Response) -> str:
    try:
        problem = response.json()
    except ValueError:
        return response.text.strip().splitlines()[0] if response.text.strip() else ""
    if isinstance(problem, dict):
        return str(problem.get("detail") or problem.get("title") or problem)
    return str(problem)


def _delivery(channel: str, response: httpx.Response, accepted_status: int) -> Delivery:
    if response.status_code != accepted_status:
        return Delivery(channel, False, str(response.status_code), None, _problem_line(response))
    lead_id = None
    if response.headers.get("content-type", "").startswith("application/json"):
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if isinstance(answer, dict) and isinstance(answer.get("lead_id"), str):
            lead_id = answer["lead_id"]
    return Delivery(channel, True, str(response.status_code), lead_id)


class FrontDoorClient:
    def __init__(self, doors: FrontDoors, http: httpx.Client) -> None:
        self.doors = doors
        self.http = http

    def send(self, channel: str, prospect: Prospect, token: str, now_ms: int) -> Delivery:
        """`prospect` as `channel`'s provider would send it; `token` makes its provider ids."""
        if channel == "form":
            body = form_body(form_fields(prospect, f"sub-{token}", "demo"))
            return self.send_form(self.doors.form_id, body, now_ms // 1000)
        if channel == "chat":
            return self.send_chat(chat_body(prospect, f"c_{token}", f"v_{token[:12]}"))
        if channel == "sms":
            return self.send_sms(twilio_params(prospect, f"SM{token}", self.doors.sms_number))
        if channel == "email":
            return self.send_email(email_message(prospect, token, self.doors.email_to, now_ms))
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}, got {channel!r}")

    def send_form(self, form_id: str, body: bytes, now_s: int) -> Delivery:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if self.doors.form_secret:
            headers["X-Leadrouter-Signature"] = form_signature(self.doors.form_secret, body, now_s)
        url = f"{self.doors.http_base}/v1/leads/forms/{form_id}"
        return _delivery("form", self.http.post(url, content=body, headers=headers), 202)

    def send_chat(self, body: bytes) -> Delivery:
        headers = {"Content-Type": "application/json"}
        if self.doors.chat_secret:
            headers["X-Hub-Signature-256"] = hub_signature(self.doors.chat_secret, body)
        url = f"{self.doors.http_base}/v1/leads/chat"
        return _delivery("chat", self.http.post(url, content=body, headers=headers), 202)

    def send_sms(self, params: list[tuple[str, str]]) -> Delivery:
        url = f"{self.doors.http_base}/v1/leads/sms/twilio"
        headers = {}
        if self.doors.twilio_auth_token:
            headers["X-Twilio-Signature"] = twilio_signature(
                self.doors.twilio_auth_token, url, params
            )
        response = self.http.post(url, data=dict(params), headers=headers)
        return _delivery("sms", response, 200)

    def send_email(self, message: EmailMessage) -> Delivery:
        try:
            with smtplib.SMTP(self.doors.smtp_host, self.doors.smtp_port, timeout=10) as smtp:
                refused = smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            detail = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            return Delivery("email", False, str(exc.smtp_code), None, detail)
        except (smtplib.SMTPException, OSError) as exc:
            return Delivery("email", False, "unreachable", None, str(exc))
        if refused:
            return Delivery("email", False, "refused", None, str(refused))
        return Delivery("email", True, "250")
