"""Where a message goes: address, port and transport (RFC 3261 section 18, RFC 3263)."""

from __future__ import annotations

from typing import NamedTuple

UDP = "udp"
TCP = "tcp"
TLS = "tls"
TRANSPORTS = (UDP, TCP, TLS)
RELIABLE = frozenset({TCP, TLS})

DEFAULT_PORTS = {UDP: 5060, TCP: 5060, TLS: 5061}


class Target(NamedTuple):
    """One next hop. `name` is the host name a TLS certificate must match (RFC 5922: the
    domain of the URI, not the SRV target); empty means `host`.
    """

    host: str
    port: int
    transport: str = UDP
    name: str = ""

    @property
    def address(self) -> tuple[str, int]:
        """What sendto and connect take."""
        return (self.host, self.port)

    @property
    def reliable(self) -> bool:
        return self.transport in RELIABLE

    @property
    def via_token(self) -> str:
        """The transport token of a Via header (SIP/2.0/UDP, TCP, TLS)."""
        return self.transport.upper()

    @property
    def tls_name(self) -> str:
        return self.name or self.host

    def with_transport(self, transport: str) -> Target:
        return Target(self.host, self.port, transport, self.name)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        suffix = "" if self.transport == UDP else f";transport={self.transport}"
        return f"{host}:{self.port}{suffix}"


Destination = Target | tuple[str, int]


def as_target(destination: Destination) -> Target:
    """A plain (host, port) pair means UDP, as everywhere before TCP and TLS existed."""
    if isinstance(destination, Target):
        return destination
    return Target(destination[0], destination[1])


def uri_transport_param(value: str | None) -> str | None:
    """A URI's `;transport=` value as one of ours (None when absent or unsupported: sctp)."""
    if value is None:
        return None
    lowered = value.lower()
    return lowered if lowered in TRANSPORTS else None


def contact_uri(user: str | None, sent_by: str, transport: str, *, secure: bool = False) -> str:
    """Our Contact URI for a request going over `transport`; sips: when the request is a
    sips: one (RFC 3261 section 8.1.1.8)."""
    userinfo = f"{user}@" if user else ""
    if secure:
        return f"sips:{userinfo}{sent_by}"
    suffix = "" if transport == UDP else f";transport={transport}"
    return f"sip:{userinfo}{sent_by}{suffix}"
