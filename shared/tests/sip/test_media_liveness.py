"""RTP stream reading (symmetric latch, liveness), RTCP sender reports, and a re-INVITE
2xx that is never ACKed."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator

import pytest
from shared.sip.call import CallEventKind, OutboundCall
from shared.sip.invite_request import CallSpec
from shared.sip.message import SipRequest
from shared.sip.resolver import SipResolver
from shared.sip.rtcp import RTCP_SDES, RTCP_SR
from shared.sip.rtp import RtpStream, RtpTicker
from shared.sip.sdp import PCMU
from shared.sip.testing.udp_peers import ScriptedPeer
from shared.sip.testing.waiting import wait_until
from shared.sip.timers import SipTimers
from shared.sip.transport import UdpTransport


def udp_pair() -> tuple[socket.socket, socket.socket]:
    """Two bound sockets on consecutive ports, even first (an RTP/RTCP pair)."""
    for _ in range(50):
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp.bind(("127.0.0.1", 0))
        port = rtp.getsockname()[1]
        if port % 2 == 0:
            rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                rtcp.bind(("127.0.0.1", port + 1))
            except OSError:
                rtcp.close()
            else:
                return rtp, rtcp
        rtp.close()
    raise OSError("no port pair")


@pytest.fixture
async def ticker() -> AsyncIterator[RtpTicker]:
    ticker = RtpTicker()
    yield ticker
    await ticker.aclose()


async def test_sender_report_goes_to_the_odd_port(
    ticker: RtpTicker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first automatic report comes at a random tick of the first interval (RFC 3550
    # 6.2); put it at the interval's end, so the one read here is the one sent here.
    monkeypatch.setattr("shared.sip.rtp.random.randint", lambda low, high: high)
    rtp, rtcp = udp_pair()
    stream = RtpStream.open("127.0.0.1")
    try:
        assert stream.rtcp_sock is not None
        assert stream.rtcp_sock.getsockname()[1] == stream.local_port + 1
        stream.start(rtp.getsockname(), PCMU, ticker)
        await asyncio.sleep(0.1)
        stream.send_report()
        sent_then = stream.packets_sent
        rtcp.settimeout(2)
        data, source = await asyncio.get_running_loop().run_in_executor(None, rtcp.recvfrom, 2048)
        assert source[1] == stream.local_port + 1  # sent from our RTCP port
        version, pt, length, ssrc = struct.unpack("!BBHI", data[:8])
        assert (version >> 6, pt, length, ssrc) == (2, RTCP_SR, 6, stream.ssrc)
        packets, octets = struct.unpack("!II", data[20:28])
        assert packets == sent_then > 0 and octets == packets * 160
        sdes = data[28:]
        assert sdes[1] == RTCP_SDES and (struct.unpack("!H", sdes[2:4])[0] + 1) * 4 == len(sdes)
        assert stream.rtcp_sent == 1
    finally:
        stream.close()
        rtp.close()
        rtcp.close()


async def test_stream_latches_to_where_the_carrier_sends_from(ticker: RtpTicker) -> None:
    signalled, _ = udp_pair()  # what the SDP said; the carrier is behind NAT elsewhere
    actual = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    actual.bind(("127.0.0.1", 0))
    stream = RtpStream.open("127.0.0.1")
    try:
        stream.listen()
        stream.start(signalled.getsockname(), PCMU, ticker)
        actual.sendto(bytes([0x80, 0]) + b"\x00" * 170, ("127.0.0.1", stream.local_port))
        await wait_until(lambda: stream.packets_received == 1, timeout=2)
        assert stream.remote == actual.getsockname() == stream.latched_to
        actual.settimeout(2)
        data = await asyncio.get_running_loop().run_in_executor(None, actual.recv, 2048)
        assert data[0] == 0x80 and len(data) == 172  # our silence now goes there
        # non-RTP noise is not counted and does not move the latch
        signalled.sendto(b"\x00junk", ("127.0.0.1", stream.local_port))
        await asyncio.sleep(0.1)
        assert stream.packets_received == 1 and stream.remote == actual.getsockname()
    finally:
        stream.close()
        signalled.close()
        actual.close()


async def test_liveness_fires_once_and_not_while_held(ticker: RtpTicker) -> None:
    sink, _ = udp_pair()
    stream = RtpStream.open("127.0.0.1")
    fired: list[float] = []
    try:
        stream.start(sink.getsockname(), PCMU, ticker)
        stream.watch(1.0, lambda: fired.append(asyncio.get_running_loop().time()))
        stream.expect(False)  # on hold: the carrier sends nothing, and that is fine
        await asyncio.sleep(1.6)
        assert fired == []
        stream.expect(True)
        await wait_until(lambda: len(fired) == 1, timeout=3)
        await asyncio.sleep(1.2)
        assert len(fired) == 1
    finally:
        stream.close()
        sink.close()


async def test_unacked_2xx_to_a_reinvite_ends_the_call(
    transport: UdpTransport, resolver: SipResolver
) -> None:
    carrier = await ScriptedPeer.start()
    try:
        call = OutboundCall(
            transport,
            resolver,
            CallSpec(request_uri=f"sip:42@{carrier.target}"),
            timers=SipTimers(t1=0.05, t2=0.4),  # 64*T1 = 3.2 s
        )
        task = asyncio.create_task(call.invite())
        invite, addr = await carrier.expect_request("INVITE")
        sdp = (
            b"v=0\r\no=c 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            b"m=audio 9 RTP/AVP 0\r\n"
        )
        contact = [("Contact", f"<sip:uas@{carrier.target}>"), ("Content-Type", "application/sdp")]
        carrier.respond(invite, addr, 200, "OK", headers=contact, body=sdp)
        assert (await task).kind is CallEventKind.ANSWERED
        await carrier.expect_request("ACK")
        from_ = invite.headers.get("to") or ""
        reinvite = SipRequest(
            "INVITE",
            (invite.headers.get("contact") or "<sip:x@127.0.0.1>").strip("<>"),
            [
                ("Via", f"SIP/2.0/UDP {carrier.target};branch=z9hG4bKre1"),
                ("From", f"{from_};tag=uas-tag"),
                ("To", invite.headers.get("from") or ""),
                ("Call-ID", invite.call_id),
                ("CSeq", "5 INVITE"),
                ("Contact", f"<sip:uas@{carrier.target}>"),
                ("Content-Type", "application/sdp"),
            ],
            sdp,
        )
        carrier.send(reinvite.to_bytes(), (transport.local_host, transport.local_port))
        ok, _ = await carrier.expect_response("INVITE")
        assert ok.status_code == 200
        # never ACKed: the 2xx is retransmitted, then the call ends with our BYE
        bye, bye_addr = await carrier.expect_request("BYE", timeout=8)
        carrier.respond(bye, bye_addr, 200, "OK", to_tag=None)
        ended = await call.wait_ended(timeout=5)
        assert ended.kind is CallEventKind.LOCAL_HANGUP and ended.cause == "unacked_2xx"
        retransmitted = [m for m in carrier.skipped if getattr(m, "status_code", 0) == 200]
        assert len(retransmitted) >= 3
    finally:
        carrier.close()
