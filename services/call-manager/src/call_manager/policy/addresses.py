"""Which IP addresses a call may reach, and the operator's exceptions (pure logic).

Internal addresses are refused: loopback, private, link-local, multicast, unspecified,
reserved, and anything else not globally routable (CGNAT, documentation, benchmarking
ranges), including IPv6 forms that embed an IPv4 address (mapped, NAT64, 6to4, Teredo).
The allow-list (`CALL_MANAGER_DIAL_ALLOW`) admits networks and domains regardless.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def parse_ip(text: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_internal(ip: IpAddress) -> bool:
    """True for any address a customer's call must not reach."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None and is_internal(inner):
            return True
    return (
        not ip.is_global
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_private
    )


@dataclass(frozen=True)
class AllowList:
    """Operator exceptions: networks (CIDR) and domains (`pbx.example.com` exactly, or
    `.example.com` for it and every name under it)."""

    networks: tuple[IpNetwork, ...] = ()
    domains: tuple[str, ...] = field(default=())

    @classmethod
    def parse(cls, text: str) -> AllowList:
        """`10.1.0.0/16, 127.0.0.1/32, pbx.example.com, .trusted.example` -> AllowList.
        Raises ValueError naming the entry that is neither a network nor a domain."""
        networks: list[IpNetwork] = []
        domains: list[str] = []
        for raw in text.split(","):
            entry = raw.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            name = entry.lstrip(".")
            if not name or any(ch in name for ch in "/:@ *") or "." not in name:
                raise ValueError(f"allow-list entry {raw.strip()!r} is not a CIDR or a domain")
            domains.append(entry)
        return cls(tuple(networks), tuple(domains))

    def admits_ip(self, ip: IpAddress) -> bool:
        return any(ip in network for network in self.networks if network.version == ip.version)

    def admits_domain(self, host: str) -> bool:
        name = host.lower().rstrip(".")
        for domain in self.domains:
            if domain.startswith("."):
                if name == domain[1:] or name.endswith(domain):
                    return True
            elif name == domain:
                return True
        return False

    def ip_allowed(self, ip: IpAddress) -> bool:
        """Reachable for a customer's call: public, or admitted by the operator."""
        return self.admits_ip(ip) or not is_internal(ip)
