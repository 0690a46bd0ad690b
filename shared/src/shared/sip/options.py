"""SIP OPTIONS health probes (RFC 3261 section 11) with RFC 3263 failover between targets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from shared.sip.errors import ResolutionError, SipParseError, TransactionTimeout, TransportError
from shared.sip.ids import new_branch, new_call_id, new_tag
from shared.sip.message import SipRequest, SipResponse
from shared.sip.parser import parse_message
from shared.sip.resolver import SipResolver
from shared.sip.target import Target, contact_uri
from shared.sip.timers import DEFAULT_TIMERS, SipTimers
from shared.sip.transaction import NonInviteClientTransaction, PreparedRequest
from shared.sip.transport import SipTransport
from shared.sip.uri import format_host_port, split_host_port
from shared.sip.via import format_via

DEFAULT_USER_AGENT = "trunk-platform"


class ProbeOutcome(StrEnum):
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"


class ProbeFailure(StrEnum):
    """Why an unhealthy probe failed, for metrics and UIs (the error text has the details)."""

    INVALID_TARGET = "invalid_target"  # the target string is not host[:port]
    UNRESOLVABLE = "unresolvable"  # DNS gave no usable address; nothing was sent
    TIMEOUT = "timeout"  # sent, but no SIP response from any address in time
    # every attempt failed in the transport: closed socket, wrong family, connection
    # refused or reset, TLS certificate not accepted (the error says which)
    TRANSPORT = "transport"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """Verdict of one probe. Any SIP response (404 and 503 included) proves the peer alive."""

    outcome: ProbeOutcome
    target: str
    status_code: int | None = None
    reason: str | None = None
    rtt_ms: float | None = None  # first transmission -> first response, same address
    address: str | None = None  # ip:port that answered (or the last one tried)
    error: str | None = None
    attempts: tuple[str, ...] = field(default=())  # every ip:port tried, in order
    failure: ProbeFailure | None = None  # set when unhealthy

    @property
    def healthy(self) -> bool:
        return self.outcome is ProbeOutcome.HEALTHY


def build_options_request(
    transport: SipTransport,
    host: str,
    port: int | None = None,
    *,
    destination: Target | None = None,
    request_user: str | None = None,
    from_user: str = "health",
    user_agent: str = DEFAULT_USER_AGENT,
    call_id: str | None = None,
    branch: str | None = None,
    tag: str | None = None,
) -> SipRequest:
    """An out-of-dialog OPTIONS to `sip:[request_user@]host[:port]` (the name, not the IP).

    Via and Contact name the transport and the local address used for `destination`. It is
    `prepared_options`'s request read back: the probe path sends those bytes directly, and
    there is one definition of what an OPTIONS holds.
    """
    prepared = prepared_options(
        transport,
        host,
        port,
        destination or Target(host, port or 5060),
        request_user=request_user,
        from_user=from_user,
        user_agent=user_agent,
        call_id=call_id or new_call_id(),
        branch=branch,
        tag=tag,
    )
    request = parse_message(prepared.data)
    assert isinstance(request, SipRequest)
    return request


def prepared_options(
    transport: SipTransport,
    host: str,
    port: int | None,
    destination: Target,
    *,
    request_user: str | None,
    from_user: str,
    user_agent: str,
    call_id: str,
    branch: str | None = None,
    tag: str | None = None,
) -> PreparedRequest:
    """An OPTIONS (see build_options_request) written straight to bytes: no Headers, no
    SipRequest, no Via parsed back for the branch (the probe path)."""
    branch = branch or new_branch()
    userinfo = f"{request_user}@" if request_user else ""
    uri = f"sip:{userinfo}{format_host_port(host, port)}"
    local = transport.sent_by_for(destination)
    contact = contact_uri(from_user, transport.contact_for(destination), destination.transport)
    text = (
        f"OPTIONS {uri} SIP/2.0\r\n"
        f"Via: {format_via(destination.via_token, local, branch)}\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:{from_user}@{local}>;tag={tag or new_tag()}\r\n"
        f"To: <{uri}>\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        f"Contact: <{contact}>\r\n"
        "Accept: application/sdp\r\n"
        f"User-Agent: {user_agent}\r\n"
        "Content-Length: 0\r\n\r\n"
    )
    return PreparedRequest("OPTIONS", branch, text.encode())


def _unhealthy(
    target: str, failure: ProbeFailure, error: str, attempts: list[Target]
) -> ProbeResult:
    return ProbeResult(
        outcome=ProbeOutcome.UNHEALTHY,
        target=target,
        address=str(attempts[-1]) if attempts else None,
        error=error,
        attempts=tuple(str(a) for a in attempts),
        failure=failure,
    )


def _healthy(
    target: str, response: SipResponse, txn: NonInviteClientTransaction, attempts: list[Target]
) -> ProbeResult:
    rtt = None
    if txn.started_at is not None and txn.first_response_at is not None:
        rtt = (txn.first_response_at - txn.started_at) * 1000.0
    return ProbeResult(
        outcome=ProbeOutcome.HEALTHY,
        target=target,
        status_code=response.status_code,
        reason=response.reason,
        rtt_ms=rtt,
        address=str(attempts[-1]),
        attempts=tuple(str(a) for a in attempts),
    )


async def probe_options(
    transport: SipTransport,
    resolver: SipResolver,
    target: str,
    timeout: float = 5.0,
    *,
    transport_type: str | None = None,
    timers: SipTimers = DEFAULT_TIMERS,
    request_user: str | None = None,
    from_user: str = "health",
    user_agent: str = DEFAULT_USER_AGENT,
    max_targets: int = 3,
) -> ProbeResult:
    """Probe `target` (`host`, `host:port`, IP literal) with OPTIONS over `transport_type`
    ("udp", "tcp", "tls"; None or "": what RFC 3263 finds for the name).

    `timeout` bounds resolution plus every attempt; when several addresses resolve, the time
    left is shared evenly among those not yet tried, so a silent first server still leaves
    time for the next. Waiting for a free in-flight slot of the transport is not counted: it
    measures our load, not the carrier.
    """
    started = time.monotonic()
    try:
        host, port = split_host_port(target)
    except SipParseError as exc:
        return _unhealthy(target, ProbeFailure.INVALID_TARGET, f"invalid target: {exc}", [])
    try:
        # The resolver bounds its DNS queries by `timeout` itself: no timer per probe for a
        # resolution that is nearly always a cache or hosts-file hit.
        targets = await resolver.resolve_host(
            host, port, transport=transport_type, lifetime=timeout
        )
    except ResolutionError as exc:
        return _unhealthy(target, ProbeFailure.UNRESOLVABLE, str(exc), [])
    reachable = [t for t in targets if transport.can_reach(t.host)][:max_targets]
    if not reachable:
        family = "IPv6" if transport.is_ipv6 else "IPv4"
        error = f"no {family} address among {[str(t) for t in targets]}"
        return _unhealthy(target, ProbeFailure.UNRESOLVABLE, error, [])
    budget = timeout - (time.monotonic() - started)
    attempts: list[Target] = []
    errors: list[str] = []
    silent = 0
    call_id = new_call_id()
    async with transport.in_flight:
        deadline = time.monotonic() + budget
        for i, address in enumerate(reachable):
            share = (deadline - time.monotonic()) / (len(reachable) - i)
            if share <= 0:
                break
            attempts.append(address)
            request = prepared_options(
                transport,
                host,
                port,
                address,
                request_user=request_user,
                from_user=from_user,
                user_agent=user_agent,
                call_id=call_id,
            )
            txn = NonInviteClientTransaction(
                transport, request, address, timers=timers, timeout=share
            )
            try:
                response = await txn.run()
            except TransactionTimeout as exc:
                if exc.provisional is not None:
                    # a 1xx without a final still proves a live SIP stack at that address
                    return _healthy(target, exc.provisional, txn, attempts)
                errors.append(f"{address}: no response in {share:.2f}s ({txn.sent_count} sent)")
                silent += 1
                continue
            except TransportError as exc:
                errors.append(f"{address}: {exc}")
                continue
            return _healthy(target, response, txn, attempts)
    failure = ProbeFailure.TIMEOUT if silent or not errors else ProbeFailure.TRANSPORT
    return _unhealthy(target, failure, "; ".join(errors) or "probe timed out", attempts)


class OptionsProber:
    """Probe settings bundled with a shared transport and resolver (what a checker holds)."""

    def __init__(
        self,
        transport: SipTransport,
        resolver: SipResolver,
        *,
        timeout: float = 5.0,
        timers: SipTimers = DEFAULT_TIMERS,
        request_user: str | None = None,
        from_user: str = "health",
        user_agent: str = DEFAULT_USER_AGENT,
        max_targets: int = 3,
    ) -> None:
        self.transport = transport
        self.resolver = resolver
        self.timeout = timeout
        self.timers = timers
        self.request_user = request_user
        self.from_user = from_user
        self.user_agent = user_agent
        self.max_targets = max_targets

    async def probe(
        self, target: str, timeout: float | None = None, *, transport_type: str | None = None
    ) -> ProbeResult:
        return await probe_options(
            self.transport,
            self.resolver,
            target,
            self.timeout if timeout is None else timeout,
            transport_type=transport_type,
            timers=self.timers,
            request_user=self.request_user,
            from_user=self.from_user,
            user_agent=self.user_agent,
            max_targets=self.max_targets,
        )

    async def probe_many(
        self, targets: Iterable[str], *, transport_type: str | None = None
    ) -> list[ProbeResult]:
        """Probe all targets, as many at once as the transport's in-flight cap allows.

        A fixed set of workers takes the targets in turn (as the health-checker's pool does):
        one task per target queued on the transport's semaphore made every release scan the
        woken waiters, a cost that grew with the backlog (a fifth of the CPU at 10,000)."""
        pending = list(targets)
        results: list[ProbeResult | None] = [None] * len(pending)
        cursor = iter(range(len(pending)))

        async def worker() -> None:
            for i in cursor:
                results[i] = await self.probe(pending[i], transport_type=transport_type)

        workers = min(len(pending), self.transport.max_in_flight)
        await asyncio.gather(*(worker() for _ in range(workers)))
        return [r for r in results if r is not None]
