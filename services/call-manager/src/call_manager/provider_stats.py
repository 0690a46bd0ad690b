"""Per-provider call statistics as Prometheus metrics (served on the ops port's /metrics).

    provider_call_attempts_total{provider_id}            INVITEs sent (each failover counts)
    provider_call_answers_total{provider_id}             attempts answered (2xx)
    provider_call_failures_total{provider_id,code}       attempts ended unanswered
    provider_call_post_dial_delay_seconds{provider_id}   INVITE -> first 18x (or -> 2xx)
    provider_call_duration_seconds{provider_id}          answer -> end of answered calls

Answer-seizure ratio: rate(answers) / rate(attempts); average duration:
rate(duration_sum) / rate(duration_count). Attempts we cancelled ourselves (API hangup,
ring timeout, a groupcall answered elsewhere) count as failures with code="canceled", so
`attempts = answers + failures` once calls are over; leave them out of the ratio if the
callee never had a fair chance to answer.

Cardinality: `code` is the exact SIP code only for a fixed set that operators act on;
any other final response is folded into its class ("4xx", ...), plus "unreachable" (no final
response: Timer B, DNS or transport) and "canceled". That is at most 21 values per provider,
whatever a carrier sends. `provider_id` is bounded by the providers configured; a sip
destination dialed directly is counted as provider_id="direct".
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram
from shared.ids import NIL_UUID

from call_manager.dialing.leg import LegEndKind

DIRECT = "direct"
CANCELED = "canceled"
UNREACHABLE = "unreachable"
EXACT_CODES = frozenset({403, 404, 408, 480, 484, 486, 487, 488, 500, 502, 503, 504, 600, 603, 604})

ATTEMPTS = Counter(
    "provider_call_attempts_total", "Outbound INVITEs sent, by provider", ["provider_id"]
)
ANSWERS = Counter(
    "provider_call_answers_total", "Outbound attempts answered, by provider", ["provider_id"]
)
FAILURES = Counter(
    "provider_call_failures_total",
    "Outbound attempts ended unanswered, by provider and SIP code (see provider_stats.py)",
    ["provider_id", "code"],
)
POST_DIAL_DELAY = Histogram(
    "provider_call_post_dial_delay_seconds",
    "INVITE sent to the first 18x (or to the answer when no 18x came), by provider",
    ["provider_id"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60),
)
DURATION = Histogram(
    "provider_call_duration_seconds",
    "Answered call duration (answer to hangup), by provider",
    ["provider_id"],
    buckets=(1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200),
)


def provider_label(provider_id: str) -> str:
    return DIRECT if provider_id == NIL_UUID else provider_id


def code_label(status_code: int) -> str:
    if status_code in EXACT_CODES:
        return str(status_code)
    if 300 <= status_code <= 699:
        return f"{status_code // 100}xx"
    return UNREACHABLE


def failure_label(kind: LegEndKind | None, status_code: int, cancelled_by_us: bool) -> str:
    """The `code` label of an unanswered attempt's end."""
    if cancelled_by_us or kind is LegEndKind.CANCELED:
        return CANCELED
    if kind is LegEndKind.REJECTED:
        return code_label(status_code)
    return UNREACHABLE


def attempt_started(provider_id: str) -> None:
    ATTEMPTS.labels(provider_label(provider_id)).inc()


def post_dial_delay(provider_id: str, seconds: float) -> None:
    POST_DIAL_DELAY.labels(provider_label(provider_id)).observe(max(seconds, 0.0))


def attempt_answered(provider_id: str) -> None:
    ANSWERS.labels(provider_label(provider_id)).inc()


def attempt_failed(provider_id: str, code: str) -> None:
    FAILURES.labels(provider_label(provider_id), code).inc()


def call_duration(provider_id: str, seconds: float) -> None:
    DURATION.labels(provider_label(provider_id)).observe(max(seconds, 0.0))
