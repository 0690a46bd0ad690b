"""UDP transport (RFC 3261 section 18): one socket shared by every transaction and dialog.

Incoming responses go to the client transaction named by (top Via branch, CSeq method);
responses no transaction claims (retransmitted 2xx after the INVITE transaction ended) and
requests go to the dialog registered for their Call-ID, then to the out-of-dialog handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, cast

from shared.sip.errors import SipError, SipParseError, TransportError
from shared.sip.guard import ThrottledLog
from shared.sip.ids import new_tag
from shared.sip.message import SipMessage, SipRequest, SipResponse, build_response
from shared.sip.parser import parse_message
from shared.sip.uri import format_host_port
from shared.sip.via import top_branch

log = logging.getLogger(__name__)

Address = tuple[str, int]
ResponseCallback = Callable[[SipResponse, Address], None]
RequestHandler = Callable[[SipRequest, Address, "UdpTransport"], None]

DEFAULT_RCVBUF = 4 * 1024 * 1024
DEFAULT_MAX_IN_FLIGHT = 500
_SO_RCVBUFFORCE = 33  # Linux; lets root exceed net.core.rmem_max


class DialogHandler(Protocol):
    """What a dialog (e.g. OutboundCall) registers to receive its in-dialog traffic."""

    def on_request(self, request: SipRequest, addr: Address) -> None: ...

    def on_stray_response(self, response: SipResponse, addr: Address) -> None: ...


@dataclass(slots=True)
class TransportStats:
    received: int = 0
    sent: int = 0
    parse_errors: int = 0
    unmatched_responses: int = 0
    requests: int = 0
    handler_errors: int = 0


class UdpTransport(asyncio.DatagramProtocol):
    """Create with `await UdpTransport.create(...)`; close with `transport.close()`."""

    def __init__(self, *, max_in_flight: int = DEFAULT_MAX_IN_FLIGHT) -> None:
        self._transport: asyncio.DatagramTransport | None = None
        self._family = socket.AF_INET
        self.local_host = ""
        self.local_port = 0
        self.advertised_host = ""
        self.rcvbuf = 0
        # Caps requests awaiting their first response: beyond a few hundred the socket
        # buffers overflow and responses are lost, which would look like dead carriers.
        self.in_flight = asyncio.Semaphore(max_in_flight)
        self.max_in_flight = max_in_flight
        self._transactions: dict[tuple[str, str], ResponseCallback] = {}
        self._dialogs: dict[str, DialogHandler] = {}
        self.request_handler: RequestHandler = default_request_handler
        self.stats = TransportStats()
        self._closed = asyncio.Event()
        self._handler_errors = ThrottledLog(log, "sip.dispatch")

    @classmethod
    async def create(
        cls,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        rcvbuf: int = DEFAULT_RCVBUF,
        advertise: str | None = None,
    ) -> UdpTransport:
        """Bind `host:port` (port 0: ephemeral). `advertise` replaces the bound host in Via,
        Contact and SDP, for a socket bound to 0.0.0.0 or behind static NAT.
        """
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            _raise_rcvbuf(sock, rcvbuf)
            sock.setblocking(False)
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        self = cls(max_in_flight=max_in_flight)
        self._family = family
        bound = sock.getsockname()
        self.local_host, self.local_port = bound[0], bound[1]
        self.advertised_host = advertise or self.local_host
        self.rcvbuf = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, sock=sock)
        return self

    # -- addresses -------------------------------------------------------------------------

    @property
    def sent_by(self) -> str:
        """host:port for Via and Contact."""
        return format_host_port(self.advertised_host, self.local_port)

    @property
    def is_ipv6(self) -> bool:
        return self._family == socket.AF_INET6

    def can_reach(self, host: str) -> bool:
        return (":" in host) == self.is_ipv6

    # -- asyncio protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # CPython's selector datagram transport does not subclass DatagramTransport
        self._transport = cast(asyncio.DatagramTransport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._closed.set()

    def error_received(self, exc: Exception) -> None:
        # ICMP errors carry no usable peer address on an unconnected socket; the transaction
        # timers decide the outcome anyway.
        log.debug("udp error: %s", exc)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.stats.received += 1
        peer: Address = (str(addr[0]), int(addr[1]))
        try:
            message = parse_message(data)
        except SipError as exc:
            self.stats.parse_errors += 1
            log.debug("unparsable datagram from %s: %s", peer, exc)
            return
        except Exception as exc:  # a parser bug: drop this datagram, keep the socket
            self.stats.handler_errors += 1
            self._handler_errors.contained(exc, f"parsing a datagram from {peer[0]}:{peer[1]}")
            return
        try:
            if isinstance(message, SipResponse):
                self._dispatch_response(message, peer)
            else:
                self._dispatch_request(message, peer)
        except SipError as exc:
            self.stats.parse_errors += 1
            log.debug("malformed message from %s: %s", peer, exc)
        except Exception as exc:
            # A bug met by one message (ours or a peer's oddity) must not stop the others.
            self.stats.handler_errors += 1
            self._handler_errors.contained(exc, f"message from {peer[0]}:{peer[1]}")

    def _dispatch_response(self, response: SipResponse, peer: Address) -> None:
        via = response.headers.get("via")
        branch = top_branch(via) if via else None
        if branch is not None:
            callback = self._transactions.get((branch, response.cseq_method))
            if callback is not None:
                callback(response, peer)
                return
        dialog = self._dialogs.get(response.call_id)
        if dialog is not None:
            dialog.on_stray_response(response, peer)
            return
        self.stats.unmatched_responses += 1

    def _dispatch_request(self, request: SipRequest, peer: Address) -> None:
        self.stats.requests += 1
        _check_request(request)
        dialog = self._dialogs.get(request.call_id)
        if dialog is not None:
            dialog.on_request(request, peer)
        else:
            self.request_handler(request, peer, self)

    # -- registrations ---------------------------------------------------------------------

    def register_transaction(self, branch: str, method: str, callback: ResponseCallback) -> None:
        self._transactions[(branch, method)] = callback

    def unregister_transaction(self, branch: str, method: str) -> None:
        self._transactions.pop((branch, method), None)

    def register_dialog(self, call_id: str, handler: DialogHandler) -> None:
        self._dialogs[call_id] = handler

    def unregister_dialog(self, call_id: str) -> None:
        self._dialogs.pop(call_id, None)

    @property
    def active_transactions(self) -> int:
        return len(self._transactions)

    # -- sending ---------------------------------------------------------------------------

    def send(self, data: bytes, addr: Address) -> None:
        if self._transport is None or self._transport.is_closing():
            raise TransportError("transport is closed")
        if not self.can_reach(addr[0]):
            raise TransportError(f"cannot reach {addr[0]} from a socket bound to {self.local_host}")
        self._transport.sendto(data, addr)
        self.stats.sent += 1

    def send_message(self, message: SipMessage, addr: Address) -> None:
        self.send(message.to_bytes(), addr)

    @property
    def closed(self) -> bool:
        return self._transport is None or self._transport.is_closing()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    async def wait_closed(self) -> None:
        if self._transport is not None:
            await self._closed.wait()


def _check_request(request: SipRequest) -> None:
    """RFC 3261 section 8.1.1: a request lacking these cannot be answered; raise to drop it."""
    for name in ("from", "to", "call-id"):
        if not request.headers.get(name):
            raise SipParseError(f"request without {name}")
    if not request.vias:
        raise SipParseError("request without Via")
    if request.cseq[1] != request.method.upper():
        raise SipParseError("CSeq method differs from the request method")


def _raise_rcvbuf(sock: socket.socket, size: int) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    # Linux reports twice the granted size; below `size` means rmem_max capped the request.
    if sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) < size:
        try:
            sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, size)
        except OSError:
            log.warning(
                "SO_RCVBUF capped at %d bytes", sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
            )


def default_request_handler(request: SipRequest, addr: Address, transport: UdpTransport) -> None:
    """Out-of-dialog requests: we are a client, so only OPTIONS gets a friendly answer."""
    if request.method == "ACK":
        return  # never answered (RFC 3261 section 17)
    tag = new_tag()
    if request.method == "OPTIONS":
        response = build_response(
            request,
            200,
            "OK",
            to_tag=tag,
            extra_headers=[("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS")],
        )
    elif request.method in ("BYE", "CANCEL"):
        response = build_response(request, 481, "Call/Transaction Does Not Exist", to_tag=tag)
    else:
        response = build_response(
            request,
            405,
            "Method Not Allowed",
            to_tag=tag,
            extra_headers=[("Allow", "ACK, CANCEL, BYE, OPTIONS")],
        )
    with contextlib.suppress(TransportError):
        transport.send_message(response, addr)
