"""The SIP transport layer (RFC 3261 section 18): one UDP socket, a TCP listener on the same
port, and TCP/TLS connections to carriers (see `stream`), shared by every transaction and
dialog of the process.

Incoming messages, whatever carried them, go the same way: responses to the client
transaction named by (top Via branch, CSeq method); responses no transaction claims
(retransmitted 2xx after the INVITE transaction ended) and requests to the dialog registered
for their Call-ID, then to the out-of-dialog handler. Requests are handed over with the
address their responses must go to (section 18.2.2 and RFC 3581 rport): the connection they
came on, or over UDP the source address when they asked for rport, else the Via's sent-by
port at the source address.

Addresses: the socket binds `host` (the wildcard by default in the services); what messages
advertise comes from `advertised_host_for(target)`: the configured public address, else the
bound address, else (wildcard bind) the local address the kernel routes to the target.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, cast

from shared.sip.addresses import RoutedAddresses, is_unspecified, is_wildcard
from shared.sip.errors import SipError, SipParseError, TransportError
from shared.sip.guard import ThrottledLog
from shared.sip.ids import new_tag
from shared.sip.message import SipMessage, SipRequest, SipResponse, build_response
from shared.sip.parser import parse_message
from shared.sip.stream import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT,
    ErrorCallback,
    StreamPool,
    StreamStats,
)
from shared.sip.target import DEFAULT_PORTS, UDP, Destination, Target, as_target
from shared.sip.uri import format_host_port, split_unquoted
from shared.sip.via import parse_via, top_branch

log = logging.getLogger(__name__)

# Handlers receive a Target: a plain (host, port) still works where one is expected.
Address = Target
ResponseCallback = Callable[[SipResponse, Target], None]
RequestHandler = Callable[[SipRequest, Target, "SipTransport"], None]

DEFAULT_RCVBUF = 4 * 1024 * 1024
DEFAULT_MAX_IN_FLIGHT = 500
DEFAULT_MTU = 1500
_SO_RCVBUFFORCE = 33  # Linux; lets root exceed net.core.rmem_max
_BIND_TRIES = 20  # UDP and TCP must get the same ephemeral port
_MAX_LEARNED = 65536


class DialogHandler(Protocol):
    """What a dialog (e.g. OutboundCall) registers to receive its in-dialog traffic."""

    def on_request(self, request: SipRequest, addr: Target) -> None: ...

    def on_stray_response(self, response: SipResponse, addr: Target) -> None: ...


@dataclass(slots=True)
class TransportStats:
    received: int = 0
    sent: int = 0
    parse_errors: int = 0
    unmatched_responses: int = 0
    requests: int = 0
    handler_errors: int = 0
    udp_errors: int = 0  # sendto failures and ICMP errors the kernel reported


class SipTransport(asyncio.DatagramProtocol):
    """Create with `await SipTransport.create(...)`; close with `transport.close()`."""

    def __init__(
        self,
        *,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        tls_context: ssl.SSLContext | None = None,
        tls_ca_file: str | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        mtu: int = DEFAULT_MTU,
    ) -> None:
        self._transport: asyncio.DatagramTransport | None = None
        self._family = socket.AF_INET
        self.local_host = ""
        self.local_port = 0
        self.public_host = ""  # configured advertised address (1:1 NAT), "" when none
        self.rcvbuf = 0
        self.mtu = mtu
        # Caps requests awaiting their first response: beyond a few hundred the socket
        # buffers overflow and responses are lost, which would look like dead carriers.
        self.in_flight = asyncio.Semaphore(max_in_flight)
        self.max_in_flight = max_in_flight
        self._transactions: dict[tuple[str, str], ResponseCallback] = {}
        self._dialogs: dict[str, DialogHandler] = {}
        self.request_handler: RequestHandler = default_request_handler
        self.stats = TransportStats()
        self.routes = RoutedAddresses()
        self.streams = StreamPool(
            self._on_stream_message,
            tls_context=tls_context,
            tls_ca_file=tls_ca_file,
            connect_timeout=connect_timeout,
            idle_timeout=idle_timeout,
        )
        self._learned: dict[tuple[str, str, int], str] = {}  # Contact host:port per peer
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
        tcp: bool = True,
        tls_context: ssl.SSLContext | None = None,
        tls_ca_file: str | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        mtu: int = DEFAULT_MTU,
    ) -> SipTransport:
        """Bind UDP (and, with `tcp`, a TCP listener) on `host:port`; port 0: ephemeral, the
        same number for both. `advertise`: the address Via, Contact and SDP carry instead
        of the bound one (a host behind 1:1 NAT); never the wildcard.
        """
        if advertise and is_unspecified(advertise):
            raise ValueError(f"cannot advertise the wildcard address {advertise!r}")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        udp, listener = _bind_pair(family, host, port, rcvbuf, tcp)
        self = cls(
            max_in_flight=max_in_flight,
            tls_context=tls_context,
            tls_ca_file=tls_ca_file,
            connect_timeout=connect_timeout,
            idle_timeout=idle_timeout,
            mtu=mtu,
        )
        self._family = family
        self.routes = RoutedAddresses(family)
        bound = udp.getsockname()
        self.local_host, self.local_port = bound[0], bound[1]
        self.public_host = advertise or ""
        self.rcvbuf = udp.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, sock=udp)
        if listener is not None:
            await self.streams.listen(listener)
        return self

    # -- addresses -------------------------------------------------------------------------

    def advertised_host_for(self, destination: Destination | None = None) -> str:
        """The address to put in Via, Contact and SDP for messages to `destination`."""
        if self.public_host:
            return self.public_host
        if not is_wildcard(self.local_host):
            return self.local_host
        return self.routes.source_for(as_target(destination).host if destination else None)

    def sent_by_for(self, destination: Destination | None = None) -> str:
        """host:port for Via (TCP listens on the UDP port, so one port serves)."""
        return format_host_port(self.advertised_host_for(destination), self.local_port)

    def contact_for(self, destination: Destination | None = None) -> str:
        """host:port for Contact: as Via, unless the carrier told us (Via `received` and
        `rport` of a response, RFC 3581) that it sees us elsewhere, i.e. through a NAT
        nobody configured a public address for. Requests it sends us then find the way."""
        if not self.public_host and destination is not None:
            learned = self._learned.get(_learned_key(as_target(destination)))
            if learned is not None:
                return learned
        return self.sent_by_for(destination)

    @property
    def advertised_host(self) -> str:
        """Address advertised when no destination is known (the default route's source)."""
        return self.advertised_host_for(None)

    @property
    def sent_by(self) -> str:
        return self.sent_by_for(None)

    @property
    def is_ipv6(self) -> bool:
        return self._family == socket.AF_INET6

    def can_reach(self, host: str) -> bool:
        return (":" in host) == self.is_ipv6

    @property
    def max_udp_request(self) -> int:
        """Largest request that may go over UDP (RFC 3261 section 18.1.1: MTU less 200)."""
        return self.mtu - 200

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
        self.stats.udp_errors += 1
        log.debug("udp error: %s", exc)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self._on_message(data, Target(str(addr[0]), int(addr[1])))

    def _on_stream_message(self, data: bytes, peer: Target) -> None:
        self._on_message(data, peer)

    def _on_message(self, data: bytes, peer: Target) -> None:
        self.stats.received += 1
        try:
            message = parse_message(data)
        except SipError as exc:
            self.stats.parse_errors += 1
            log.debug("unparsable message from %s: %s", peer, exc)
            return
        except Exception as exc:  # a parser bug: drop this datagram, keep the socket
            self.stats.handler_errors += 1
            self._handler_errors.contained(exc, f"parsing a datagram from {peer[0]}:{peer[1]}")
            return
        try:
            if isinstance(message, SipResponse):
                self._dispatch_response(message, peer)
            else:
                self._dispatch_request(message, reply_target(message, peer))
        except SipError as exc:
            self.stats.parse_errors += 1
            log.debug("malformed message from %s: %s", peer, exc)
        except Exception as exc:
            # A bug met by one message (ours or a peer's oddity) must not stop the others.
            self.stats.handler_errors += 1
            self._handler_errors.contained(exc, f"message from {peer[0]}:{peer[1]}")

    def _dispatch_response(self, response: SipResponse, peer: Target) -> None:
        via = response.headers.get("via")
        if via is not None and "received=" in via and not self.public_host:
            self._learn(via, peer)
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

    def _dispatch_request(self, request: SipRequest, reply_to: Target) -> None:
        self.stats.requests += 1
        _check_request(request)
        dialog = self._dialogs.get(request.call_id)
        if dialog is not None:
            dialog.on_request(request, reply_to)
        else:
            self.request_handler(request, reply_to, self)

    def _learn(self, via_line: str, peer: Target) -> None:
        """Remember how `peer` sees us when it says it is not how we advertised ourselves."""
        top = parse_via(split_unquoted(via_line, ",")[0])
        received = top.received
        if not received or is_unspecified(received):
            return
        learned = format_host_port(received, top.rport or self.local_port)
        if learned == format_host_port(top.host, top.port):
            return
        if len(self._learned) >= _MAX_LEARNED:
            self._learned.clear()
        self._learned[_learned_key(peer)] = learned

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

    def watch(self, destination: Target, callback: ErrorCallback) -> None:
        """Be told when the connection to `destination` fails (no-op for UDP)."""
        if destination.reliable:
            self.streams.watch(destination, callback)

    def unwatch(self, destination: Target, callback: ErrorCallback) -> None:
        if destination.reliable:
            self.streams.unwatch(destination, callback)

    def pin(self, destination: Target) -> None:
        """Keep the connection to `destination` open while idle (a call in progress)."""
        if destination.reliable:
            self.streams.pin(destination)

    def unpin(self, destination: Target) -> None:
        if destination.reliable:
            self.streams.unpin(destination)

    @property
    def stream_stats(self) -> StreamStats:
        return self.streams.stats

    # -- sending ---------------------------------------------------------------------------

    def send(self, data: bytes, destination: Destination) -> None:
        target = as_target(destination)
        if target.transport != UDP:
            if not self.can_reach(target.host):
                raise TransportError(f"cannot reach {target.host} from {self.local_host}")
            self.streams.send(target, data)
            self.stats.sent += 1
            return
        if self._transport is None or self._transport.is_closing():
            raise TransportError("transport is closed")
        if not self.can_reach(target.host):
            raise TransportError(
                f"cannot reach {target.host} from a socket bound to {self.local_host}"
            )
        self._transport.sendto(data, target.address)
        self.stats.sent += 1

    def send_message(self, message: SipMessage, destination: Destination) -> None:
        self.send(message.to_bytes(), destination)

    @property
    def closed(self) -> bool:
        return self._transport is None or self._transport.is_closing()

    def close(self) -> None:
        self.streams.close()
        if self._transport is not None:
            self._transport.close()

    async def wait_closed(self) -> None:
        await self.streams.wait_closed()
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


# The name from the UDP-only days; the class now carries TCP and TLS as well.
UdpTransport = SipTransport


def _learned_key(target: Target) -> tuple[str, str, int]:
    return (target.transport, target.host, target.port)


def reply_target(request: SipRequest, peer: Target) -> Target:
    """Where responses to `request` go (RFC 3261 section 18.2.2, RFC 3581 section 4).

    The top Via is stamped with `received` (when its host is not the source address) and
    with the source port when it carries an empty `rport`, so every response built from the
    request echoes them.
    """
    vias = request.headers.get_list("via")
    if not vias:
        return peer
    via = parse_via(vias[0])
    stamped = False
    if via.host != peer.host:
        via.params["received"] = peer.host
        stamped = True
    wants_rport = "rport" in via.params
    if wants_rport:
        via.params["rport"] = str(peer.port)
        stamped = True
    if stamped:
        request.headers.replace_first_element("via", str(via))
    if peer.reliable or wants_rport:
        return peer
    return Target(peer.host, via.port or DEFAULT_PORTS[UDP])


def _bind_pair(
    family: int, host: str, port: int, rcvbuf: int, tcp: bool
) -> tuple[socket.socket, socket.socket | None]:
    """UDP and TCP sockets on the same host:port (when `tcp`)."""
    last_error: OSError | None = None
    for _ in range(_BIND_TRIES if port == 0 else 1):
        udp = socket.socket(family, socket.SOCK_DGRAM)
        try:
            _raise_rcvbuf(udp, rcvbuf)
            udp.setblocking(False)
            udp.bind((host, port))
        except OSError:
            udp.close()
            raise
        if not tcp:
            return udp, None
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((host, udp.getsockname()[1]))
            listener.listen(256)
            listener.setblocking(False)
        except OSError as exc:
            listener.close()
            udp.close()
            last_error = exc
            continue
        return udp, listener
    assert last_error is not None
    raise last_error


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


def default_request_handler(request: SipRequest, addr: Target, transport: SipTransport) -> None:
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
