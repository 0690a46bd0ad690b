"""The production Probe: SIP OPTIONS through the shared SIP layer (one transport, UDP plus
pooled TCP/TLS connections, and one caching RFC 3263 resolver for the whole process)."""

from __future__ import annotations

from shared.sip.options import OptionsProber, ProbeFailure, ProbeResult
from shared.sip.resolver import SipResolver
from shared.sip.stream import raise_open_files_limit
from shared.sip.transport import SipTransport

from health_checker.probes import ProbeKind, ProbeReport
from health_checker.settings import Settings


class SipOptionsProbe:
    """`await SipOptionsProbe.create(settings)`; then `await probe(hostname, timeout)`."""

    def __init__(self, prober: OptionsProber) -> None:
        self._prober = prober

    @classmethod
    async def create(cls, settings: Settings) -> SipOptionsProbe:
        # The transport's in-flight cap equals the scheduler's, so it never queues a probe
        # the scheduler already counts as running (waiting there would eat the timeout).
        raise_open_files_limit()  # a TCP/TLS connection per carrier
        transport = await SipTransport.create(
            settings.sip_host,
            settings.sip_port,
            max_in_flight=settings.concurrency,
            advertise=settings.sip_public_host or None,
            tls_ca_file=settings.sip_tls_ca_file or None,
            idle_timeout=settings.sip_idle_timeout,
        )
        resolver = SipResolver(nameservers=settings.nameservers)
        prober = OptionsProber(
            transport, resolver, timeout=settings.timeout, user_agent=settings.user_agent
        )
        return cls(prober)

    @property
    def transport(self) -> SipTransport:
        return self._prober.transport

    @property
    def resolver(self) -> SipResolver:
        return self._prober.resolver

    @property
    def local_address(self) -> str:
        return self._prober.transport.sent_by

    async def __call__(self, hostname: str, timeout: float, transport: str = "") -> ProbeReport:
        return to_report(
            await self._prober.probe(hostname, timeout, transport_type=transport or None)
        )

    async def close(self) -> None:
        self._prober.transport.close()
        await self._prober.transport.wait_closed()


def to_report(result: ProbeResult) -> ProbeReport:
    return ProbeReport(
        kind=classify(result),
        status_code=result.status_code,
        reason=result.reason,
        rtt_ms=result.rtt_ms,
        address=result.address,
        error=result.error,
    )


_KINDS: dict[ProbeFailure, ProbeKind] = {
    ProbeFailure.INVALID_TARGET: "unresolvable",  # nothing to resolve: same to an operator
    ProbeFailure.UNRESOLVABLE: "unresolvable",
    ProbeFailure.TIMEOUT: "timeout",
    ProbeFailure.TRANSPORT: "error",
}


def classify(result: ProbeResult) -> ProbeKind:
    if result.healthy:
        return "healthy"
    if result.failure is not None:
        return _KINDS[result.failure]
    return "unresolvable" if not result.attempts else "timeout"
