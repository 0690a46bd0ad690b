"""OutboundCall against a carrier scripted step by step (cases sipp cannot play)."""

from __future__ import annotations

import asyncio
import itertools
import struct
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from shared.sip.call import CallEventKind, CallState, OutboundCall
from shared.sip.invite_request import CallSpec
from shared.sip.message import SipRequest, SipResponse
from shared.sip.parser import parse_message
from shared.sip.resolver import SipResolver
from shared.sip.rtp import RtpTicker
from shared.sip.testing.dns_server import LoopbackDnsServer
from shared.sip.testing.udp_peers import ScriptedPeer, SilentPeer
from shared.sip.testing.waiting import wait_until
from shared.sip.timers import SipTimers
from shared.sip.transport import UdpTransport

Addr = tuple[str, int]


@pytest.fixture
async def carrier() -> AsyncIterator[ScriptedPeer]:
    async with await ScriptedPeer.start() as peer:
        yield peer


Dial = Callable[..., OutboundCall]


@pytest.fixture
def dial(transport: UdpTransport, resolver: SipResolver, carrier: ScriptedPeer) -> Dial:
    """`dial(**OutboundCall options)` -> a call to number 42 at the scripted carrier."""

    def make(**options: Any) -> OutboundCall:
        spec = CallSpec(request_uri=f"sip:42@{carrier.target}")
        return OutboundCall(transport, resolver, spec, **options)

    return make


@pytest.fixture
async def ticker() -> AsyncIterator[RtpTicker]:
    ticker = RtpTicker()
    yield ticker
    await ticker.aclose()


def sdp_to(port: int) -> bytes:
    return (
        "v=0\r\no=carrier 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    ).encode()


def ok_headers(contact: Addr, extra: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    return [("Contact", f"<sip:uas@{contact[0]}:{contact[1]}>"), *(extra or [])]


SDP = [("Content-Type", "application/sdp")]


async def hang_up(call: OutboundCall, carrier: ScriptedPeer) -> None:
    """Our BYE, answered by the carrier so that no Timer F has to run out."""
    task = asyncio.create_task(call.bye())
    bye, addr = await carrier.expect_request("BYE")
    carrier.respond(bye, addr, 200, "OK", to_tag=None)
    response = await task
    assert response is not None and response.status_code == 200


async def answer(
    carrier: ScriptedPeer, media_port: int = 9, extra: list[tuple[str, str]] | None = None
) -> tuple[SipRequest, Addr, bytes]:
    invite, addr = await carrier.expect_request("INVITE")
    carrier.respond(invite, addr, 180, "Ringing")
    ok = carrier.respond(
        invite,
        addr,
        200,
        "OK",
        headers=ok_headers(carrier.address, (extra or []) + SDP),
        body=sdp_to(media_port),
    )
    return invite, addr, ok


async def answered(call: OutboundCall, carrier: ScriptedPeer) -> tuple[SipRequest, Addr, bytes]:
    """`call` invited and answered by the carrier (180, then 200 with SDP): what answer() gave."""
    invite_task = asyncio.create_task(call.invite())
    got = await answer(carrier)
    assert (await invite_task).kind is CallEventKind.ANSWERED
    return got


async def test_loose_route_set_steers_ack_and_bye(
    dial: Dial, carrier: ScriptedPeer, ticker: RtpTicker
) -> None:
    proxy = await ScriptedPeer.start()
    try:
        call = dial(ticker=ticker)
        invite_task = asyncio.create_task(call.invite())
        # Record-Route as a UAS sees it: the proxy next to us is the last entry
        record_route = f"<sip:far.proxy.invalid;lr>, <sip:{proxy.target};lr>"
        await answer(carrier, extra=[("Record-Route", record_route)])
        assert (await invite_task).kind is CallEventKind.ANSWERED
        ack, _ = await proxy.expect_request("ACK")
        assert ack.uri == f"sip:uas@{carrier.target}"  # Request-URI: the remote target
        assert ack.headers.get_all("Route") == [
            f"<sip:{proxy.target};lr>",
            "<sip:far.proxy.invalid;lr>",
        ]
        bye_task = asyncio.create_task(call.bye())
        bye, addr = await proxy.expect_request("BYE")
        assert bye.uri == ack.uri and bye.cseq == (2, "BYE")
        assert bye.headers.get_all("Route") == ack.headers.get_all("Route")
        proxy.respond(bye, addr, 200, "OK", to_tag=None)
        response = await bye_task
        assert response is not None and response.status_code == 200
        assert carrier.pending() == []  # nothing bypassed the proxy
    finally:
        proxy.close()


async def test_retransmitted_2xx_gets_the_same_ack(
    dial: Dial, carrier: ScriptedPeer, ticker: RtpTicker
) -> None:
    call = dial(ticker=ticker)
    _, addr, ok = await answered(call, carrier)
    first, _ = await carrier.expect_request("ACK")
    for _ in range(2):
        carrier.send(ok, addr)  # as if our ACK had been lost
        again, _ = await carrier.expect_request("ACK")
        assert again.to_bytes() == first.to_bytes()
    await hang_up(call, carrier)


async def test_retransmitted_busy_is_acked_again_on_the_invite_branch(
    dial: Dial, carrier: ScriptedPeer
) -> None:
    call = dial()
    invite_task = asyncio.create_task(call.invite())
    invite, addr = await carrier.expect_request("INVITE")
    busy = carrier.respond(invite, addr, 486, "Busy Here")
    outcome = await invite_task
    assert (outcome.kind, outcome.status_code) == (CallEventKind.FAILED, 486)
    first, _ = await carrier.expect_request("ACK")
    carrier.send(busy, addr)  # as if the ACK had been lost (Timer D still running)
    again, _ = await carrier.expect_request("ACK")
    assert again.to_bytes() == first.to_bytes() and again.branch == invite.branch
    assert len(call.history) == 1  # the copy is absorbed, not reported


async def test_duplicate_2xx_before_the_ack_is_not_taken_for_a_fork(
    dial: Dial, carrier: ScriptedPeer
) -> None:
    call = dial()
    invite_task = asyncio.create_task(call.invite())
    invite, addr = await carrier.expect_request("INVITE")
    ok = carrier.respond(
        invite, addr, 200, "OK", headers=ok_headers(carrier.address, SDP), body=sdp_to(9)
    )
    carrier.send(ok, addr)  # duplicated by the network, arrives back to back
    assert (await invite_task).kind is CallEventKind.ANSWERED
    await carrier.expect_request("ACK")
    await asyncio.sleep(0.2)
    assert not [m for m in carrier.pending() if isinstance(m, SipRequest) and m.method == "BYE"]
    await hang_up(call, carrier)


async def test_rtp_silence_flows_to_the_answered_media_address(
    transport: UdpTransport,
    carrier: ScriptedPeer,
    dial: Dial,
    ticker: RtpTicker,
) -> None:
    sink = await SilentPeer.start()
    try:
        call = dial(ticker=ticker)
        invite_task = asyncio.create_task(call.invite())
        invite, _ = await carrier.expect_request("INVITE", timeout=5)
        offer = invite.body.decode()
        assert invite.content_type == "application/sdp"
        assert call.rtp is not None and f"m=audio {call.rtp.local_port} RTP/AVP 0 8 101" in offer
        assert call.rtp.local_port % 2 == 0
        carrier.respond(
            invite,
            ("127.0.0.1", transport.local_port),
            200,
            "OK",
            headers=ok_headers(carrier.address, SDP),
            body=sdp_to(sink.port),
        )
        assert (await invite_task).kind is CallEventKind.ANSWERED
        await wait_until(lambda: len(sink.received) >= 10, timeout=2)
        seqs = [struct.unpack("!H", d.data[2:4])[0] for d in sink.received[:10]]
        assert all((b - a) % 65536 == 1 for a, b in itertools.pairwise(seqs))
        assert all(d.addr[1] == call.rtp.local_port for d in sink.received)
        bye_task = asyncio.create_task(call.bye())
        bye, addr = await carrier.expect_request("BYE")
        carrier.respond(bye, addr, 200, "OK", to_tag=None)
        await bye_task
        count = len(sink.received)
        await asyncio.sleep(0.1)
        assert len(sink.received) <= count + 1  # silence stops with the call
    finally:
        sink.close()


async def test_cancel_before_any_provisional_waits_for_one(
    dial: Dial, carrier: ScriptedPeer
) -> None:
    call = dial()
    invite_task = asyncio.create_task(call.invite())
    invite, addr = await carrier.expect_request("INVITE")
    cancel_task = asyncio.create_task(call.cancel())
    await asyncio.sleep(0.2)
    assert not [m for m in carrier.pending() if isinstance(m, SipRequest) and m.method == "CANCEL"]
    carrier.respond(invite, addr, 180, "Ringing")
    cancel, cancel_addr = await carrier.expect_request("CANCEL")
    assert cancel.branch == invite.branch and cancel.uri == invite.uri
    carrier.respond(cancel, cancel_addr, 200, "OK")
    carrier.respond(invite, addr, 487, "Request Terminated")
    ack, _ = await carrier.expect_request("ACK")
    assert ack.branch == invite.branch and ack.to_tag == "uas-tag"
    outcome = await cancel_task
    assert outcome is not None and (outcome.kind, outcome.status_code) == (
        CallEventKind.CANCELLED,
        487,
    )
    assert (await invite_task) is outcome


async def test_200_crossing_cancel_is_acked_then_byed(dial: Dial, carrier: ScriptedPeer) -> None:
    call = dial()
    invite_task = asyncio.create_task(call.invite())
    invite, addr = await carrier.expect_request("INVITE")
    carrier.respond(invite, addr, 180, "Ringing")
    await wait_until(lambda: call.state is CallState.PROCEEDING)
    cancel_task = asyncio.create_task(call.cancel())
    cancel, cancel_addr = await carrier.expect_request("CANCEL")
    # the callee picked up just before the CANCEL arrived
    carrier.respond(
        invite, addr, 200, "OK", headers=ok_headers(carrier.address, SDP), body=sdp_to(9)
    )
    carrier.respond(cancel, cancel_addr, 481, "Call/Transaction Does Not Exist")
    ack, _ = await carrier.expect_request("ACK")
    assert ack.cseq == (1, "ACK") and ack.branch != invite.branch
    bye, bye_addr = await carrier.expect_request("BYE")
    assert bye.cseq == (2, "BYE") and bye.to_tag == "uas-tag"
    carrier.respond(bye, bye_addr, 200, "OK", to_tag=None)
    outcome = await cancel_task
    assert outcome is not None and outcome.kind is CallEventKind.CANCELLED
    assert outcome.status_code == 200
    assert (await invite_task) is outcome
    assert call.state is CallState.CANCELLED


async def test_answer_timeout_cancels(dial: Dial, carrier: ScriptedPeer) -> None:
    call = dial()
    invite_task = asyncio.create_task(call.invite(answer_timeout=0.3))
    invite, addr = await carrier.expect_request("INVITE")
    carrier.respond(invite, addr, 180, "Ringing")
    started = time.monotonic()
    cancel, cancel_addr = await carrier.expect_request("CANCEL")
    assert 0.15 < time.monotonic() - started < 0.6
    carrier.respond(cancel, cancel_addr, 200, "OK")
    carrier.respond(invite, addr, 487, "Request Terminated")
    outcome = await invite_task
    assert outcome.kind is CallEventKind.CANCELLED
    assert outcome.error == "no answer within 0.3s"


async def test_no_487_after_cancel_gives_up_after_64_t1(dial: Dial, carrier: ScriptedPeer) -> None:
    timers = SipTimers(t1=0.02, t2=0.1)  # 64*T1 = 1.28 s
    call = dial(timers=timers)
    invite_task = asyncio.create_task(call.invite())
    invite, addr = await carrier.expect_request("INVITE")
    carrier.respond(invite, addr, 183, "Session Progress")
    await wait_until(lambda: call.state is CallState.PROCEEDING)
    started = time.monotonic()
    await call.cancel()
    assert 1.2 < time.monotonic() - started < 1.8
    outcome = await invite_task
    assert outcome.kind is CallEventKind.CANCELLED and outcome.status_code is None


async def test_carrier_bye_retransmission_is_answered_again(
    transport: UdpTransport, carrier: ScriptedPeer, dial: Dial
) -> None:
    call = dial()
    _invite, addr, ok = await answered(call, carrier)
    await carrier.expect_request("ACK")
    ok_msg = parse_message(ok)
    assert isinstance(ok_msg, SipResponse)
    bye = (
        f"BYE sip:anonymous@{transport.sent_by} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {carrier.target};branch=z9hG4bKcarrierbye\r\n"
        f"From: {ok_msg.headers.get('To')}\r\nTo: {ok_msg.headers.get('From')}\r\n"
        f"Call-ID: {ok_msg.call_id}\r\nCSeq: 5 BYE\r\nMax-Forwards: 70\r\n\r\n"
    ).encode()
    carrier.send(bye, addr)
    first, _ = await carrier.expect_response("BYE")
    carrier.send(bye, addr)  # our 200 was "lost"
    second, _ = await carrier.expect_response("BYE")
    assert first.status_code == second.status_code == 200
    assert first.to_bytes() == second.to_bytes()
    ended = await call.wait_ended(1)
    assert ended.kind is CallEventKind.REMOTE_HANGUP
    assert [e.kind for e in call.history].count(CallEventKind.REMOTE_HANGUP) == 1


async def test_bye_from_a_stranger_gets_481(
    transport: UdpTransport, carrier: ScriptedPeer, dial: Dial
) -> None:
    call = dial()
    _, addr, _ = await answered(call, carrier)
    bye = (
        f"BYE sip:x@{transport.sent_by} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {carrier.target};branch=z9hG4bKz\r\n"
        f"From: <sip:evil@x>;tag=wrong\r\nTo: <sip:x@y>;tag={call.local_tag}\r\n"
        f"Call-ID: {call.call_id}\r\nCSeq: 9 BYE\r\n\r\n"
    ).encode()
    carrier.send(bye, addr)
    response, _ = await carrier.expect_response("BYE")
    assert response.status_code == 481
    assert call.state is CallState.ANSWERED
    await hang_up(call, carrier)


async def test_reinvite_is_answered_with_our_sdp_until_acked(
    transport: UdpTransport, carrier: ScriptedPeer, dial: Dial
) -> None:
    timers = SipTimers(t1=0.05, t2=0.2)
    call = dial(timers=timers)
    invite, addr, ok = await answered(call, carrier)
    ok_msg = parse_message(ok)
    reinvite = (
        f"INVITE sip:anonymous@{transport.sent_by} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {carrier.target};branch=z9hG4bKreinv\r\n"
        f"From: {ok_msg.headers.get('To')}\r\nTo: {ok_msg.headers.get('From')}\r\n"
        f"Call-ID: {call.call_id}\r\nCSeq: 2 INVITE\r\nContact: <sip:uas@{carrier.target}>\r\n\r\n"
    ).encode()
    carrier.send(reinvite, addr)
    first, _ = await carrier.expect_response("INVITE")
    assert first.status_code == 200 and first.body == invite.body  # session unchanged
    again, _ = await carrier.expect_response("INVITE")  # no ACK yet: retransmitted
    assert again.to_bytes() == first.to_bytes()
    ack = reinvite.replace(b"INVITE sip:", b"ACK sip:", 1).replace(b"2 INVITE", b"2 ACK")
    carrier.send(ack.replace(b"z9hG4bKreinv", b"z9hG4bKreack"), addr)
    await asyncio.sleep(0.5)
    assert not [m for m in carrier.pending() if isinstance(m, SipResponse)]
    await hang_up(call, carrier)


async def test_second_fork_2xx_is_acked_and_byed(dial: Dial, carrier: ScriptedPeer) -> None:
    call = dial()
    invite, addr, _ = await answered(call, carrier)
    await carrier.expect_request("ACK")
    carrier.respond(
        invite,
        addr,
        200,
        "OK",
        to_tag="fork-2",
        headers=ok_headers(carrier.address, SDP),
        body=sdp_to(9),
    )
    ack2, _ = await carrier.expect_request("ACK")
    assert ack2.to_tag == "fork-2"
    bye2, bye_addr = await carrier.expect_request("BYE")
    assert bye2.to_tag == "fork-2"
    carrier.respond(bye2, bye_addr, 200, "OK", to_tag=None)
    assert call.state is CallState.ANSWERED  # the first dialog lives on
    await hang_up(call, carrier)


async def test_failover_to_next_srv_target_when_first_is_silent(
    transport: UdpTransport,
    carrier: ScriptedPeer,
    dns_server: LoopbackDnsServer,
    dns_resolver: SipResolver,
) -> None:
    silent = await SilentPeer.start()
    try:
        dns_server.add(
            "_sip._udp.trunk.test",
            "SRV",
            f"10 0 {silent.port} a.trunk.test.",
            f"20 0 {carrier.port} b.trunk.test.",
        )
        dns_server.add("a.trunk.test", "A", "127.0.0.1")
        dns_server.add("b.trunk.test", "A", "127.0.0.1")
        call = OutboundCall(
            transport,
            dns_resolver,
            CallSpec(request_uri="sip:42@trunk.test"),
            timers=SipTimers(t1=0.02),  # Timer B 1.28 s per target
        )
        invite_task = asyncio.create_task(call.invite())
        invite, _, _ = await answer(carrier)
        assert invite.uri == "sip:42@trunk.test"
        outcome = await invite_task
        assert outcome.kind is CallEventKind.ANSWERED
        assert call.destination is not None and call.destination.port == carrier.port
        assert len(silent.received) >= 2
        first = parse_message(silent.received[0].data)
        assert first.call_id == invite.call_id and first.branch != invite.branch
        await hang_up(call, carrier)
    finally:
        silent.close()


async def test_unresolvable_provider_fails_fast(
    transport: UdpTransport, resolver: SipResolver
) -> None:
    call = OutboundCall(transport, resolver, CallSpec(request_uri="sip:42@no-such-host.invalid"))
    started = time.monotonic()
    outcome = await call.invite()
    assert outcome.kind is CallEventKind.FAILED
    assert outcome.error is not None and "NXDOMAIN" in outcome.error
    assert time.monotonic() - started < 1.0
    assert call.ended
