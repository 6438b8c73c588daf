"""`leadrouter lead send`: one lead through a real front door (form, SMS, chat or email)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import time
import uuid

import httpx

from services.cli.base import CommandError, Subparsers
from services.demo.front_doors import CHANNELS, FrontDoorClient, FrontDoors
from services.demo.people import COUNTRIES, Prospect, make_prospect

LANGUAGES = {country: language for country, language, _phone in COUNTRIES}


def register(subparsers: Subparsers) -> None:
    lead = subparsers.add_parser("lead", help="send leads through ingest's front doors")
    actions = lead.add_subparsers(dest="action", required=True)
    send = actions.add_parser(
        "send",
        help="send one lead (made-up details unless given) and print its lead id",
        description="Fields not given are made up. Secrets come from INGEST_CHAT_SECRET, "
        "INGEST_TWILIO_AUTH_TOKEN and LEADROUTER_FORM_SECRET, as ingest is configured.",
    )
    send.add_argument("--channel", choices=CHANNELS, required=True)
    for field in ("first-name", "last-name", "email", "phone", "company", "country"):
        send.add_argument(f"--{field}")
    send.add_argument("--language", help="ISO 639-1 code, e.g. de")
    send.add_argument("--product")
    send.add_argument("--message")
    send.add_argument("--form-id", default="contact", help="form id in the URL (default contact)")
    send.add_argument(
        "--url",
        default=f"http://127.0.0.1:{os.environ.get('INGEST_HTTP_PORT', '8080')}",
        help="ingest's HTTP base URL (default from INGEST_HTTP_PORT)",
    )
    send.add_argument(
        "--smtp",
        default=f"127.0.0.1:{os.environ.get('INGEST_SMTP_PORT', '2525')}",
        help="ingest's SMTP host:port (default from INGEST_SMTP_PORT)",
    )
    send.add_argument("--to", default="leads@demo.leadrouter.example", help="email recipient")
    send.add_argument("--sms-to", default="+14155550100", help="the number the SMS was sent to")
    send.set_defaults(func=_send)


def _prospect(args: argparse.Namespace) -> Prospect:
    made_up = make_prospect(random.Random(time.time_ns()))
    given = {
        "first_name": args.first_name,
        "last_name": args.last_name,
        "email": args.email,
        "phone": args.phone,
        "company": args.company,
        "country": args.country,
        "language": args.language,
        "product": args.product,
        "message": args.message,
    }
    if args.country and not args.language:
        # A made-up language from another country would route the lead as nobody expects.
        given["language"] = LANGUAGES.get(args.country.upper(), made_up.language)
    return dataclasses.replace(made_up, **{k: v for k, v in given.items() if v is not None})


def _doors(args: argparse.Namespace) -> FrontDoors:
    host, _, port = args.smtp.rpartition(":")
    if not host or not port.isdigit():
        raise CommandError(f"--smtp expects host:port, got {args.smtp!r}")
    return FrontDoors(
        http_base=args.url.rstrip("/"),
        smtp_host=host,
        smtp_port=int(port),
        form_secret=os.environ.get("LEADROUTER_FORM_SECRET") or None,
        chat_secret=os.environ.get("INGEST_CHAT_SECRET") or None,
        twilio_auth_token=os.environ.get("INGEST_TWILIO_AUTH_TOKEN") or None,
        form_id=args.form_id,
        sms_number=args.sms_to,
        email_to=args.to,
    )


def _send(args: argparse.Namespace) -> int:
    prospect = _prospect(args)
    with httpx.Client(timeout=15.0) as http:
        client = FrontDoorClient(_doors(args), http)
        try:
            delivery = client.send(
                args.channel, prospect, uuid.uuid4().hex, int(time.time() * 1000)
            )
        except httpx.HTTPError as exc:
            raise CommandError(f"ingest at {args.url} did not answer: {exc}") from exc
    if not delivery.accepted:
        raise CommandError(f"{args.channel} refused with {delivery.status}: {delivery.detail}")
    print(
        f"accepted ({delivery.status}) {args.channel} lead"
        + (f" {delivery.lead_id}" if delivery.lead_id else "")
        + f" from {prospect.phone if args.channel == 'sms' else prospect.email}"
    )
    return 0
