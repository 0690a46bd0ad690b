"""One INVITE of a call, as recorded on the call (`attempts`) and measured for statistics.

The controller of a call is the only writer of its attempts while it lives, so it keeps the
list in memory and every write stores the whole list (a handful of small objects).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.timefmt import render, utcnow

from call_manager.dialing.candidates import DialCandidate


@dataclass(slots=True)
class Attempt:
    provider_id: str
    route_id: str
    request_uri: str
    tm_start: datetime
    sip_call_id: str = ""
    sip_status_code: int = 0
    sip_reason: str = ""
    tm_end: datetime | None = None
    # The provider's addresses this INVITE went to (RFC 3263 failover), in order.
    targets: list[dict[str, Any]] = field(default_factory=list)
    # Event-loop clock marks for the statistics; never stored.
    invited_at: float = field(default=0.0, compare=False)
    progress_at: float | None = field(default=None, compare=False)
    answered_at: float | None = field(default=None, compare=False)

    @classmethod
    def begin(cls, candidate: DialCandidate, at: datetime | None = None) -> Attempt:
        return cls(
            provider_id=candidate.provider_id,
            route_id=candidate.route_id,
            request_uri=candidate.spec.request_uri,
            tm_start=at or utcnow(),
        )

    @property
    def open(self) -> bool:
        return self.tm_end is None

    def close(self, status_code: int, reason: str, at: datetime | None = None) -> None:
        """Record how the INVITE ended; an answered attempt keeps its 2xx (the BYE that
        ends the call later is not this INVITE's outcome)."""
        if self.answered_at is None:
            self.sip_status_code = status_code
            self.sip_reason = reason
        self.tm_end = at or utcnow()

    def wire(self) -> dict[str, Any]:
        return {
            "provider_id": self.provider_id,
            "route_id": self.route_id,
            "request_uri": self.request_uri,
            "sip_call_id": self.sip_call_id,
            "sip_status_code": self.sip_status_code,
            "sip_reason": self.sip_reason,
            "tm_start": render(self.tm_start),
            "tm_end": render(self.tm_end),
            "targets": list(self.targets),
        }
