"""health-checker's Prometheus metrics.

Labels stay low-cardinality except `provider_id` on the consecutive-failures gauge, which is
exported only while a provider is failing (0 means no series) and removed on deletion, so a
healthy fleet of 10,000 carriers costs no series there. Gauges read from the shared database
(providers by status) are the same on every replica: aggregate them with max(), not sum().
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PROBES = Counter(
    "health_check_probes_total",
    "SIP OPTIONS probes by outcome (healthy = any SIP response)",
    ["outcome"],
)
PROBE_RTT = Histogram(
    "health_check_probe_rtt_seconds",
    "First transmission to first response of a probe that got an answer",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8),
)
ROUND_SECONDS = Histogram(
    "health_check_round_seconds",
    "A round: claiming, probing and writing back every target due at its start",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300),
)
LAST_ROUND_SECONDS = Gauge("health_check_last_round_seconds", "Duration of the latest round")
LAST_ROUND_TARGETS = Gauge("health_check_last_round_targets", "Targets probed in the latest round")
ROUNDS = Counter("health_check_rounds_total", "Rounds run (rounds with nothing due not counted)")
ROUND_OVERRUNS = Counter(
    "health_check_round_overruns_total", "Rounds that took longer than HEALTH_CHECK_INTERVAL"
)
IN_FLIGHT = Gauge("health_check_probes_in_flight", "Probes running now")
PROVIDERS_BY_STATUS = Gauge(
    "health_check_providers", "Active providers by their latest probe status", ["status"]
)
CONSECUTIVE_FAILURES = Gauge(
    "health_check_consecutive_failures",
    "Consecutive failed probes of a provider (absent while it answers)",
    ["provider_id"],
)
WRITEBACKS = Counter(
    "health_check_writebacks_total",
    "Result batches sent to provider-manager, by outcome",
    ["outcome"],
)
WRITEBACK_RESULTS = Counter(
    "health_check_writeback_results_total",
    "Results provider-manager applied, ignored (stale hostname, deleted) or lost (call failed)",
    ["outcome"],
)
RESYNCS = Counter(
    "health_check_resyncs_total", "Provider list resyncs over RPC, by outcome", ["outcome"]
)


class FailureGauge:
    """CONSECUTIVE_FAILURES, exported only for failing providers, forgotten on deletion."""

    def __init__(self) -> None:
        self.labelled: set[str] = set()

    def set(self, provider_id: str, failures: int) -> None:
        if failures <= 0:
            self.forget(provider_id)
            return
        CONSECUTIVE_FAILURES.labels(provider_id).set(failures)
        self.labelled.add(provider_id)

    def forget(self, provider_id: str) -> None:
        if provider_id in self.labelled:
            self.labelled.discard(provider_id)
            CONSECUTIVE_FAILURES.remove(provider_id)
