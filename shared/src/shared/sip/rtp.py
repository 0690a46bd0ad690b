"""RTP for answered calls: silence out (RFC 3550 header, G.711 payload), packets in.

One RtpTicker task serves every stream: each 20 ms tick it sends one packet per sending
stream, with the schedule kept on absolute times so that sleep jitter does not add up (a task
per call would cost a wake-up per call per tick). Once a second it also checks media
liveness: a stream that expects media and got no RTP for its timeout calls its callback once.

Incoming RTP is read with a loop reader per socket. The first RTP packet latches the stream
to its source (symmetric RTP, RFC 4961): behind NAT a carrier's packets come from somewhere
else than its SDP said, and that source is where it listens. A source is only latched to
when `may_latch` (the call's dial policy) allows it: anyone who can send us one packet
could otherwise aim our RTP at an internal address. RTCP sender reports go out every
RTCP_INTERVAL seconds from the odd port above the RTP port.

Every exception met while sending or reading is contained to its stream (see `guard`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import struct
from collections.abc import Callable
from weakref import WeakKeyDictionary

from shared.sip.guard import ThrottledLog
from shared.sip.rtcp import sender_report
from shared.sip.sdp import Codec

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!BBHII")
PACKET_INTERVAL = 0.020
MAX_CATCH_UP_TICKS = 5  # beyond this the schedule is reset instead of bursting packets
RTCP_INTERVAL = 5.0  # RFC 3550 section 6.2 minimum for a two-party session
LIVENESS_EVERY_TICKS = 50  # one liveness check a second
MAX_READS_PER_WAKEUP = 64  # a flooding peer must not starve the loop
_send_errors = ThrottledLog(log, "rtp.send")
_read_errors = ThrottledLog(log, "rtp.read")

Address = tuple[str, int]


def _valid_port(port: int) -> bool:
    return isinstance(port, int) and 0 < port <= 65535


class RtpStream:
    """One call's RTP socket (an even port) and RTCP socket (the odd one above it)."""

    def __init__(self, sock: socket.socket, rtcp_sock: socket.socket | None = None) -> None:
        self.sock = sock
        self.rtcp_sock = rtcp_sock
        self.local_host, self.local_port = sock.getsockname()[:2]
        self.remote: Address | None = None
        self.rtcp_remote: Address | None = None
        self.codec: Codec | None = None
        self.sending = False
        self.ssrc = random.getrandbits(32)
        self.seq = random.getrandbits(16)
        self.timestamp = random.getrandbits(32)
        self.packets_sent = 0
        self.octets_sent = 0
        self.send_errors = 0
        self.rtcp_sent = 0
        self.packets_received = 0
        self.rtcp_received = 0
        self.last_received: float | None = None  # loop time of the last RTP packet in
        self.latched_to: Address | None = None
        self._signalled: Address | None = None  # the address the peer's SDP gave
        # Whether our RTP may go to a packet's source (None: anywhere); asked once per source.
        self.may_latch: Callable[[str, int], bool] | None = None
        self._refused_source: Address | None = None
        self.failed = False  # an unexpected error stopped this stream
        self._buffer = bytearray()
        self._samples = 160
        self._marker = 0x80
        self._ticker: RtpTicker | None = None
        self._reading = False
        self._latch = True
        self._ticks_to_rtcp = random.randint(1, int(RTCP_INTERVAL / PACKET_INTERVAL))
        self._cname = f"{self.ssrc:08x}@{self.local_host}".encode()
        # liveness: on_timeout fires once when media is expected and none came for `timeout`
        self.timeout = 0.0
        self.expect_media = False
        self._on_timeout: Callable[[], None] | None = None
        self._quiet_since = 0.0
        self.timed_out = False

    @classmethod
    def open(cls, host: str = "127.0.0.1", port_range: tuple[int, int] | None = None) -> RtpStream:
        """Bind an even port and the odd one above it, from `port_range` if given."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        candidates: list[int]
        if port_range is not None:
            low, high = port_range
            candidates = list(range(low + (low % 2), high, 2))
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
            bound = sock.getsockname()[1]
            if bound % 2 != 0:
                sock.close()
                continue
            rtcp = socket.socket(family, socket.SOCK_DGRAM)
            try:
                rtcp.bind((host, bound + 1))
            except OSError:
                rtcp.close()
                sock.close()
                continue
            sock.setblocking(False)
            rtcp.setblocking(False)
            return cls(sock, rtcp)
        raise OSError(f"no free even RTP port pair on {host} in {port_range or 'the kernel range'}")

    # -- receiving ---------------------------------------------------------------------------

    def listen(self) -> None:
        """Read both sockets from now on (early media included)."""
        if self._reading:
            return
        loop = asyncio.get_running_loop()
        loop.add_reader(self.sock.fileno(), self._on_rtp_readable)
        if self.rtcp_sock is not None:
            loop.add_reader(self.rtcp_sock.fileno(), self._on_rtcp_readable)
        self._reading = True

    def _stop_listening(self) -> None:
        if not self._reading:
            return
        self._reading = False
        with contextlib.suppress(RuntimeError, ValueError, OSError):
            loop = asyncio.get_running_loop()
            loop.remove_reader(self.sock.fileno())
            if self.rtcp_sock is not None:
                loop.remove_reader(self.rtcp_sock.fileno())

    def _on_rtp_readable(self) -> None:
        try:
            for _ in range(MAX_READS_PER_WAKEUP):
                try:
                    data, addr = self.sock.recvfrom(2048)
                except (BlockingIOError, InterruptedError):
                    return
                except OSError:
                    return  # e.g. an ICMP error queued on the socket: the next read goes on
                self._on_rtp(data, (str(addr[0]), int(addr[1])))
        except Exception as exc:
            _read_errors.contained(exc, f"RTP on port {self.local_port}")

    def _on_rtp(self, data: bytes, source: Address) -> None:
        # RFC 3550 section 5.1: at least the fixed header, version 2
        if len(data) < 12 or data[0] >> 6 != 2:
            return
        self.packets_received += 1
        self.last_received = asyncio.get_running_loop().time()
        if self._latch and self.latched_to is None:
            if source != self.remote and not self._latch_allowed(source):
                return  # keep sending where the SDP said; a later allowed source may latch
            self.latched_to = source
            if source != self.remote:
                self.remote = source
                self.rtcp_remote = (source[0], source[1] + 1) if source[1] < 65535 else None

    def _latch_allowed(self, source: Address) -> bool:
        if self.may_latch is None:
            return True
        if source == self._refused_source:
            return False  # a flood from one refused source costs one policy check
        if self.may_latch(*source):
            return True
        if self._refused_source is None:  # once per stream: a flood must not flood the log
            log.warning("RTP port %s: not latching to %s:%s (refused)", self.local_port, *source)
        self._refused_source = source
        return False

    def _on_rtcp_readable(self) -> None:
        sock = self.rtcp_sock
        if sock is None:
            return
        for _ in range(MAX_READS_PER_WAKEUP):
            try:
                sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            self.rtcp_received += 1

    # -- sending -----------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        return self._ticker is not None

    def start(self, remote: Address, codec: Codec, ticker: RtpTicker, *, send: bool = True) -> None:
        """Join `ticker`; send silence to `remote` every 20 ms while `send` (and set_sending).

        Raises ValueError for a port outside 1-65535: a bad remote must fail this call only.
        """
        self.retarget(remote, codec)
        self.sending = send
        self._marker = 0x80  # first packet of a talkspurt
        if self._ticker is None:
            self._ticker = ticker
            ticker.add(self)

    def retarget(self, remote: Address, codec: Codec) -> None:
        """A new remote media address or codec (a re-INVITE or UPDATE): latch again."""
        if not _valid_port(remote[1]):
            raise ValueError(f"RTP port out of range: {remote[1]!r}")
        if remote != self._signalled or self.latched_to is None:
            self._signalled = remote
            self.remote = remote
            self.rtcp_remote = (remote[0], remote[1] + 1) if remote[1] < 65535 else None
            self.latched_to = None
        if codec is not self.codec:
            self.codec = codec
            self._samples = codec.samples_per_20ms
            self._buffer = bytearray(_HEADER.size) + bytes([codec.silence]) * self._samples

    def set_sending(self, send: bool) -> None:
        if send and not self.sending:
            self._marker = 0x80
        self.sending = send

    def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.remove(self)
            self._ticker = None
        self.sending = False
        self.expect_media = False

    def close(self) -> None:
        self.stop()
        self._stop_listening()
        self.sock.close()
        if self.rtcp_sock is not None:
            self.rtcp_sock.close()

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
            self.octets_sent += self._samples
        except OSError:
            # a full socket buffer or an unreachable peer loses one packet, as RTP may
            self.send_errors += 1
        self._ticks_to_rtcp -= 1
        if self._ticks_to_rtcp <= 0:
            self._ticks_to_rtcp = int(RTCP_INTERVAL / PACKET_INTERVAL)
            self.send_report()

    def send_report(self) -> None:
        if self.rtcp_sock is None or self.rtcp_remote is None:
            return
        report = sender_report(
            self.ssrc, self.timestamp, self.packets_sent, self.octets_sent, self._cname
        )
        try:
            self.rtcp_sock.sendto(report, self.rtcp_remote)
            self.rtcp_sent += 1
        except OSError:
            self.send_errors += 1

    def skip(self, ticks: int) -> None:
        """Account for ticks the loop missed: the media clock keeps running."""
        self.timestamp = (self.timestamp + ticks * self._samples) & 0xFFFFFFFF

    # -- liveness ----------------------------------------------------------------------------

    def watch(self, timeout: float, on_timeout: Callable[[], None]) -> None:
        """Call `on_timeout` once if no RTP arrives for `timeout` s while media is expected."""
        self.timeout = timeout
        self._on_timeout = on_timeout
        self.expect(True)

    def expect(self, expected: bool) -> None:
        """Whether the peer should be sending now (not while it holds the call)."""
        if expected and not self.expect_media:
            self._quiet_since = asyncio.get_running_loop().time()
        self.expect_media = expected

    def check_liveness(self, now: float) -> None:
        if not self.expect_media or self.timeout <= 0 or self.timed_out:
            return
        heard = max(self.last_received or 0.0, self._quiet_since)
        if now - heard >= self.timeout:
            self.timed_out = True
            if self._on_timeout is not None:
                self._on_timeout()


class RtpTicker:
    """The shared 20 ms clock; its task runs only while some stream is active."""

    def __init__(self, interval: float = PACKET_INTERVAL) -> None:
        self.interval = interval
        self._streams: dict[int, RtpStream] = {}
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0
        self.late_resets = 0
        self.stream_errors = 0

    @property
    def stream_count(self) -> int:
        return len(self._streams)

    def add(self, stream: RtpStream) -> None:
        self._streams[id(stream)] = stream
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="rtp-ticker")

    def remove(self, stream: RtpStream) -> None:
        self._streams.pop(id(stream), None)

    def _fail(self, stream: RtpStream, exc: Exception) -> None:
        """One stream's error stops that stream, never the ticker."""
        self.stream_errors += 1
        stream.failed = True
        self.remove(stream)
        stream._ticker = None
        _send_errors.contained(exc, f"RTP stream on port {stream.local_port} stopped")

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
            check = self.ticks % LIVENESS_EVERY_TICKS == 0
            now = loop.time()
            for stream in list(self._streams.values()):
                try:
                    if stream.sending:
                        stream.send_next()
                    if check:
                        stream.check_liveness(now)
                except Exception as exc:
                    self._fail(stream, exc)
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
