"""SMS through Twilio's Messages REST API.

    POST {api}/2010-04-01/Accounts/{AccountSid}/Messages.json     (HTTP basic: sid, auth token)
    To=+49...&From=+1...&Body=...          (or MessagingServiceSid=MG... instead of From)

201 with `{"sid": "SM...", "status": "queued", ...}` is sent; an error is
`{"code": 21211, "message": "...", "more_info": "...", "status": 400}`, and 429 (code 20429)
or 5xx are retried. Twilio's Messages API takes no idempotency key, so a retry after a lost
answer can send twice (at-least-once); the SMS body is the one-line `short` text.
"""

from __future__ import annotations

import httpx

from services.notifier.channels.http_answers import TIMEOUT, answer_of, unreachable
from services.notifier.deliveries import Answer, Delivery, Failed, Sent

API_URL = "https://api.twilio.com"


class TwilioSmsChannel:
    def __init__(
        self,
        account_sid: str | None,
        auth_token: str | None,
        sender: str | None,
        api_url: str = API_URL,
        client: httpx.Client | None = None,
    ) -> None:
        """`sender` is a phone number (From) or a Messaging Service sid (`MG...`)."""
        self.account_sid, self.auth_token, self.sender = account_sid, auth_token, sender
        self.api_url = api_url.rstrip("/")
        self.client = client or httpx.Client(timeout=TIMEOUT)

    def send(self, delivery: Delivery) -> Answer:
        if not (self.account_sid and self.auth_token and self.sender):
            return Failed(
                False,
                "Twilio is not configured (NOTIFIER_TWILIO_ACCOUNT_SID, "
                "NOTIFIER_TWILIO_AUTH_TOKEN, NOTIFIER_TWILIO_FROM)",
            )
        origin = "MessagingServiceSid" if self.sender.startswith("MG") else "From"
        form = {
            "To": delivery.point["to"],
            origin: self.sender,
            "Body": delivery.message["short"] or "",
        }
        url = f"{self.api_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        try:
            response = self.client.post(url, data=form, auth=(self.account_sid, self.auth_token))
        except httpx.HTTPError as exc:
            return unreachable(exc)
        if response.is_success:
            try:
                return Sent(response.json().get("sid"))
            except ValueError:
                return Sent()
        answer = answer_of(response)
        try:
            error = response.json()
        except ValueError:
            return answer
        if isinstance(answer, Failed) and isinstance(error, dict) and "code" in error:
            return Failed(
                answer.retryable,
                f"{error['code']}: {error.get('message', '')}",
                answer.status,
                answer.retry_after_s,
            )
        return answer

    def close(self) -> None:
        self.client.close()
