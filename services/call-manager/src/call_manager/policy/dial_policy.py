"""Where a customer's call may go (POST /calls), checked twice.

1. At creation (`DialPolicy.refusal`), for every sip destination: refused (403
   DESTINATION_NOT_ALLOWED, nothing dialed) when its host is a carrier's (with or without
   port, or one of its addresses), an IP literal, or a name resolving to an internal address
   (see addresses.py). The operator's allow-list lifts the internal-address rules for its
   networks and domains, never the carrier rule (inside allow-listed networks a carrier is
   matched by address and port, elsewhere by address alone). A name that does not resolve now is let
   through: the call would fail anyway, and step 2 checks what it resolves to later.
2. In the SIP layer (`CallRemotePolicy`, shared.sip.policy's hook), for every call: where its
   ACK/BYE (Contact, Record-Route), a redirect's INVITE (3xx Contact) and RTP (SDP, and the
   source symmetric RTP latches to) go, and for a customer's sip destination also where its
   INVITE goes (DNS may answer differently by then). An address the call's own INVITE went
   to is always allowed (for media: that host on any port); anything else must be public
   or allow-listed. A customer's call never sends an INVITE to a carrier's address, first
   hop or redirect (the same carrier rule as step 1). Provider hops are the operator's
   choice and trusted.

ProviderCalls (a ProjectSuperAdmin forcing a provider) skip step 1.
"""

from __future__ import annotations

import asyncio

import structlog
from prometheus_client import Counter
from shared.errors import AppError
from shared.sip.errors import ResolutionError
from shared.sip.resolver import SipResolver

from call_manager.policy.addresses import AllowList, IpAddress, parse_ip
from call_manager.policy.provider_hosts import ProviderHosts, host_port_of

SIP_PORT = 5060
Carriers = frozenset[tuple[str, int | None]]

DIAL_POLICY_REFUSALS = Counter(
    "call_dial_policy_refusals_total",
    "Destinations and SIP/RTP addresses refused by the dial policy",
    ["stage", "rule"],
)

log = structlog.get_logger("call.policy")


class DialPolicy:
    def __init__(self, allow: AllowList, providers: ProviderHosts, resolver: SipResolver) -> None:
        self.allow = allow
        self._providers = providers
        self._resolver = resolver

    async def refusal(self, target: str) -> str | None:
        """Why the sip destination `user@host[:port]` may not be dialed; None when it may."""
        hostport = target.partition("@")[2]
        host, port = host_port_of(hostport)
        literal = parse_ip(host)
        if literal is not None:
            # Refused on its own, before the carriers' hosts are asked for: an overloaded or
            # unreachable provider-manager must not turn a plain refusal into a 503.
            if not self.allow.admits_ip(literal):
                return self._refused("ip_literal", f"{host} is an IP address; dial a domain name")
            if await self._is_carrier(literal, port, await self._providers.hosts()):
                return self._refused("carrier", f"{host} is a carrier's address")
            return None
        carriers = await self._providers.hosts()
        if host in {name for name, _ in carriers}:
            return self._refused("carrier", f"{host} is a carrier's host: dial its numbers")
        try:
            targets = await self._resolver.resolve(hostport)
        except ResolutionError:
            return None  # not dialable now either; the SIP layer checks whatever it gets later
        for found in targets:
            ip = parse_ip(found.host)
            if ip is None:
                continue
            if await self._is_carrier(ip, found.port, carriers):
                return self._refused("carrier", f"{host} resolves to a carrier's address")
            if not self.allow.admits_domain(host) and not self.allow.ip_allowed(ip):
                return self._refused("internal", f"{host} resolves to an internal address")
        return None

    async def is_carrier_address(self, host: str, port: int) -> bool:
        """Whether a resolved address (an IP) is a carrier's, by the rule below. Raises 503
        when the carriers' hosts cannot be known (fail closed)."""
        ip = parse_ip(host)
        if ip is None:
            return False
        return await self._is_carrier(ip, port, await self._providers.hosts())

    async def _is_carrier(self, ip: IpAddress, port: int | None, carriers: Carriers) -> bool:
        """Whether ip[:port] is a carrier's. Ports do not matter (a carrier's box is its
        box), except inside the operator's allow-listed networks, where carriers and
        customers' PBXs may share an address (a lab, a test bed): there host and port must
        both match."""
        addresses = await self._carrier_addresses(carriers)
        if not self.allow.admits_ip(ip):
            return any(ip == known for known, _ in addresses)
        return (ip, port or SIP_PORT) in addresses

    async def _carrier_addresses(self, carriers: Carriers) -> set[tuple[IpAddress, int]]:
        """Every address the carriers' hosts resolve to, with its port (cached by the
        resolver)."""

        async def one(host: str, port: int | None) -> list[tuple[IpAddress, int]]:
            literal = parse_ip(host)
            if literal is not None:
                return [(literal, port or SIP_PORT)]
            try:
                found = await self._resolver.resolve_host(host, port)
            except ResolutionError:
                return []
            return [(ip, t.port) for t in found if (ip := parse_ip(t.host)) is not None]

        resolved = await asyncio.gather(*(one(host, port) for host, port in carriers))
        return {address for found in resolved for address in found}

    @staticmethod
    def _refused(rule: str, why: str) -> str:
        DIAL_POLICY_REFUSALS.labels("create", rule).inc()
        return why


class CallRemotePolicy:
    """One call's shared.sip.policy.RemotePolicy (see the module docstring, step 2).
    `dial_policy`: where carriers are (None: no carrier rule, for tests of the SIP layer)."""

    def __init__(
        self, allow: AllowList, customer_hop: bool, dial_policy: DialPolicy | None = None
    ) -> None:
        self._allow = allow
        self._customer_hop = customer_hop
        self._dial_policy = dial_policy
        self._hops: set[tuple[str, int]] = set()

    def _public_or_allowed(self, host: str) -> bool:
        ip = parse_ip(host)
        return ip is not None and self._allow.ip_allowed(ip)

    async def _not_carriers(self, hosts: list[tuple[str, int]]) -> list[tuple[str, int]]:
        """`hosts` less carriers' addresses, for a customer's call; none when the carriers
        cannot be known."""
        if not self._customer_hop or self._dial_policy is None or not hosts:
            return hosts
        policy = self._dial_policy
        try:
            carrier = await asyncio.gather(*(policy.is_carrier_address(h, p) for h, p in hosts))
        except AppError as exc:
            log.warning("carrier_check_unavailable", error=exc.message)
            return []
        if any(carrier):
            DIAL_POLICY_REFUSALS.labels("sip", "carrier").inc()
        return [hop for hop, is_carrier in zip(hosts, carrier, strict=True) if not is_carrier]

    async def first_hops(self, hosts: list[tuple[str, int]]) -> list[tuple[str, int]]:
        allowed = [
            (host, port)
            for host, port in hosts
            if not self._customer_hop or self._public_or_allowed(host)
        ]
        if len(allowed) < len(hosts):
            DIAL_POLICY_REFUSALS.labels("sip", "first_hop").inc()
        allowed = await self._not_carriers(allowed)
        self._hops.update(allowed)
        return allowed

    async def redirect_hops(self, hosts: list[tuple[str, int]]) -> list[tuple[str, int]]:
        """A 3xx's Contact: the peer chose it, so it is checked like a Contact, and a
        customer's PBX cannot redirect its call to a carrier."""
        allowed = [(host, port) for host, port in hosts if self.allows_signalling(host, port)]
        return await self._not_carriers(allowed)

    def allows_signalling(self, host: str, port: int) -> bool:
        if (host, port) in self._hops or self._public_or_allowed(host):
            return True
        DIAL_POLICY_REFUSALS.labels("sip", "remote_target").inc()
        return False

    def allows_media(self, host: str, port: int) -> bool:
        if any(host == hop for hop, _ in self._hops) or self._public_or_allowed(host):
            return True
        DIAL_POLICY_REFUSALS.labels("sip", "media").inc()
        return False
