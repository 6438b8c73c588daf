"""The one exception tree of leadrouter: every error it raises on purpose sits on one branch.

    LeadrouterError
    ├── PermanentError        bad input: retrying the same input cannot help; dead-letter it,
    │   │                     answer 4xx, or tell the person what to fix (CLI exit 1)
    │   ├── DecodeError       bytes that are not a record of the expected schema
    │   ├── InvalidRecord     a well-formed record the domain refuses (names the field)
    │   │   └── InvalidLead   a channel's payload that is no usable lead
    │   │       │             (services.ingest.rejection)
    │   │       └── LeadTooLarge  a lead over the topic's message size (HTTP 413, SMTP 552)
    │   ├── ConfigInvalid     a routing config document, every problem with its path
    │   │                     (services.leads.config_errors)
    │   ├── Refused           an HTTP request answered with its problem document
    │   │                     (services.ingest.problems)
    │   ├── OutputsRefused    the broker refuses to write what a record produced: the record
    │   │                     is dead-lettered (services.streaming.isolation)
    │   └── CommandError      a CLI command's arguments or state refused (services.cli.base)
    ├── TransientError        the broker or network: abort, never commit, retry
    │   └── BrokerUnavailable ingest's write not acknowledged in time (services.ingest.publisher)
    └── FatalError            this process must stop: fenced by a newer instance, bad setup
        ├── SettingsInvalid   an environment variable is malformed (exit 2); the message names
        │   │                 the variable, its value and what was expected
        │   └── PortError     a port variable of the local stack (services.demo.ports)
        ├── Unsupported       a schema the compiled Avro codec cannot handle; the codec falls
        │                     back to fastavro (services.streaming.avro_binary)
        ├── BrokerError       the local broker cannot be fetched or started
        │                     (services.streaming.local_broker)
        ├── StackError        `leadrouter run`/`up` could not start the stack (services.demo.stack)
        ├── ProducerLost      librdkafka says the producer is unusable (a fatal error); the
        │   │                 loop makes a new one, a few times (services.streaming.kafka_calls)
        │   └── Fenced        the producer was fenced (a newer one in its slot, or the broker
        │                     timed its transaction out)
        └── StopRequested     a stop outlasted its grace period while the broker was away:
                              the open transaction is left to the broker
                              (services.streaming.kafka_calls)

Library errors are wrapped with `raise ... from exc` so the cause stays attached. The module
imports nothing, so the pure domain may raise these too.
"""

from __future__ import annotations


class LeadrouterError(Exception):
    """Base of every error leadrouter raises on purpose."""


class PermanentError(LeadrouterError):
    """The input is bad; `reason` is a bounded label for metrics and dead letters."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class DecodeError(PermanentError):
    def __init__(self, detail: str) -> None:
        super().__init__("undecodable", detail)


class InvalidRecord(PermanentError):
    pass


class TransientError(LeadrouterError):
    """The broker or network failed; the work is retried from the last commit."""


class FatalError(LeadrouterError):
    """The process cannot go on (fenced, misconfigured, co-partitioning broken)."""


class SettingsInvalid(FatalError):
    """Settings from the environment were refused; each line of `problems` names a variable."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__(f"bad settings: {'; '.join(problems)}")
        self.problems = problems
