"""What one probe concludes, and the shape of the callable that probes.

The scheduler only knows `Probe`: the SIP OPTIONS prober in production (sip_probe.py), an
in-memory fake in unit tests.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Literal, Protocol

from shared.contracts.health import ProbeStatus

# Metric label values, a closed set: `healthy` (any SIP response), `timeout` (no response),
# `unresolvable` (DNS/target syntax), `error` (could not send, or the probe itself failed).
ProbeKind = Literal["healthy", "timeout", "unresolvable", "error"]
PROBE_KINDS: tuple[ProbeKind, ...] = ("healthy", "timeout", "unresolvable", "error")


@dataclass(frozen=True, slots=True)
class ProbeReport:
    kind: ProbeKind
    status_code: int | None = None
    reason: str | None = None
    rtt_ms: float | None = None
    address: str | None = None
    error: str | None = None

    @property
    def healthy(self) -> bool:
        return self.kind == "healthy"

    @property
    def status(self) -> ProbeStatus:
        return "healthy" if self.healthy else "unhealthy"


class Probe(Protocol):
    """`hostname` as the provider has it ("sip.example.com", "10.0.0.1:5070"), `timeout`
    in seconds, `transport` the provider's ("" = RFC 3263 chooses, "udp", "tcp", "tls")."""

    def __call__(
        self, hostname: str, timeout: float, transport: str = ""
    ) -> Awaitable[ProbeReport]: ...


def failed(kind: ProbeKind, error: str, address: str | None = None) -> ProbeReport:
    return ProbeReport(kind=kind, error=error, address=address)
