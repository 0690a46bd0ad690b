"""RTP silence for answered calls (RFC 3550 header, G.711 payload).

One RtpTicker task serves every stream: each 20 ms tick it sends one packet per active
stream, with the schedule kept on absolute times so that sleep jitter does not add up. A
task per call would cost a wake-up per call per tick and drift apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import struct
from weakref import WeakKeyDictionary

from shared.sip.sdp import Codec

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!BBHII")
PACKET_INTERVAL = 0.020
MAX_CATCH_UP_TICKS = 5  # beyond this the schedule is reset instead of bursting packets


class RtpStream:
    """One call's RTP socket (bound at open, on an even port) and its send state."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.local_host, self.local_port = sock.getsockname()[:2]
        self.remote: tuple[str, int] | None = None
        self.codec: Codec | None = None
        self.ssrc = random.getrandbits(32)
        self.seq = random.getrandbits(16)
        self.timestamp = random.getrandbits(32)
        self.packets_sent = 0
        self.send_errors = 0
        self._buffer = bytearray()
        self._samples = 160
        self._marker = 0x80
        self._ticker: RtpTicker | None = None

    @classmethod
    def open(cls, host: str = "127.0.0.1", port_range: tuple[int, int] | None = None) -> RtpStream:
        """Bind an even port (RTCP would take the odd one above), from `port_range` if given."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        candidates: list[int]
        if port_range is not None:
            low, high = port_range
            candidates = list(range(low + (low % 2), high + 1, 2))
            random.shuffle(candidates)
        else:
            candidates = [0] * 50
        for port in candidates:
            sock = socket.socket(family, socket.SOCK_DGRAM)
            try:
                sock.bind((host, port))
            except OSError:
                sock.close()
                continue
            if sock.getsockname()[1] % 2 == 0:
                sock.setblocking(False)
                return cls(sock)
            sock.close()
        raise OSError(f"no free even RTP port on {host} in {port_range or 'the ephemeral range'}")

    @property
    def active(self) -> bool:
        return self._ticker is not None

    def start(self, remote: tuple[str, int], codec: Codec, ticker: RtpTicker) -> None:
        """Send silence to `remote` every 20 ms until stop()."""
        self.remote = remote
        self.codec = codec
        self._samples = codec.samples_per_20ms
        self._buffer = bytearray(_HEADER.size) + bytes([codec.silence]) * self._samples
        self._marker = 0x80  # first packet of a talkspurt
        self._ticker = ticker
        ticker.add(self)

    def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.remove(self)
            self._ticker = None

    def close(self) -> None:
        self.stop()
        self.sock.close()

    def send_next(self) -> None:
        assert self.codec is not None and self.remote is not None
        _HEADER.pack_into(
            self._buffer,
            0,
            0x80,
            self._marker | self.codec.payload_type,
            self.seq,
            self.timestamp,
            self.ssrc,
        )
        self._marker = 0
        self.seq = (self.seq + 1) & 0xFFFF
        self.timestamp = (self.timestamp + self._samples) & 0xFFFFFFFF
        try:
            self.sock.sendto(self._buffer, self.remote)
            self.packets_sent += 1
        except OSError:
            # a full socket buffer or an unreachable peer loses one packet, as RTP may
            self.send_errors += 1

    def skip(self, ticks: int) -> None:
        """Account for ticks the loop missed: the media clock keeps running."""
        self.timestamp = (self.timestamp + ticks * self._samples) & 0xFFFFFFFF


class RtpTicker:
    """The shared 20 ms clock; its task runs only while some stream is active."""

    def __init__(self, interval: float = PACKET_INTERVAL) -> None:
        self.interval = interval
        self._streams: dict[int, RtpStream] = {}
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0
        self.late_resets = 0

    @property
    def stream_count(self) -> int:
        return len(self._streams)

    def add(self, stream: RtpStream) -> None:
        self._streams[id(stream)] = stream
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="rtp-ticker")

    def remove(self, stream: RtpStream) -> None:
        self._streams.pop(id(stream), None)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while self._streams:
            behind = int((loop.time() - next_at) / self.interval)
            if behind > MAX_CATCH_UP_TICKS:
                self.late_resets += 1
                for stream in self._streams.values():
                    stream.skip(behind)
                next_at += behind * self.interval
            for stream in list(self._streams.values()):
                stream.send_next()
            self.ticks += 1
            next_at += self.interval
            await asyncio.sleep(max(0.0, next_at - loop.time()))

    async def aclose(self) -> None:
        self._streams.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


_default_tickers: WeakKeyDictionary[asyncio.AbstractEventLoop, RtpTicker] = WeakKeyDictionary()


def default_ticker() -> RtpTicker:
    """The ticker shared by every call on the running event loop."""
    loop = asyncio.get_running_loop()
    ticker = _default_tickers.get(loop)
    if ticker is None:
        ticker = _default_tickers[loop] = RtpTicker()
    return ticker
