"""Which local address to advertise (Via sent-by, Contact, SDP c=/o=) for a destination.

A socket bound to the wildcard (0.0.0.0 or ::) has no address of its own to put in a
message, and `0.0.0.0` in a Contact or c= line is unroutable. Without a configured public
address we advertise the source address the kernel picks for the destination: connecting a
UDP socket sends nothing but runs the route lookup, and getsockname() tells the result.
Answers are cached per destination host (routes rarely change; `clear()` forgets them).
"""

from __future__ import annotations

import ipaddress
import socket

WILDCARDS = frozenset({"0.0.0.0", "::", ""})
_FALLBACK_PROBE: dict[int, str] = {socket.AF_INET: "192.0.2.1", socket.AF_INET6: "2001:db8::1"}


def is_wildcard(host: str) -> bool:
    return host in WILDCARDS


def is_unspecified(host: str) -> bool:
    """0.0.0.0 / :: in any spelling: never advertise these."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return host == ""


class RoutedAddresses:
    """Source address the kernel routes to each destination host, cached."""

    def __init__(self, family: int = socket.AF_INET, max_entries: int = 65536) -> None:
        self.family = family
        self.max_entries = max_entries
        self._cache: dict[str, str] = {}
        self.lookups = 0

    def source_for(self, destination_host: str | None) -> str:
        """Local address for packets to `destination_host` (None: the default route's)."""
        host = destination_host or _FALLBACK_PROBE[self.family]
        cached = self._cache.get(host)
        if cached is not None:
            return cached
        address = self._lookup(host)
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[host] = address
        return address

    def _lookup(self, host: str) -> str:
        self.lookups += 1
        try:
            with socket.socket(self.family, socket.SOCK_DGRAM) as sock:
                sock.connect((host, 9))  # discard port; connect() on UDP sends nothing
                local = str(sock.getsockname()[0])
        except OSError:
            local = ""
        if is_unspecified(local):
            # no route at all (an isolated host): loopback is the one address that is
            # certainly ours, and saying it is better than saying 0.0.0.0
            return "::1" if self.family == socket.AF_INET6 else "127.0.0.1"
        return local

    def clear(self) -> None:
        self._cache.clear()
