"""The small interface between a call's controller and the SIP stack.

The controller never sees SIP messages: a leg reports facts (1xx, answer, the end and its
kind) to a listener, and takes two orders (cancel before answer, BYE after). That keeps the
status machine testable with a scripted fake and lets the SIP layer change underneath.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class LegEventKind(StrEnum):
    PROVISIONAL = "provisional"  # a 1xx other than 100 (180, 183)
    ANSWERED = "answered"  # 2xx, ACKed, media flowing
    ENDED = "ended"


class LegEndKind(StrEnum):
    REJECTED = "rejected"  # final 3xx-6xx, ACKed
    CANCELED = "canceled"  # our CANCEL took effect (487 ACKed, or a crossing 200 ACKed+BYEd)
    REMOTE_BYE = "remote_bye"  # the carrier's BYE, answered 200
    LOCAL_BYE = "local_bye"  # our BYE completed (any final response or timeout)
    UNREACHABLE = "unreachable"  # resolution or transport failure, or no response (Timer B)
    MEDIA_TIMEOUT = "media_timeout"  # answered, then BYEd by us: no RTP came in for too long
    SESSION_EXPIRED = "session_expired"  # BYEd by us: the RFC 4028 session was not refreshed


@dataclass(frozen=True, slots=True)
class LegEvent:
    kind: LegEventKind
    status_code: int = 0
    end: LegEndKind | None = None
    detail: str = ""
    # With ANSWERED: what a BYE from another replica needs (stored while the call lasts).
    dialog: dict[str, Any] | None = None
    # With ANSWERED and ENDED: every address the INVITE went to, in order (RFC 3263 failover
    # inside one provider), as {"address", "sip_status_code", "sip_reason"}.
    targets: tuple[dict[str, Any], ...] = ()


LegListener = Callable[[LegEvent], None]


@dataclass(frozen=True, slots=True)
class InviteSpec:
    """Everything call-manager decides about an INVITE; the SIP layer adds the rest
    (Via, Call-ID, CSeq, tags, Contact, Max-Forwards, SDP)."""

    request_uri: str
    next_hop: str  # host[:port] resolved per RFC 3263: the provider's hostname
    from_user: str
    from_host: str | None  # None: the Request-URI's host
    from_display: str
    anonymous: bool = False
    privacy: str | None = None  # RFC 3323
    asserted_identity: str | None = None  # RFC 3325, E.164
    # The provider's tech_headers, names in their case, in order.
    extra_headers: tuple[tuple[str, str], ...] = field(default=())
    # The provider's transport: "" = RFC 3263 chooses, else "udp" / "tcp" / "tls".
    transport: str = ""
    # Whose Digest credentials answer a 401/407 (fetched only then); "" = none stored.
    credentials_provider_id: str = ""
    # The next hop is a customer's sip destination, not a provider: the SIP layer checks
    # its resolved addresses against the dial policy too (see call_manager.policy).
    customer_hop: bool = False


class CallLeg(Protocol):
    @property
    def sip_call_id(self) -> str:
        """The Call-ID of this leg's INVITE (recorded on the call's attempt)."""
        ...

    def cancel(self) -> None:
        """Stop ringing: CANCEL once a 1xx came (deferred until then). Idempotent."""

    def hangup(self) -> None:
        """End an answered call with BYE. Idempotent."""

    def abandon(self) -> None:
        """Drop all local state without signalling (process shutdown after a failed stop, or
        a fenced replica whose dialogs a survivor has taken over). No event follows."""


class Dialer(Protocol):
    def problem(self, spec: InviteSpec) -> str | None:
        """Why the stack would refuse this INVITE (checked before any call is created)."""
        ...

    def dial(self, spec: InviteSpec, listener: LegListener) -> CallLeg:
        """Start the INVITE now; every later fact arrives through `listener`, ending with
        exactly one ENDED event. Never raises for carrier problems: they end the leg."""
        ...
