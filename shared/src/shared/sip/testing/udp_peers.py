"""Scripted UDP peers: silent, auto-answering (SipResponder) and test-driven (ScriptedPeer)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from shared.sip.errors import SipError
from shared.sip.message import SipMessage, SipRequest, SipResponse, build_response
from shared.sip.parser import parse_message
from shared.sip.testing.lifecycle import ClosedAfterBlock

_ECHOED = frozenset({b"via", b"v", b"from", b"f", b"call-id", b"i", b"cseq"})


def fast_response(data: bytes, status_line: bytes, to_tag: bytes) -> bytes | None:
    """A minimal response to a request datagram; None for responses and ACKs.

    Byte-level on purpose: the benchmark responder must stay much cheaper than the prober.
    """
    if data.startswith((b"SIP/", b"ACK ")):
        return None
    end = data.find(b"\r\n\r\n")
    head = data if end < 0 else data[:end]
    out = [status_line]
    for line in head.split(b"\r\n")[1:]:
        name = line.split(b":", 1)[0].strip().lower()
        if name in _ECHOED:
            out.append(line)
        elif name in (b"to", b"t"):
            out.append(line if b"tag=" in line else line + b";tag=" + to_tag)
    out.append(b"Content-Length: 0\r\n\r\n")
    return b"\r\n".join(out)


@dataclass(frozen=True, slots=True)
class Datagram:
    at: float  # time.monotonic()
    data: bytes
    addr: tuple[str, int]

    @property
    def text(self) -> str:
        return self.data.decode(errors="replace")


class _Peer(ClosedAfterBlock, asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.received: list[Datagram] = []
        self._transport: asyncio.DatagramTransport | None = None
        self.host = ""
        self.port = 0

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # CPython's selector datagram transport does not subclass DatagramTransport
        self._transport = cast(asyncio.DatagramTransport, transport)
        sockname = transport.get_extra_info("sockname")
        self.host, self.port = sockname[0], sockname[1]

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.received.append(Datagram(time.monotonic(), data, (str(addr[0]), int(addr[1]))))

    def send(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self._transport is not None
        self._transport.sendto(data, addr)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


class SilentPeer(_Peer):
    """Reads everything, answers nothing: a dead carrier that still has an open port."""

    @classmethod
    async def start(cls, host: str = "127.0.0.1", port: int = 0) -> SilentPeer:
        loop = asyncio.get_running_loop()
        _, peer = await loop.create_datagram_endpoint(cls, local_addr=(host, port))
        return peer


class SipResponder(_Peer):
    """Answers every request (not ACK) with `status` right away, e.g. 200 or 503."""

    def __init__(self, status: int = 200, reason: str = "OK", record: bool = False) -> None:
        super().__init__()
        self._status_line = f"SIP/2.0 {status} {reason}".encode()
        self._record = record
        self.answered = 0

    @classmethod
    async def start(
        cls,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        status: int = 200,
        reason: str = "OK",
        record: bool = False,
    ) -> SipResponder:
        loop = asyncio.get_running_loop()
        _, peer = await loop.create_datagram_endpoint(
            lambda: cls(status, reason, record), local_addr=(host, port)
        )
        return peer

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if self._record:
            super().datagram_received(data, addr)
        reply = fast_response(data, self._status_line, b"resp1")
        if reply is not None and self._transport is not None:
            self._transport.sendto(reply, addr)
            self.answered += 1


class ScriptedPeer(_Peer):
    """A peer a test drives step by step: expect a request, answer it, send requests.

    Lets tests play carrier behaviours sipp cannot (Record-Route sets, 2xx retransmission
    after the ACK, a 200 crossing a CANCEL, delayed provisionals).
    """

    def __init__(self) -> None:
        super().__init__()
        self._inbox: asyncio.Queue[tuple[SipMessage, tuple[str, int]]] = asyncio.Queue()
        self.skipped: list[SipMessage] = []

    @classmethod
    async def start(cls, host: str = "127.0.0.1", port: int = 0) -> ScriptedPeer:
        loop = asyncio.get_running_loop()
        _, peer = await loop.create_datagram_endpoint(cls, local_addr=(host, port))
        return peer

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        super().datagram_received(data, addr)
        try:
            message = parse_message(data)
        except SipError:
            return
        self._inbox.put_nowait((message, (str(addr[0]), int(addr[1]))))

    async def expect_request(
        self, method: str, timeout: float = 5.0
    ) -> tuple[SipRequest, tuple[str, int]]:
        """The next `method` request; other messages arriving first are kept in `skipped`."""
        async with asyncio.timeout(timeout):
            while True:
                message, addr = await self._inbox.get()
                if isinstance(message, SipRequest) and message.method == method:
                    return message, addr
                self.skipped.append(message)

    async def expect_response(
        self, cseq_method: str, timeout: float = 5.0
    ) -> tuple[SipResponse, tuple[str, int]]:
        async with asyncio.timeout(timeout):
            while True:
                message, addr = await self._inbox.get()
                if isinstance(message, SipResponse) and message.cseq_method == cseq_method:
                    return message, addr
                self.skipped.append(message)

    def pending(self) -> list[SipMessage]:
        """Messages received but not consumed yet (drains the inbox)."""
        out: list[SipMessage] = []
        while not self._inbox.empty():
            out.append(self._inbox.get_nowait()[0])
        return out

    def respond(
        self,
        request: SipRequest,
        addr: tuple[str, int],
        status: int,
        reason: str,
        *,
        to_tag: str | None = "uas-tag",
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> bytes:
        response = build_response(
            request, status, reason, to_tag=to_tag, extra_headers=headers, body=body
        )
        data = response.to_bytes()
        self.send(data, addr)
        return data
