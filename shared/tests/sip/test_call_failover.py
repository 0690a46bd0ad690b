"""Failover between the RFC 3263 addresses of one destination, at the default SIP timers:
a silent address costs `provisional_timeout`, not Timer B; a 503 moves to the next
address at once and keeps the refusing one last for Retry-After seconds."""

from __future__ import annotations

import time

from shared.sip.call import CallEventKind, OutboundCall
from shared.sip.dead_targets import DeadTargets, retry_after_seconds
from shared.sip.invite_request import CallSpec
from shared.sip.resolver import SipResolver, Target
from shared.sip.testing.dns_server import LoopbackDnsServer
from shared.sip.testing.sipp import StartSipp
from shared.sip.testing.udp_peers import SilentPeer
from shared.sip.transport import UdpTransport


def two_targets(dns: LoopbackDnsServer, name: str, first: int, second: int) -> None:
    dns.add(
        f"_sip._udp.{name}",
        "SRV",
        f"10 0 {first} a.{name}.",
        f"20 0 {second} b.{name}.",
    )
    dns.add(f"a.{name}", "A", "127.0.0.1")
    dns.add(f"b.{name}", "A", "127.0.0.1")


async def test_silent_first_address_moves_on_within_the_response_timeout(
    transport: UdpTransport,
    dns_server: LoopbackDnsServer,
    dns_resolver: SipResolver,
    start_sipp: StartSipp,
) -> None:
    silent = await SilentPeer.start()
    sipp = await start_sipp(calls=1)
    try:
        two_targets(dns_server, "silent.test", silent.port, sipp.port)
        memory = DeadTargets()
        call = OutboundCall(
            transport,
            dns_resolver,
            CallSpec(request_uri="sip:42@silent.test"),
            provisional_timeout=3.0,
            dead_targets=memory,
        )  # default timers: Timer B would be 32 s
        started = time.monotonic()
        outcome = await call.invite()
        assert outcome.kind is CallEventKind.ANSWERED
        assert len(sipp.received("INVITE")) == 1
        # the second address's first response (its INVITE went out just before)
        first_heard = call.history[0].at - started
        assert 2.9 <= first_heard < 5.0, first_heard
        assert len(silent.received) >= 2  # retransmitted to the silent one until it gave up
        assert [a.status_code for a in call.target_attempts] == [0, 200]
        assert "within 3s" in call.target_attempts[0].reason
        assert memory.is_dead(Target("127.0.0.1", silent.port))
        await call.bye()
    finally:
        silent.close()


async def test_503_on_the_first_address_tries_the_second_and_honours_retry_after(
    transport: UdpTransport,
    dns_server: LoopbackDnsServer,
    dns_resolver: SipResolver,
    start_sipp: StartSipp,
) -> None:
    refusing = await start_sipp("uas_invite_503_retry_after.xml", calls=1)
    answering = await start_sipp(calls=2)
    two_targets(dns_server, "busy.test", refusing.port, answering.port)
    memory = DeadTargets()
    call = OutboundCall(
        transport,
        dns_resolver,
        CallSpec(request_uri="sip:42@busy.test"),
        provisional_timeout=3.0,
        dead_targets=memory,
    )
    outcome = await call.invite()
    assert outcome.kind is CallEventKind.ANSWERED
    assert await refusing.wait(10) == 0  # its 503 was ACKed
    assert [(a.status_code, a.address) for a in call.target_attempts] == [
        (503, f"127.0.0.1:{refusing.port}"),
        (200, f"127.0.0.1:{answering.port}"),
    ]
    await call.bye()
    # Retry-After: 120 keeps the refusing address last for the next call: it goes
    # straight to the second address
    assert memory.is_dead(Target("127.0.0.1", refusing.port))
    second = OutboundCall(
        transport, dns_resolver, CallSpec(request_uri="sip:43@busy.test"), dead_targets=memory
    )
    assert (await second.invite()).kind is CallEventKind.ANSWERED
    assert [a.address for a in second.target_attempts] == [f"127.0.0.1:{answering.port}"]
    await second.bye()


def test_retry_after_values() -> None:
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("18000;duration=3600") == 18000
    assert retry_after_seconds("30 (in a meeting)") == 30
    assert retry_after_seconds("²0") is None
    assert retry_after_seconds(None) is None


def test_dead_targets_go_last_and_expire() -> None:
    now = [0.0]
    memory = DeadTargets(clock=lambda: now[0])
    a, b = Target("127.0.0.1", 5060), Target("127.0.0.1", 5062)
    memory.mark(a, 10)
    assert memory.order([a, b]) == [b, a]
    now[0] = 11.0
    assert memory.order([a, b]) == [a, b]
    memory.mark(a, 10**9)  # capped
    now[0] = 11.0 + 301
    assert not memory.is_dead(a)
