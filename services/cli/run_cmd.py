"""`leadrouter run | up | down`: the whole system on one machine.

`run` starts the broker (unless KAFKA_BOOTSTRAP_SERVERS names one), creates the topics,
publishes the demo routing config, starts ingest, router, sla_watcher, notifier (whose email
goes to an SMTP sink `run` starts) and the web console (with a demo admin token it prints),
drives the demo feed through the real front doors and shows
`leadrouter top`; Ctrl-C stops everything it started and
says where the logs are. `up` is the same without the feed and the view, left running for your
own channels; `down` stops what `up` started.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from rich.console import Console

from services.cli.base import CommandError, Subparsers, stop_on_signal_or_after
from services.console.settings import Role
from services.console.tokens import new_token, token_hash
from services.demo.feed import FeedSettings
from services.demo.front_doors import FrontDoors
from services.demo.mail_sink import MailSink
from services.demo.ports import Ports
from services.demo.session import feed_and_watch
from services.demo.stack import EXAMPLE_CONFIG, RUN_DIR, Stack, StackError
from services.demo.stack_record import stop_recorded
from services.streaming.local_broker import REPO_ROOT

DEMO_CONFIG = REPO_ROOT / "deploy" / "config" / "routing.demo.yaml"
DEMO_RECIPIENT = "leads@demo.leadrouter.example"


def register(subparsers: Subparsers) -> None:
    run = subparsers.add_parser(
        "run",
        help="start everything locally, feed demo leads, show the live view (Ctrl-C stops)",
        description="Starts a local broker (unless KAFKA_BOOTSTRAP_SERVERS names one), creates "
        "the topics, publishes the routing config, starts ingest, router, sla_watcher, "
        "notifier and the web console (logs under .run/logs/, or LEADROUTER_RUN_DIR), sends demo "
        "leads through the real front doors, changes reps' presence, touches and closes some "
        "leads, and shows the live view; the notifier's email goes to an SMTP sink on "
        "NOTIFIER_SMTP_PORT (default 2526). Ctrl-C stops everything it started. Ports: "
        "INGEST_HTTP_PORT, INGEST_SMTP_PORT, "
        "*_METRICS_PORT, KAFKA_PORT.",
    )
    run.add_argument("--config", type=Path, help=f"routing config (default {DEMO_CONFIG.name})")
    run.add_argument("--rate", type=float, default=1.0, help="demo leads per second (default 1)")
    run.add_argument("--seed", type=int, help="seed for the demo feed (default: random)")
    run.add_argument("--seconds", type=float, help="stop after this long (default: until Ctrl-C)")
    run.set_defaults(func=_run)
    up = subparsers.add_parser(
        "up",
        help="start broker, topics, config and the four services, and leave them running",
        description="`leadrouter run` without the demo feed and the view, for your own "
        "channels; what it started is recorded for `leadrouter down`.",
    )
    up.add_argument("--config", type=Path, help=f"routing config (default {EXAMPLE_CONFIG.name})")
    up.set_defaults(func=_up)
    down = subparsers.add_parser("down", help="stop what `leadrouter up` started")
    down.set_defaults(func=_down)


def _stack(config: Path | None, default: Path, extra_env: dict[str, str]) -> Stack:
    path = (config or Path(os.environ.get("LEADROUTER_CONFIG") or default)).resolve()
    if not path.is_file():
        raise CommandError(f"routing config {path} does not exist")
    ports = Ports.from_env(os.environ)
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None
    return Stack(
        ports,
        config_path=path,
        external_bootstrap=external,
        extra_env=extra_env,
        run_dir=_run_dir(),
    )


def _run_dir() -> Path:
    """Where logs, broker data and the `up` record go (LEADROUTER_RUN_DIR, default .run/)."""
    return Path(os.environ.get("LEADROUTER_RUN_DIR") or RUN_DIR).resolve()


def _logs_line(stack: Stack) -> str:
    where = (
        stack.log_dir.relative_to(REPO_ROOT)
        if stack.log_dir.is_relative_to(REPO_ROOT)
        else stack.log_dir
    )
    names = ", ".join(sorted(p.name for p in stack.log_dir.glob("*.log")))
    broker = f"; the broker's in {stack.broker.log_file}" if stack.broker else ""
    if not names:
        return f"no service logs yet{broker}"
    return f"logs are in {where}/ ({names}){broker}"


def demo_login() -> tuple[str, dict[str, str]]:
    """A fresh admin token for the console, and the environment that configures its hash."""
    token = new_token()
    entry = {"name": "demo", "role": Role.ADMIN.value, "sha256": token_hash(token)}
    env = {"CONSOLE_TOKENS": json.dumps([entry]), "CONSOLE_SESSION_SECRET": secrets.token_hex(32)}
    return token, env


def _console_line(stack: Stack, token: str) -> str:
    return f"console        http://127.0.0.1:{stack.ports.console}/  (demo login: token {token})"


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _start(stack: Stack, say: Callable[[str], None]) -> None:
    """Start the stack; Ctrl-C or SIGTERM half-way stops whatever had started."""
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        stack.start(say=say)
    except StackError as exc:  # where the logs are is known here, not in the stack
        raise StackError(f"{exc} ({_logs_line(stack)})") from exc
    except KeyboardInterrupt:
        logs = _logs_line(stack)
        stack.stop()
        raise CommandError(f"interrupted while starting; {logs}") from None
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _run(args: argparse.Namespace) -> int:
    if args.rate <= 0:
        raise CommandError(f"--rate must be above 0 leads per second, got {args.rate}")
    form_secret, chat_secret, twilio_token = (secrets.token_hex(16) for _ in range(3))
    ingest_env = {
        "INGEST_FORMS": json.dumps({"contact": {"secret": form_secret, "honeypot": "website"}}),
        "INGEST_CHAT_SECRET": chat_secret,
        "INGEST_TWILIO_AUTH_TOKEN": twilio_token,
        "INGEST_SMTP_RECIPIENTS": DEMO_RECIPIENT,
    }
    token, console_env = demo_login()
    stack = _stack(args.config, DEMO_CONFIG, ingest_env | console_env)
    doors = FrontDoors(
        http_base=f"http://127.0.0.1:{stack.ports.http}",
        smtp_port=stack.ports.smtp,
        form_secret=form_secret,
        chat_secret=chat_secret,
        twilio_auth_token=twilio_token,
        form_id="contact",
        email_to=DEMO_RECIPIENT,
    )
    console = Console()
    stop = threading.Event()
    sink = MailSink(stack.ports.mail_sink)
    try:
        sink.start()
    except OSError as exc:
        raise CommandError(
            f"cannot start the demo's SMTP sink on port {stack.ports.mail_sink} "
            f"(NOTIFIER_SMTP_PORT): {exc}"
        ) from exc
    try:
        _start(stack, console.print)
    except BaseException:
        sink.stop()
        raise
    console.print(_console_line(stack, token), highlight=False)
    stats: dict[str, int] = {}
    try:  # from here on, whatever happens, the stack is stopped before returning
        stop_on_signal_or_after(stop, args.seconds)
        feed_and_watch(
            stack,
            doors,
            FeedSettings(rate_per_s=args.rate, seed=args.seed),
            console=console,
            stop=stop,
            stats=stats,
        )
    finally:
        stop.set()
        console.print(
            "stopping ingest, router, sla_watcher, notifier and console"
            + (" and kafka" if stack.broker else "")
        )
        logs = _logs_line(stack)
        stack.stop()
        sink.stop()
        console.print(f"notifier: {sink.received} email(s) reached the demo's SMTP sink")
        sent = ", ".join(f"{k} {v}" for k, v in sorted(stats.items())) or "nothing"
        console.print(f"demo feed: {sent}")
        console.print(f"stopped; {logs}")
    return 0


def _up(args: argparse.Namespace) -> int:
    token, console_env = demo_login()
    defaults = {"INGEST_SMTP_RECIPIENTS": DEMO_RECIPIENT, **console_env}
    stack = _stack(
        args.config, EXAMPLE_CONFIG, {k: v for k, v in defaults.items() if k not in os.environ}
    )
    if (_run_dir() / "stack.json").exists():
        raise CommandError(
            f"a stack is already recorded in {_run_dir() / 'stack.json'}: "
            "run `leadrouter down` first"
        )
    _start(stack, print)
    stack.save()
    ports = stack.ports
    print(f"kafka          {stack.bootstrap}")
    print(
        f"HTTP front door http://127.0.0.1:{ports.http}/v1/leads/...  SMTP 127.0.0.1:{ports.smtp}"
    )
    print(
        f"metrics        ingest :{ports.ingest_metrics}  router :{ports.router_metrics}  "
        f"sla_watcher :{ports.sla_metrics}  notifier :{ports.notifier_metrics}  "
        f"console :{ports.console_metrics}"
    )
    if "CONSOLE_TOKENS" not in os.environ:
        print(_console_line(stack, token))
    print(f"{_logs_line(stack)}; watch with `leadrouter top`, stop with `leadrouter down`")
    return 0


def _down(_args: argparse.Namespace) -> int:
    stopped = stop_recorded(_run_dir())
    if not stopped:
        print(f"nothing to stop: no running stack recorded in {_run_dir() / 'stack.json'}")
        return 0
    print(f"stopped {', '.join(stopped)}; logs are in {_run_dir() / 'logs'}")
    return 0
