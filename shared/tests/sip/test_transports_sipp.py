"""SIP over TCP and TLS against real peers: sipp over TCP (-t t1) and, for TLS, sipp behind a
TLS front (Debian's sipp has no TLS) with a CA and certificate made for the test run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from shared.sip.call import CallEventKind, OutboundCall
from shared.sip.errors import TransportError
from shared.sip.invite_request import CallSpec
from shared.sip.options import ProbeFailure, probe_options
from shared.sip.parser import parse_message
from shared.sip.resolver import SipResolver
from shared.sip.target import Target
from shared.sip.testing.sipp import StartSipp, TracedMessage
from shared.sip.testing.tls import PkiFiles, TlsFront, make_test_pki
from shared.sip.testing.waiting import wait_until
from shared.sip.timers import SipTimers
from shared.sip.transport import SipTransport


def via(message: TracedMessage) -> str:
    return parse_message(message.text.encode()).headers.get("via") or ""


@pytest.fixture
def hosts_resolver(tmp_path: Path) -> SipResolver:
    """carrier.test (the name on the certificate) and wrong.test both on 127.0.0.1."""
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 carrier.test wrong.test\n")
    return SipResolver(nameservers=["127.0.0.1:9"], hosts_file=hosts, lifetime=0.5)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiFiles:
    return make_test_pki(tmp_path_factory.mktemp("pki"), names=("carrier.test",))


@pytest.fixture
async def tls_transport(pki: PkiFiles) -> AsyncIterator[SipTransport]:
    transport = await SipTransport.create("127.0.0.1", 0, tls_ca_file=str(pki.ca_file))
    yield transport
    transport.close()
    await transport.wait_closed()


# -- TCP -------------------------------------------------------------------------------------


async def test_options_probe_over_tcp(
    transport: SipTransport, resolver: SipResolver, start_sipp: StartSipp
) -> None:
    sipp = await start_sipp("uas_options_200.xml", calls=2, transport="t1")
    for _ in range(2):
        result = await probe_options(transport, resolver, sipp.target, 5.0, transport_type="tcp")
        assert result.healthy and result.status_code == 200, result
        assert result.address == f"{sipp.target};transport=tcp"
    assert await sipp.wait(10) == 0, sipp.output()[-2000:]
    first, _ = sipp.received("OPTIONS")
    assert via(first).startswith(f"SIP/2.0/TCP {transport.sent_by};branch=")
    assert "<sip:health@" in first.text and ";transport=tcp>" in first.text
    assert transport.stream_stats.opened == 1  # the second probe reused the connection


async def test_call_over_tcp_with_carrier_bye_over_our_connection(
    transport: SipTransport, resolver: SipResolver, start_sipp: StartSipp
) -> None:
    sipp = await start_sipp("uas_invite_remote_bye.xml", calls=1, transport="t1")
    spec = CallSpec(request_uri=f"sip:4930@{sipp.target};transport=tcp", from_user="1001")
    call = OutboundCall(transport, resolver, spec, send_rtp=False)
    outcome = await call.invite()
    assert outcome.kind is CallEventKind.ANSWERED, outcome
    ended = await call.wait_ended(10)
    assert ended.kind is CallEventKind.REMOTE_HANGUP
    assert await sipp.wait(10) == 0, sipp.errors()[-2000:]
    [invite] = sipp.received("INVITE")
    [ack] = sipp.received("ACK")
    assert via(invite).startswith("SIP/2.0/TCP ") and via(ack).startswith("SIP/2.0/TCP ")
    # one connection carried the INVITE, the ACK, the carrier's BYE and our 200 to it
    assert transport.stream_stats.opened == 1 and transport.stream_stats.accepted == 0
    assert call.destination is not None and call.destination.transport == "tcp"


async def test_large_invite_moves_to_tcp(
    transport: SipTransport, resolver: SipResolver, start_sipp: StartSipp
) -> None:
    """RFC 3261 18.1.1: an INVITE above MTU - 200 bytes goes over TCP when nobody chose UDP."""
    sipp = await start_sipp(calls=1, transport="t1")  # listens on TCP only
    headers = [(f"X-Tech-{i}", "v" * 60) for i in range(25)]
    spec = CallSpec(request_uri=f"sip:4930@{sipp.target}", extra_headers=headers)
    call = OutboundCall(transport, resolver, spec, send_rtp=False)
    outcome = await call.invite()
    assert outcome.kind is CallEventKind.ANSWERED, outcome
    assert call.invite_request is not None
    assert len(call.invite_request.to_bytes()) > transport.max_udp_request
    assert call.destination is not None and call.destination.transport == "tcp"
    await call.bye()
    [invite] = sipp.received("INVITE")
    assert via(invite).startswith("SIP/2.0/TCP ")
    assert "X-Tech-24: " in invite.text


async def test_large_invite_falls_back_to_udp_when_tcp_is_refused(
    transport: SipTransport, resolver: SipResolver, start_sipp: StartSipp
) -> None:
    sipp = await start_sipp(calls=1)  # UDP only: our TCP connection is refused
    headers = [(f"X-Tech-{i}", "v" * 60) for i in range(25)]
    spec = CallSpec(request_uri=f"sip:4930@{sipp.target}", extra_headers=headers)
    call = OutboundCall(transport, resolver, spec, send_rtp=False)
    outcome = await call.invite()
    assert outcome.kind is CallEventKind.ANSWERED, outcome
    assert call.destination is not None and call.destination.transport == "udp"
    await call.bye()
    [invite] = sipp.received("INVITE")
    assert via(invite).startswith("SIP/2.0/UDP ")


async def test_provider_set_to_udp_keeps_a_large_invite_on_udp(
    transport: SipTransport, resolver: SipResolver, start_sipp: StartSipp
) -> None:
    sipp = await start_sipp(calls=1)
    headers = [(f"X-Tech-{i}", "v" * 60) for i in range(25)]
    spec = CallSpec(request_uri=f"sip:4930@{sipp.target}", extra_headers=headers, transport="udp")
    call = OutboundCall(transport, resolver, spec, send_rtp=False)
    assert (await call.invite()).kind is CallEventKind.ANSWERED
    await call.bye()
    assert transport.stream_stats.opened == 0 and transport.stream_stats.failed == 0


async def test_tcp_refused_is_a_clear_transport_failure(
    transport: SipTransport, resolver: SipResolver, start_sipp: StartSipp
) -> None:
    sipp = await start_sipp("uas_options_200.xml", calls=1)  # UDP only
    result = await probe_options(transport, resolver, sipp.target, 3.0, transport_type="tcp")
    assert not result.healthy and result.failure is ProbeFailure.TRANSPORT
    assert result.error is not None and "TCP connection to" in result.error
    assert "refused" in result.error.lower()


# -- TLS -------------------------------------------------------------------------------------


def edge_contact(front: TlsFront) -> tuple[str, ...]:
    return ("-key", "edge_contact", f"sip:carrier@carrier.test:{front.port};transport=tls")


async def test_options_probe_over_tls(
    tls_transport: SipTransport, hosts_resolver: SipResolver, pki: PkiFiles, start_sipp: StartSipp
) -> None:
    sipp = await start_sipp("uas_options_200.xml", calls=1, transport="t1")
    async with TlsFront(pki, sipp.address) as front:
        target = f"carrier.test:{front.port}"
        result = await probe_options(
            tls_transport, hosts_resolver, target, 5.0, transport_type="tls"
        )
        assert result.healthy and result.status_code == 200, result
        assert front.accepted == 1
    [options] = sipp.received("OPTIONS")
    assert via(options).startswith("SIP/2.0/TLS ")


async def test_call_over_tls_we_hang_up(
    tls_transport: SipTransport, hosts_resolver: SipResolver, pki: PkiFiles, start_sipp: StartSipp
) -> None:
    timers = SipTimers(t1=0.1)
    async with TlsFront(pki, ("127.0.0.1", 9)) as front:
        sipp = await start_sipp(
            "uas_edge_answer.xml", calls=1, transport="t1", extra_args=edge_contact(front)
        )
        front.backend = sipp.address
        spec = CallSpec(request_uri=f"sips:4930@carrier.test:{front.port}")
        call = OutboundCall(tls_transport, hosts_resolver, spec, timers=timers, send_rtp=False)
        outcome = await call.invite()
        assert outcome.kind is CallEventKind.ANSWERED, outcome
        response = await call.bye()
        assert response is not None and response.status_code == 200
        assert await sipp.wait(10) == 0, sipp.errors()[-2000:]
        [invite] = sipp.received("INVITE")
        assert via(invite).startswith("SIP/2.0/TLS ")
        assert "Contact: <sips:" in invite.text  # a sips: request wants a sips: Contact
        assert front.accepted == 1  # INVITE, ACK and BYE over one TLS connection


async def test_call_over_tls_carrier_bye_comes_over_our_connection(
    tls_transport: SipTransport, hosts_resolver: SipResolver, pki: PkiFiles, start_sipp: StartSipp
) -> None:
    async with TlsFront(pki, ("127.0.0.1", 9)) as front:
        sipp = await start_sipp(
            "uas_edge_remote_bye.xml", calls=1, transport="t1", extra_args=edge_contact(front)
        )
        front.backend = sipp.address
        spec = CallSpec(request_uri=f"sip:4930@carrier.test:{front.port}", transport="tls")
        call = OutboundCall(tls_transport, hosts_resolver, spec, send_rtp=False)
        assert (await call.invite()).kind is CallEventKind.ANSWERED
        ended = await call.wait_ended(10)
        assert ended.kind is CallEventKind.REMOTE_HANGUP
        assert await sipp.wait(10) == 0, sipp.errors()[-2000:]
        assert front.accepted == 1


async def test_tls_wrong_host_name_is_refused(
    tls_transport: SipTransport, hosts_resolver: SipResolver, pki: PkiFiles, start_sipp: StartSipp
) -> None:
    sipp = await start_sipp("uas_options_200.xml", transport="t1")
    async with TlsFront(pki, sipp.address) as front:
        result = await probe_options(
            tls_transport, hosts_resolver, f"wrong.test:{front.port}", 5.0, transport_type="tls"
        )
    assert not result.healthy and result.failure is ProbeFailure.TRANSPORT
    assert result.error is not None
    assert "certificate not accepted" in result.error and "wrong.test" in result.error
    assert sipp.received("OPTIONS") == []


async def test_tls_untrusted_ca_is_refused(
    hosts_resolver: SipResolver, pki: PkiFiles, start_sipp: StartSipp
) -> None:
    transport = await SipTransport.create("127.0.0.1", 0)  # the system store: no test CA
    try:
        sipp = await start_sipp("uas_options_200.xml", transport="t1")
        async with TlsFront(pki, sipp.address) as front:
            spec = CallSpec(request_uri=f"sips:4930@carrier.test:{front.port}")
            call = OutboundCall(transport, hosts_resolver, spec, send_rtp=False)
            outcome = await call.invite()
        assert outcome.kind is CallEventKind.FAILED
        assert outcome.error is not None
        assert "certificate not accepted" in outcome.error
        assert "issuer" in outcome.error  # unable to get local issuer certificate
    finally:
        transport.close()
        await transport.wait_closed()


# -- connection behaviour ------------------------------------------------------------------


async def test_tcp_is_never_retransmitted(
    transport: SipTransport, resolver: SipResolver, start_sipp: StartSipp
) -> None:
    """RFC 3261 17.1.2.2: Timer E is not set on a reliable transport."""
    sipp = await start_sipp("uas_options_silent.xml", transport="t1")
    timers = SipTimers(t1=0.02, t2=0.1)
    result = await probe_options(
        transport, resolver, sipp.target, 1.0, transport_type="tcp", timers=timers
    )
    assert not result.healthy and result.failure is ProbeFailure.TIMEOUT
    assert "(1 sent)" in (result.error or "")
    assert len(sipp.received("OPTIONS")) == 1
    # the same over UDP retransmits (the control)
    udp = await probe_options(transport, resolver, "127.0.0.1:9", 0.5, timers=timers)
    assert "(1 sent)" not in (udp.error or "")


async def test_broken_connection_is_reopened_and_idle_ones_closed(
    resolver: SipResolver, start_sipp: StartSipp
) -> None:
    transport = await SipTransport.create("127.0.0.1", 0, idle_timeout=0.5)
    try:
        sipp = await start_sipp("uas_options_200.xml", calls=3, transport="t1")
        first = await probe_options(transport, resolver, sipp.target, 5.0, transport_type="tcp")
        assert first.healthy, first
        conn = transport.streams.connection(Target("127.0.0.1", sipp.port, "tcp"))
        assert conn is not None
        conn.abort(TransportError("broken by the test"))  # as a reset would
        second = await probe_options(transport, resolver, sipp.target, 5.0, transport_type="tcp")
        assert second.healthy, second
        assert transport.stream_stats.opened == 2  # reconnected
        await wait_until(lambda: len(transport.streams) == 0, timeout=5.0)
        assert transport.stream_stats.closed_idle >= 1
        third = await probe_options(transport, resolver, sipp.target, 5.0, transport_type="tcp")
        assert third.healthy and transport.stream_stats.opened == 3
    finally:
        transport.close()
        await transport.wait_closed()
