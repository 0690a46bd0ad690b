"""RFC 3263 server location: which (address, port, transport) to try, in order.

Transport (section 4.1):
- given by the caller (the provider's setting), by the URI's `;transport=`, or implied by
  `sips:` (TLS) -> that one;
- an IP literal or an explicit port -> UDP (TLS for sips:), no NAPTR/SRV;
- otherwise NAPTR of the name: records whose service we speak (SIPS+D2T, SIP+D2T, SIP+D2U;
  only SIPS+D2T for sips:) in order/preference, each one's replacement tried by SRV until
  one gives servers;
- no usable NAPTR: SRV `_sip._udp`, `_sip._tcp`, `_sips._tcp` (only the last for sips:),
  the first that exists wins;
- no SRV: A (AAAA) of the name on 5060 (5061 for TLS) over UDP (TLS for sips:).
Servers (section 4.2): SRV in priority order with the RFC 2782 weighted shuffle within a
priority, then their addresses; an explicit port means A (AAAA) of the name on that port.

TLS targets carry the name their certificate must match: the URI's host (RFC 5922), never
the SRV target. /etc/hosts is consulted before DNS for addresses. Answers (negative ones too)
are cached, and concurrent lookups of the same name share one query, so a check round over
thousands of carriers costs one lookup per distinct name.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

from shared.sip.errors import ResolutionError, SipParseError
from shared.sip.target import DEFAULT_PORTS, TCP, TLS, TRANSPORTS, UDP, Target, uri_transport_param
from shared.sip.uri import SipUri, is_ip_literal, split_host_port

DEFAULT_SIP_PORT = 5060

# NAPTR services (RFC 3263 section 4.1) and SRV prefixes per transport
NAPTR_SERVICES = {"SIP+D2U": UDP, "SIP+D2T": TCP, "SIPS+D2T": TLS}
SRV_PREFIXES = {UDP: "_sip._udp", TCP: "_sip._tcp", TLS: "_sips._tcp"}

T = TypeVar("T")

__all__ = ["NaptrRecord", "ResolutionError", "SipResolver", "SrvRecord", "Target", "order_naptr"]


@dataclass(frozen=True, slots=True)
class SrvRecord:
    priority: int
    weight: int
    port: int
    target: str


@dataclass(frozen=True, slots=True)
class NaptrRecord:
    order: int
    preference: int
    flags: str
    service: str
    replacement: str


def order_naptr(
    records: Sequence[NaptrRecord], *, secure: bool, transports: Sequence[str]
) -> list[tuple[str, NaptrRecord]]:
    """Usable records as (transport, record), best first (RFC 3263 section 4.1, RFC 3403)."""
    usable: list[tuple[str, NaptrRecord]] = []
    for record in sorted(records, key=lambda r: (r.order, r.preference)):
        transport = NAPTR_SERVICES.get(record.service.upper())
        if transport is None or transport not in transports:
            continue
        if secure and transport != TLS:
            continue  # a sips: URI must stay on TLS
        if record.flags.lower() != "s" or record.replacement in ("", "."):
            continue  # only terminal SRV-pointing rules make sense for SIP
        usable.append((transport, record))
    return usable


def order_srv(records: Sequence[SrvRecord], rng: random.Random | None = None) -> list[SrvRecord]:
    """RFC 2782 order: ascending priority; within one priority a weighted random draw."""
    rng = rng or random.Random()
    ordered: list[SrvRecord] = []
    for priority in sorted({r.priority for r in records}):
        # zero-weight records go first so that they are picked only when the draw lands on 0
        group = sorted((r for r in records if r.priority == priority), key=lambda r: r.weight != 0)
        while group:
            draw = rng.randint(0, sum(r.weight for r in group))
            running = 0
            for i, record in enumerate(group):
                running += record.weight
                if running >= draw:
                    ordered.append(group.pop(i))
                    break
    return ordered


@dataclass(slots=True)
class _Entry(Generic[T]):
    expires: float
    value: T | None
    error: ResolutionError | None


# Names kept per cache: the names looked up come from requests (customers' sip destinations,
# peers' Contacts), so without a bound the cache grows with whatever they send.
DEFAULT_MAX_ENTRIES = 10_000


class _TtlCache(Generic[T]):
    """TTL cache whose misses are fetched once however many callers ask at the same time;
    at most `max_entries` names (expired ones go first, then the oldest)."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: dict[str, _Entry[T]] = {}
        self._pending: dict[str, asyncio.Future[T]] = {}
        self.hits = 0
        self.misses = 0

    async def get(
        self,
        key: str,
        fetch: Callable[[], Awaitable[tuple[T, float]]],
        error_ttl: Callable[[ResolutionError], float],
    ) -> T:
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry.expires > now:
            self.hits += 1
            if entry.error is not None:
                raise entry.error
            assert entry.value is not None
            return entry.value
        pending = self._pending.get(key)
        if pending is not None:
            self.hits += 1
            return await asyncio.shield(pending)
        self.misses += 1
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            value, ttl = await fetch()
        except ResolutionError as exc:
            self._store(key, _Entry(time.monotonic() + error_ttl(exc), None, exc))
            future.set_exception(exc)
            future.exception()  # consumed: nobody else may be waiting
            raise
        except BaseException as exc:
            future.set_exception(ResolutionError(key, f"lookup aborted: {exc!r}"))
            future.exception()
            raise
        else:
            self._store(key, _Entry(time.monotonic() + ttl, value, None))
            future.set_result(value)
            return value
        finally:
            del self._pending[key]

    def _store(self, key: str, entry: _Entry[T]) -> None:
        self._entries.pop(key, None)  # re-inserted last: dict order is age order
        if len(self._entries) >= self.max_entries:
            now = time.monotonic()
            for old in [k for k, e in self._entries.items() if e.expires <= now]:
                del self._entries[old]
            while len(self._entries) >= self.max_entries:
                del self._entries[next(iter(self._entries))]
        self._entries[key] = entry

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()


class _HostsFile:
    """/etc/hosts, re-read when its mtime changes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._mtime: float | None = None
        self._names: dict[str, list[str]] = {}

    def lookup(self, name: str) -> list[str]:
        try:
            mtime = os.stat(self.path).st_mtime
        except OSError:
            return []
        if mtime != self._mtime:
            self._names = self._load()
            self._mtime = mtime
        return self._names.get(name.lower().rstrip("."), [])

    def _load(self) -> dict[str, list[str]]:
        names: dict[str, list[str]] = {}
        try:
            text = self.path.read_text(errors="replace")
        except OSError:
            return names
        for line in text.splitlines():
            fields = line.split("#", 1)[0].split()
            if len(fields) < 2 or not is_ip_literal(fields[0]):
                continue
            for name in fields[1:]:
                addrs = names.setdefault(name.lower(), [])
                if fields[0] not in addrs:
                    addrs.append(fields[0])
        return names


def parse_nameserver(spec: str) -> dns.nameserver.Nameserver:
    """`1.2.3.4`, `1.2.3.4:5353` or `[::1]:5353` -> a dnspython UDP/TCP nameserver."""
    host, port = split_host_port(spec)
    return dns.nameserver.Do53Nameserver(host, port or 53)


class SipResolver:
    """RFC 3263 resolver with a TTL cache; share one instance per process."""

    def __init__(
        self,
        *,
        nameservers: Sequence[str] | None = None,
        lifetime: float = 2.0,
        hosts_file: str | Path | None = "/etc/hosts",
        hosts_ttl: float = 60.0,
        negative_ttl: float = 15.0,
        failure_ttl: float = 5.0,
        min_ttl: float = 5.0,
        max_ttl: float = 3600.0,
        ipv6: bool = False,
        rng: random.Random | None = None,
        transports: Sequence[str] = TRANSPORTS,
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        """`nameservers` None means /etc/resolv.conf. `lifetime` bounds one resolve() call.

        `negative_ttl` applies to NXDOMAIN/no-data, `failure_ttl` to timeouts and SERVFAIL.
        `ipv6` adds AAAA lookups (after A) for transports that can use them. `transports`:
        what the caller can speak, in order of preference when the carrier offers several.
        `max_entries` bounds each cache (NAPTR, SRV, addresses).
        """
        if nameservers is None:
            self._dns = dns.asyncresolver.Resolver()
        else:
            self._dns = dns.asyncresolver.Resolver(configure=False)
            self._dns.nameservers = [parse_nameserver(ns) for ns in nameservers]
        self._dns.timeout = lifetime
        self._dns.lifetime = lifetime
        self.lifetime = lifetime
        self._hosts = _HostsFile(hosts_file) if hosts_file is not None else None
        self.hosts_ttl = hosts_ttl
        self.negative_ttl = negative_ttl
        self.failure_ttl = failure_ttl
        self.min_ttl = min_ttl
        self.max_ttl = max_ttl
        self.ipv6 = ipv6
        self._rng = rng or random.Random()
        self.transports = tuple(t for t in TRANSPORTS if t in transports)
        self._naptr_cache: _TtlCache[list[NaptrRecord]] = _TtlCache(max_entries)
        self._srv_cache: _TtlCache[list[SrvRecord]] = _TtlCache(max_entries)
        self._addr_cache: _TtlCache[list[str]] = _TtlCache(max_entries)
        self.queries = 0  # DNS queries actually sent

    # -- public API --------------------------------------------------------------------------

    async def resolve(
        self,
        target: str,
        *,
        default_port: int | None = None,
        transport: str | None = None,
        secure: bool = False,
    ) -> list[Target]:
        """`host`, `host:port`, IPv4 or `[IPv6]` (optionally with port) -> ordered targets."""
        try:
            host, port = split_host_port(target)
        except SipParseError as exc:
            raise ResolutionError(target, str(exc)) from None
        return await self.resolve_host(
            host, port, default_port=default_port, transport=transport, secure=secure
        )

    async def resolve_uri(self, uri: SipUri, *, transport: str | None = None) -> list[Target]:
        """Next hops for a SIP URI: maddr, `;transport=` and sips: honoured (section 4).
        `transport` (a provider's setting) wins over the URI's parameter.
        """
        host = uri.param("maddr") or uri.host
        chosen = transport or uri_transport_param(uri.param("transport"))
        return await self.resolve_host(
            host, uri.port, transport=chosen, secure=uri.scheme == "sips", name=uri.host
        )

    async def resolve_host(
        self,
        host: str,
        port: int | None,
        *,
        default_port: int | None = None,
        transport: str | None = None,
        secure: bool = False,
        name: str | None = None,
        lifetime: float | None = None,
    ) -> list[Target]:
        """`transport` forces one ("udp", "tcp", "tls"; None or "": RFC 3263 picks).
        `secure`: a sips: URI (TLS only). `name`: what a TLS certificate must match
        (default: `host`). `lifetime`: a tighter bound than the resolver's on the DNS
        queries this may make (a caller's own deadline, without a timer of its own).
        """
        host = host.strip().rstrip(".")
        if not host:
            raise ResolutionError(host, "empty host")
        forced = transport or None
        if forced is not None and forced not in TRANSPORTS:
            raise ResolutionError(host, f"unknown transport {forced!r}")
        if secure:
            if forced not in (None, TLS):
                raise ResolutionError(host, f"a sips: URI cannot go over {forced}")
            forced = TLS
        if forced is not None and forced not in self.transports:
            raise ResolutionError(host, f"transport {forced} is not enabled here")
        tls_name = name or host
        if is_ip_literal(host) or port is not None:
            chosen = forced or UDP
            port = port or default_port or DEFAULT_PORTS[chosen]
            if is_ip_literal(host):
                return [_target(host, port, chosen, tls_name)]
            deadline = self._deadline(lifetime)
            addrs = await self._addresses(host, deadline)
            return [_target(a, port, chosen, tls_name) for a in addrs]
        deadline = self._deadline(lifetime)
        plans = await self._service_plans(host, forced, secure, deadline)
        problems: list[str] = []
        for chosen, records in plans:
            if any(r.target in ("", ".") for r in records):
                problems.append(f"SRV target '.' says SIP over {chosen} is not offered")
                continue
            targets = await self._srv_targets(records, chosen, tls_name, deadline, problems)
            if targets:
                return targets
        if plans:
            raise ResolutionError(host, "; ".join(problems) or "no SRV target resolves")
        chosen = forced or UDP
        port = default_port or DEFAULT_PORTS[chosen]
        return [_target(a, port, chosen, tls_name) for a in await self._addresses(host, deadline)]

    async def _service_plans(
        self, host: str, forced: str | None, secure: bool, deadline: float
    ) -> list[tuple[str, list[SrvRecord]]]:
        """(transport, SRV records) to try in order; empty when the name has no SRV at all."""
        plans: list[tuple[str, list[SrvRecord]]] = []
        if forced is None:
            try:
                naptrs = await self._naptr_cache.get(
                    host.lower(), lambda: self._fetch_naptr(host, deadline), self._error_ttl
                )
            except ResolutionError:
                naptrs = []  # a failed NAPTR query falls back to SRV (section 4.1)
            for chosen, record in order_naptr(naptrs, secure=secure, transports=self.transports):
                records = await self._srv(record.replacement, deadline)
                if records:
                    plans.append((chosen, records))
            if plans:
                return plans
        candidates = [forced] if forced is not None else [TLS] if secure else list(self.transports)
        for chosen in candidates:
            records = await self._srv(f"{SRV_PREFIXES[chosen]}.{host}", deadline)
            if records:
                plans.append((chosen, records))
                if forced is None:
                    break  # the first transport the carrier offers, in our preference order
        return plans

    async def _srv(self, qname: str, deadline: float) -> list[SrvRecord]:
        qname = qname.rstrip(".")
        try:
            return await self._srv_cache.get(
                qname.lower(), lambda: self._fetch_srv(qname, deadline), self._error_ttl
            )
        except ResolutionError:
            return []  # RFC 3263 section 4.2: a failed SRV query falls back to A records

    async def _srv_targets(
        self,
        records: list[SrvRecord],
        transport: str,
        tls_name: str,
        deadline: float,
        problems: list[str],
    ) -> list[Target]:
        targets: list[Target] = []
        for record in order_srv(records, self._rng):
            try:
                addrs = await self._addresses(record.target, deadline)
            except ResolutionError as exc:
                problems.append(exc.reason)
                continue
            for a in addrs:
                target = _target(a, record.port, transport, tls_name)
                if target not in targets:
                    targets.append(target)
        if not targets:
            problems.append(f"no {transport} SRV target resolves")
        return targets

    def _deadline(self, lifetime: float | None) -> float:
        bound = self.lifetime if lifetime is None else min(self.lifetime, lifetime)
        return time.monotonic() + bound

    def clear_cache(self) -> None:
        self._naptr_cache.clear()
        self._srv_cache.clear()
        self._addr_cache.clear()

    @property
    def cache_hits(self) -> int:
        return self._naptr_cache.hits + self._srv_cache.hits + self._addr_cache.hits

    # -- internals ---------------------------------------------------------------------------

    def _error_ttl(self, error: ResolutionError) -> float:
        return (
            self.negative_ttl if error.reason.startswith(("NXDOMAIN", "no ")) else self.failure_ttl
        )

    def _ttl(self, ttl: float) -> float:
        return min(self.max_ttl, max(self.min_ttl, ttl))

    async def _addresses(self, name: str, deadline: float) -> list[str]:
        if self._hosts is not None:
            found = self._hosts.lookup(name)
            if not self.ipv6:
                found = [a for a in found if ":" not in a]
            if found:
                return found
        return await self._addr_cache.get(
            name.lower(), lambda: self._fetch_addresses(name, deadline), self._error_ttl
        )

    async def _fetch_naptr(self, host: str, deadline: float) -> tuple[list[NaptrRecord], float]:
        answer = await self._query(host + ".", dns.rdatatype.NAPTR, deadline)
        if answer is None:
            return [], self.negative_ttl
        records = [
            NaptrRecord(
                order=int(rd.order),
                preference=int(rd.preference),
                flags=_text(rd.flags),
                service=_text(rd.service),
                replacement=rd.replacement.to_text(omit_final_dot=True),
            )
            for rd in answer
        ]
        return records, self._ttl(answer.rrset.ttl if answer.rrset is not None else 0)

    async def _fetch_srv(self, qname: str, deadline: float) -> tuple[list[SrvRecord], float]:
        answer = await self._query(qname + ".", dns.rdatatype.SRV, deadline)
        if answer is None:
            return [], self.negative_ttl
        records = [
            SrvRecord(
                priority=int(rd.priority),
                weight=int(rd.weight),
                port=int(rd.port),
                target=rd.target.to_text(omit_final_dot=True),
            )
            for rd in answer
        ]
        return records, self._ttl(answer.rrset.ttl if answer.rrset is not None else 0)

    async def _fetch_addresses(self, name: str, deadline: float) -> tuple[list[str], float]:
        rdtypes = [dns.rdatatype.A, dns.rdatatype.AAAA] if self.ipv6 else [dns.rdatatype.A]
        addrs: list[str] = []
        ttls: list[float] = []
        for rdtype in rdtypes:
            answer = await self._query(name + ".", rdtype, deadline, raise_nxdomain=True)
            if answer is not None and answer.rrset is not None:
                addrs.extend(rd.address for rd in answer)
                ttls.append(answer.rrset.ttl)
        if not addrs:
            raise ResolutionError(name, "no address record (A" + ("/AAAA)" if self.ipv6 else ")"))
        return addrs, self._ttl(min(ttls))

    async def _query(
        self,
        qname: str,
        rdtype: dns.rdatatype.RdataType,
        deadline: float,
        *,
        raise_nxdomain: bool = False,
    ) -> dns.resolver.Answer | None:
        """One query; None when the name has no such record (or does not exist, for SRV)."""
        remaining = deadline - time.monotonic()
        name = qname.rstrip(".")
        if remaining <= 0:
            raise ResolutionError(name, f"DNS lifetime of {self.lifetime:g}s exceeded")
        self.queries += 1
        try:
            return await self._dns.resolve(
                qname, rdtype, lifetime=remaining, search=False, raise_on_no_answer=True
            )
        except dns.resolver.NXDOMAIN:
            if raise_nxdomain:
                raise ResolutionError(name, "NXDOMAIN (the name does not exist)") from None
            return None
        except dns.resolver.NoAnswer:
            return None
        except dns.exception.Timeout:
            raise ResolutionError(name, f"DNS timeout after {self.lifetime:g}s") from None
        except dns.resolver.NoNameservers as exc:
            raise ResolutionError(name, f"DNS failure (SERVFAIL/REFUSED): {exc}") from None
        except (dns.exception.DNSException, OSError, socket.gaierror) as exc:
            raise ResolutionError(name, f"DNS error: {exc}") from None


def _text(value: bytes | str) -> str:
    return value.decode("ascii", "replace") if isinstance(value, bytes) else value


def _target(host: str, port: int, transport: str, tls_name: str) -> Target:
    # only TLS checks a name; leaving it off elsewhere keeps equal hops equal
    return Target(host, port, transport, tls_name if transport == TLS else "")
