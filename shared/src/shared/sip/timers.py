"""RFC 3261 timer values (section 17, table 4), made parameters so tests can shrink them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SipTimers:
    t1: float = 0.5  # RTT estimate; first retransmission interval
    t2: float = 4.0  # cap of the non-INVITE retransmission interval
    t4: float = 5.0  # how long a message may live in the network
    timer_d: float = 32.0  # how long a completed INVITE transaction re-ACKs retransmitted finals

    @property
    def timer_b(self) -> float:
        """INVITE transaction timeout while no response has arrived."""
        return 64 * self.t1

    @property
    def timer_f(self) -> float:
        """Default non-INVITE transaction timeout."""
        return 64 * self.t1


DEFAULT_TIMERS = SipTimers()
