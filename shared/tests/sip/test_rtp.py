"""RTP silence: packet format, pacing, cost of many streams on one ticker."""

from __future__ import annotations

import asyncio
import itertools
import socket
import struct
import time

from shared.sip.rtp import RtpStream, RtpTicker
from shared.sip.sdp import PCMA, PCMU
from shared.sip.testing.udp_peers import SilentPeer
from shared.sip.testing.waiting import wait_until


def test_streams_bind_even_ports() -> None:
    streams = [RtpStream.open("127.0.0.1") for _ in range(10)]
    try:
        assert all(s.local_port % 2 == 0 for s in streams)
    finally:
        for s in streams:
            s.close()


def test_port_range_is_honoured() -> None:
    stream = RtpStream.open("127.0.0.1", (31000, 31010))
    try:
        assert stream.local_port in range(31000, 31011, 2)
    finally:
        stream.close()


async def test_pcmu_silence_packets_are_well_formed_and_paced() -> None:
    sink = await SilentPeer.start()
    ticker = RtpTicker()
    stream = RtpStream.open("127.0.0.1")
    try:
        started = time.monotonic()
        stream.start(sink.address, PCMU, ticker)
        await wait_until(lambda: len(sink.received) >= 25, timeout=3)
        elapsed = time.monotonic() - started
        stream.stop()
        assert 0.4 <= elapsed <= 0.7, elapsed  # 25 packets at 20 ms
        packets = [d.data for d in sink.received[:25]]
        assert all(len(p) == 12 + 160 for p in packets)
        headers = [struct.unpack("!BBHII", p[:12]) for p in packets]
        assert all(h[0] == 0x80 for h in headers)  # V=2, no padding/extension/CSRC
        assert headers[0][1] == 0x80 | 0  # marker on the first packet, PT 0
        assert all(h[1] == 0 for h in headers[1:])
        assert all((b[2] - a[2]) % 65536 == 1 for a, b in itertools.pairwise(headers))
        assert all(b[3] - a[3] == 160 for a, b in itertools.pairwise(headers))
        assert len({h[4] for h in headers}) == 1  # one SSRC
        assert all(p[12:] == b"\xff" * 160 for p in packets)
        assert sink.received[0].addr[1] == stream.local_port  # symmetric RTP: sent from our port
    finally:
        stream.close()
        sink.close()
        await ticker.aclose()


async def test_pcma_silence_byte() -> None:
    sink = await SilentPeer.start()
    ticker = RtpTicker()
    stream = RtpStream.open("127.0.0.1")
    try:
        stream.start(sink.address, PCMA, ticker)
        await wait_until(lambda: len(sink.received) >= 2)
        data = sink.received[1].data
        assert data[1] == 8 and data[12:] == b"\xd5" * 160
    finally:
        stream.close()
        sink.close()
        await ticker.aclose()


async def test_ticker_task_ends_with_last_stream() -> None:
    sink = await SilentPeer.start()
    ticker = RtpTicker()
    stream = RtpStream.open("127.0.0.1")
    try:
        stream.start(sink.address, PCMU, ticker)
        await wait_until(lambda: len(sink.received) >= 2)
        stream.stop()
        await wait_until(lambda: ticker._task is None or ticker._task.done(), timeout=1)
        count = len(sink.received)
        await asyncio.sleep(0.1)
        assert len(sink.received) <= count + 1
    finally:
        stream.close()
        sink.close()


async def test_two_hundred_streams_are_cheap() -> None:
    # the sink is never read: the kernel drops what overflows, which costs the sender nothing
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    target = sink.getsockname()
    ticker = RtpTicker()
    streams = [RtpStream.open("127.0.0.1") for _ in range(200)]
    try:
        for stream in streams:
            stream.start(target, PCMU, ticker)
        await asyncio.sleep(0.2)  # settle
        sent0 = sum(s.packets_sent + s.send_errors for s in streams)
        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.sleep(1.0)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        sent = sum(s.packets_sent + s.send_errors for s in streams) - sent0
        print(f"200 streams: {cpu / wall:.1%} of a core, {sent / wall:.0f} packets/s")
        assert cpu / wall < 0.45, f"{cpu / wall:.1%} of a core"
        assert 200 * 45 <= sent / wall <= 200 * 52  # 50 packets/s each, drift-corrected
    finally:
        for stream in streams:
            stream.close()
        sink.close()
        await ticker.aclose()


async def test_latching_asks_may_latch_once_per_refused_source() -> None:
    """Symmetric RTP moves to a packet's source only when `may_latch` allows it; a refused
    source is asked about once, however many packets it sends."""
    signalled, refused, allowed = [await SilentPeer.start() for _ in range(3)]
    asked: list[tuple[str, int]] = []

    def may_latch(host: str, port: int) -> bool:
        asked.append((host, port))
        return port != refused.port

    ticker = RtpTicker()
    stream = RtpStream.open("127.0.0.1")
    stream.may_latch = may_latch
    ours = (stream.local_host, stream.local_port)
    packet = bytes([0x80, 0]) + bytes(10) + b"\xff" * 160
    try:
        stream.listen()
        stream.start(signalled.address, PCMU, ticker)
        for _ in range(3):
            refused.send(packet, ours)
        await wait_until(lambda: stream.packets_received == 3)
        assert stream.remote == signalled.address and stream.latched_to is None
        assert asked == [refused.address]
        allowed.send(packet, ours)
        await wait_until(lambda: len(allowed.received) >= 2)
        assert stream.latched_to == allowed.address and refused.received == []
    finally:
        stream.close()
        for peer in (signalled, refused, allowed):
            peer.close()
        await ticker.aclose()
