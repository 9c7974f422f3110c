"""What an IT office watches: Prometheus metrics in a registry of the application's own
(created by create_app, nothing at import time), served by GET /metrics (bot/server.py).

No label holds personal data: channels, statuses, route templates, job names and provider
error codes only; never a number, a chat id, a folio, a text or a path parameter.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "OutboxState", "error_label"]

# Request latency buckets, in seconds: a webhook answers within tens of milliseconds when all is
# well, and the admission line waits at most two seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_SAFE_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9 _.;:-]{0,59}")
_CODE = re.compile(r"\b(\d{3,5})\b")


def error_label(reason: str) -> str:
    """A provider's failure as a label: its kind and error code (`Twilio HTTP 400 código
    63016`, `Telegram BadRequest`). The reasons are built by our senders from codes and class
    names only; anything else becomes `other`."""
    reason = reason.strip()
    return reason if _SAFE_LABEL.fullmatch(reason) and "+" not in reason else "other"


# Channels whose replies wait for the person, not for the service: the console's are printed
# when the citizen next opens `telefono-abierto chat`, however long that takes. Their rows are
# counted, but their age is not a late reply (no alert, no "degraded").
HELD_FOR_THE_PERSON = frozenset({"console"})


@dataclass(frozen=True)
class OutboxState:
    """The outbox as read at one moment: rows per (status, channel) and, per channel, the age in
    seconds of the oldest reply waiting to be sent."""

    rows: dict[tuple[str, str], int] = field(default_factory=dict)
    oldest_pending: dict[str, float] = field(default_factory=dict)

    @property
    def late(self) -> dict[str, float]:
        """The oldest pending reply's age per channel the service itself sends on."""
        return {
            channel: age
            for channel, age in self.oldest_pending.items()
            if channel not in HELD_FOR_THE_PERSON
        }


class Metrics:
    """The service's counters, gauges and histograms, in one registry per application."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.received = Counter(
            "ta_messages_received",
            "Verified messages from citizens and staff, before storing",
            ["channel"],
            registry=registry,
        )
        self.acknowledged = Counter(
            "ta_messages_acknowledged",
            "Messages stored and acknowledged to the provider",
            ["channel"],
            registry=registry,
        )
        self.webhook_responses = Counter(
            "ta_webhook_responses",
            "Webhook answers by channel and HTTP status (403, 408, 413, 429, 503...)",
            ["channel", "status"],
            registry=registry,
        )
        self.admission_inflight = Gauge(
            "ta_admission_inflight", "Webhook requests at work now", registry=registry
        )
        self.admission_waiting = Gauge(
            "ta_admission_waiting",
            "Webhook requests waiting in the admission line",
            registry=registry,
        )
        self.admission_limit = Gauge(
            "ta_admission_limit", "Webhook requests allowed at work at once", registry=registry
        )
        self.admission_refusals = Counter(
            "ta_admission_refusals",
            "Verified webhooks answered 503 because the admission line was full or too slow",
            registry=registry,
        )
        self.outbox_rows = Gauge(
            "ta_outbox_rows",
            "Outbox rows not yet sent, by status (pending, waiting, failed) and channel",
            ["status", "channel"],
            registry=registry,
        )
        self.outbox_oldest_pending = Gauge(
            "ta_outbox_oldest_pending_seconds",
            "Age of the oldest reply waiting to be sent, per channel (0 when none)",
            ["channel"],
            registry=registry,
        )
        self.send_attempts = Counter(
            "ta_send_attempts", "Messages handed to a provider", ["channel"], registry=registry
        )
        self.send_failures = Counter(
            "ta_send_failures",
            "Sends that did not succeed, by outcome and provider error",
            ["channel", "outcome", "error"],
            registry=registry,
        )
        self.last_sent = Gauge(
            "ta_last_sent_timestamp_seconds",
            "When this process last had a message accepted by the provider (Unix time)",
            ["channel"],
            registry=registry,
        )
        self.media_downloads = Counter(
            "ta_media_downloads",
            "Media downloads by channel and outcome (stored, refused, retry)",
            ["channel", "outcome"],
            registry=registry,
        )
        self.scheduler_runs = Counter(
            "ta_scheduler_runs",
            "Scheduled job runs by job and outcome (done, skipped, failed)",
            ["job", "outcome"],
            registry=registry,
        )
        self.scheduler_last_success = Gauge(
            "ta_scheduler_last_success_timestamp_seconds",
            "When each scheduled job last finished without error (Unix time)",
            ["job"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "ta_request_duration_seconds",
            "Time to answer HTTP requests, by route template and method",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.database_errors = Counter(
            "ta_database_errors",
            "Database operations that failed, by where (store, claim, record, health...)",
            ["where"],
            registry=registry,
        )
        self._last_sent: dict[str, float] = {}

    # What the rest of the service calls.

    def sent(self, channel: str) -> None:
        now = time.time()
        self._last_sent[channel] = now
        self.last_sent.labels(channel).set(now)

    def last_sent_at(self) -> dict[str, float]:
        return dict(self._last_sent)

    def send_failed(self, channel: str, outcome: str, reason: str) -> None:
        self.send_failures.labels(channel, outcome, error_label(reason)).inc()

    def job(self, name: str, outcome: str) -> None:
        self.scheduler_runs.labels(name, outcome).inc()
        if outcome in ("done", "skipped"):
            self.scheduler_last_success.labels(name).set(time.time())

    def outbox(self, state: OutboxState) -> None:
        """Set the outbox gauges from a fresh reading (rows that left a state are zeroed)."""
        self.outbox_rows.clear()
        for (status, channel), count in state.rows.items():
            self.outbox_rows.labels(status, channel).set(count)
        self.outbox_oldest_pending.clear()
        for channel, age in state.late.items():
            self.outbox_oldest_pending.labels(channel).set(age)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
