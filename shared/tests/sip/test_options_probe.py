"""OPTIONS probes against sipp, silent sockets, scripted DNS and an in-process responder."""

from __future__ import annotations

import asyncio
import itertools
import re
import time

import pytest
from shared.sip.options import OptionsProber, ProbeFailure, ProbeOutcome, probe_options
from shared.sip.parser import parse_message
from shared.sip.resolver import SipResolver
from shared.sip.testing.dns_server import LoopbackDnsServer
from shared.sip.testing.sipp import StartSipp
from shared.sip.testing.udp_peers import SilentPeer, SipResponder
from shared.sip.timers import SipTimers
from shared.sip.transport import UdpTransport


@pytest.mark.parametrize(
    ("scenario", "code", "reason"),
    [
        ("uas_options_200.xml", 200, "OK"),
        ("uas_options_404.xml", 404, "Not Found"),
        ("uas_options_503.xml", 503, "Service Unavailable"),
        # a Digest challenge proves a live SIP stack too: never answered, never unhealthy
        ("uas_options_401.xml", 401, "Unauthorized"),
        ("uas_options_407.xml", 407, "Proxy Authentication Required"),
    ],
)
async def test_any_sip_answer_from_sipp_is_healthy(
    transport: UdpTransport,
    resolver: SipResolver,
    start_sipp: StartSipp,
    scenario: str,
    code: int,
    reason: str,
) -> None:
    sipp = await start_sipp(scenario)
    result = await probe_options(transport, resolver, sipp.target, timeout=3.0)
    assert result.outcome is ProbeOutcome.HEALTHY, result
    assert (result.status_code, result.reason) == (code, reason)
    assert result.address == sipp.target
    assert result.rtt_ms is not None and 0 < result.rtt_ms < 1000
    assert result.error is None


async def test_options_request_is_exactly_as_specified(
    transport: UdpTransport, resolver: SipResolver, start_sipp: StartSipp
) -> None:
    sipp = await start_sipp(auto_answer=True)
    result = await probe_options(transport, resolver, sipp.target, 3.0, user_agent="probe-test/1")
    assert result.healthy and result.status_code == 200
    [options] = sipp.received("OPTIONS")
    msg = parse_message(options.text.encode())
    assert options.start_line == f"OPTIONS sip:{sipp.target} SIP/2.0"
    via = msg.headers.get("Via") or ""
    assert re.fullmatch(
        rf"SIP/2\.0/UDP {re.escape(transport.sent_by)};branch=z9hG4bK[0-9a-f]+;rport", via
    ), via
    assert msg.headers.get("Max-Forwards") == "70"
    assert msg.from_tag and msg.to_tag is None
    assert msg.headers.get("To") == f"<sip:{sipp.target}>"
    assert msg.headers.get("CSeq") == "1 OPTIONS"
    assert msg.headers.get("Contact") == f"<sip:health@{transport.sent_by}>"
    assert msg.headers.get("Accept") == "application/sdp"
    assert msg.headers.get("User-Agent") == "probe-test/1"
    assert msg.headers.get("Content-Length") == "0"


async def test_each_probe_uses_a_fresh_call_id(
    transport: UdpTransport, resolver: SipResolver, start_sipp: StartSipp
) -> None:
    sipp = await start_sipp("uas_options_200.xml")
    for _ in range(3):
        assert (await probe_options(transport, resolver, sipp.target, 3.0)).healthy
    call_ids = {parse_message(m.text.encode()).call_id for m in sipp.received("OPTIONS")}
    assert len(call_ids) == 3


async def test_silent_peer_is_unhealthy_after_retransmissions(
    transport: UdpTransport, resolver: SipResolver
) -> None:
    peer = await SilentPeer.start()
    try:
        timers = SipTimers(t1=0.1, t2=0.4)
        started = time.monotonic()
        result = await probe_options(transport, resolver, peer.target, 1.0, timers=timers)
        elapsed = time.monotonic() - started
        assert result.outcome is ProbeOutcome.UNHEALTHY
        assert result.failure is ProbeFailure.TIMEOUT
        assert 0.95 <= elapsed < 1.3
        assert result.status_code is None and result.address == peer.target
        assert result.error and "no response" in result.error
        copies = peer.received
        assert len(copies) >= 2
        branches = {parse_message(c.data).branch for c in copies}
        assert len(branches) == 1 and branches.pop().startswith("z9hG4bK")  # type: ignore[union-attr]
        gaps = [b.at - a.at for a, b in itertools.pairwise(copies)]
        # Timer E: T1, 2*T1, 4*T1 (= T2 cap)...
        assert gaps[0] == pytest.approx(0.1, abs=0.05)
        assert gaps[1] == pytest.approx(0.2, abs=0.05)
    finally:
        peer.close()


async def test_unresolvable_name_is_unhealthy_at_once(
    transport: UdpTransport, resolver: SipResolver
) -> None:
    started = time.monotonic()
    result = await probe_options(transport, resolver, "no-such-host.invalid", timeout=5.0)
    elapsed = time.monotonic() - started
    assert result.outcome is ProbeOutcome.UNHEALTHY
    assert elapsed < 1.0, elapsed
    assert result.error is not None and "no-such-host.invalid" in result.error
    assert result.failure is ProbeFailure.UNRESOLVABLE
    assert result.attempts == ()


async def test_invalid_target_is_unhealthy(transport: UdpTransport, resolver: SipResolver) -> None:
    result = await probe_options(transport, resolver, "host:notaport", timeout=1.0)
    assert result.outcome is ProbeOutcome.UNHEALTHY and "invalid target" in (result.error or "")
    assert result.failure is ProbeFailure.INVALID_TARGET


async def test_closed_transport_is_a_transport_failure(resolver: SipResolver) -> None:
    transport = await UdpTransport.create()
    transport.close()
    await transport.wait_closed()
    result = await probe_options(transport, resolver, "127.0.0.1:5060", timeout=1.0)
    assert result.failure is ProbeFailure.TRANSPORT and "closed" in (result.error or "")


async def test_srv_failover_to_next_target_within_timeout(
    transport: UdpTransport, dns_server: LoopbackDnsServer, dns_resolver: SipResolver
) -> None:
    silent = await SilentPeer.start()
    live = await SipResponder.start(status=200)
    try:
        dns_server.add(
            "_sip._udp.failover.test",
            "SRV",
            f"10 0 {silent.port} dead.failover.test.",
            f"20 0 {live.port} live.failover.test.",
        )
        dns_server.add("dead.failover.test", "A", "127.0.0.1")
        dns_server.add("live.failover.test", "A", "127.0.0.1")
        started = time.monotonic()
        result = await probe_options(
            transport, dns_resolver, "failover.test", 2.0, timers=SipTimers(t1=0.1)
        )
        elapsed = time.monotonic() - started
        assert result.healthy and result.status_code == 200 and result.failure is None
        assert result.attempts == (silent.target, live.target)
        assert result.address == live.target
        assert 0.9 <= elapsed < 1.5  # the dead target got half of the 2 s
        # Request-URI names the domain, not the address
        assert silent.received[0].data.startswith(b"OPTIONS sip:failover.test SIP/2.0\r\n")
    finally:
        silent.close()
        live.close()


async def test_all_targets_silent_never_exceeds_timeout(
    transport: UdpTransport, dns_server: LoopbackDnsServer, dns_resolver: SipResolver
) -> None:
    peers = [await SilentPeer.start() for _ in range(3)]
    try:
        dns_server.add(
            "_sip._udp.dead.test",
            "SRV",
            *(f"{10 * i} 0 {p.port} d{i}.dead.test." for i, p in enumerate(peers)),
        )
        for i in range(3):
            dns_server.add(f"d{i}.dead.test", "A", "127.0.0.1")
        started = time.monotonic()
        result = await probe_options(transport, dns_resolver, "dead.test", 0.9)
        assert time.monotonic() - started < 1.1
        assert not result.healthy and len(result.attempts) == 3
        assert all(len(p.received) >= 1 for p in peers)
    finally:
        for peer in peers:
            peer.close()


async def test_provisional_only_counts_as_alive(
    transport: UdpTransport, resolver: SipResolver
) -> None:
    peer = await SipResponder.start(status=100, reason="Trying")
    try:
        result = await probe_options(transport, resolver, peer.target, 0.5)
        assert result.healthy and result.status_code == 100
    finally:
        peer.close()


async def test_in_flight_cap_is_respected(resolver: SipResolver) -> None:
    transport = await UdpTransport.create(max_in_flight=5)
    peer = await SilentPeer.start()
    try:
        probes = [
            asyncio.create_task(
                probe_options(transport, resolver, peer.target, 0.3, timers=SipTimers(t1=5.0))
            )
            for _ in range(20)
        ]
        await asyncio.sleep(0.15)
        assert len(peer.received) == 5
        assert transport.active_transactions == 5
        results = await asyncio.gather(*probes)
        assert len(peer.received) == 20 and not any(r.healthy for r in results)
    finally:
        peer.close()
        transport.close()


async def test_two_thousand_concurrent_probes_all_answered(resolver: SipResolver) -> None:
    transport = await UdpTransport.create(max_in_flight=500)
    responders = [await SipResponder.start(status=200) for _ in range(4)]
    try:
        prober = OptionsProber(transport, resolver, timeout=5.0)
        targets = [responders[i % 4].target for i in range(2000)]
        started = time.monotonic()
        results = await prober.probe_many(targets)
        assert all(r.healthy and r.status_code == 200 for r in results)
        assert time.monotonic() - started < 5.0
        assert transport.stats.parse_errors == 0
    finally:
        for responder in responders:
            responder.close()
        transport.close()


async def test_many_concurrent_probes_against_one_sipp(
    transport: UdpTransport, resolver: SipResolver, start_sipp: StartSipp
) -> None:
    sipp = await start_sipp("uas_options_200.xml")
    prober = OptionsProber(transport, resolver, timeout=5.0)
    results = await prober.probe_many([sipp.target] * 1000)
    assert sum(r.healthy for r in results) == 1000
