"""SIP over TCP and TLS (RFC 3261 section 18): one connection per remote target, reused.

`StreamPool.send(target, data)` never waits: with no open connection to the target it starts
one and queues the data until it is up, so transactions keep sending from timer callbacks
as over UDP. What can go wrong on a connection (refused, TLS certificate not accepted,
reset, closed by the peer) is told to whoever `watch()`es that target, so a transaction
fails at once with the reason instead of waiting for its timer. A broken connection is
dropped and the next send opens a fresh one (reconnect); connections nobody has used for
`idle_timeout` are closed unless something `pin()`s them (an established call whose carrier
may send its BYE over it). Connections the carrier opens to our listener are pooled the same
way, under the carrier's address, so answers and our later requests go back over them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from shared.metrics import SIP_CONNECTIONS, SIP_CONNECTIONS_OPEN
from shared.sip.errors import SipParseError, TransportError
from shared.sip.framing import DEFAULT_MAX_MESSAGE, StreamFramer
from shared.sip.target import TCP, TLS, Target
from shared.sip.tls import client_context, describe_tls_error

log = logging.getLogger(__name__)

ConnectionKey = tuple[str, str, int]  # (transport, host, port)
MessageHandler = Callable[[bytes, Target], None]
ErrorCallback = Callable[[TransportError], None]

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_IDLE_TIMEOUT = 120.0
MAX_QUEUED_BYTES = 1 << 20  # written while the connection is still being set up


def connection_key(target: Target) -> ConnectionKey:
    return (target.transport, target.host, target.port)


@dataclass(slots=True)
class StreamStats:
    opened: int = 0
    accepted: int = 0
    failed: int = 0
    closed_idle: int = 0
    lost: int = 0
    messages: int = 0
    framing_errors: int = 0


class StreamConnection(asyncio.Protocol):
    """One TCP or TLS connection, ours (outbound) or the carrier's (accepted)."""

    def __init__(self, pool: StreamPool, target: Target | None, *, outbound: bool) -> None:
        self.pool = pool
        self.target = target  # None until an accepted connection knows its peer
        self.outbound = outbound
        self.framer = StreamFramer(pool.max_message)
        self.last_activity = time.monotonic()
        self.established = False
        self.closed = False
        self._transport: asyncio.Transport | None = None
        self._queued: list[bytes] = []
        self._queued_bytes = 0

    @property
    def key(self) -> ConnectionKey:
        assert self.target is not None
        return connection_key(self.target)

    # -- asyncio protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.target is None:
            peer = transport.get_extra_info("peername")
            self.target = Target(str(peer[0]), int(peer[1]), self.pool.listen_transport)
        self.established = True
        self.last_activity = time.monotonic()
        self.pool._on_established(self)
        queued, self._queued = self._queued, []
        self._queued_bytes = 0
        for data in queued:
            self._transport.write(data)

    def data_received(self, data: bytes) -> None:
        self.last_activity = time.monotonic()
        pings = self.framer.pings
        try:
            messages = self.framer.feed(data)
        except SipParseError as exc:
            self.pool.stats.framing_errors += 1
            log.info("closing %s: unframable stream: %s", self.target, exc)
            self.abort(TransportError(f"connection to {self.target} closed: {exc}"))
            return
        if self.framer.pings != pings and self._transport is not None:
            self._transport.write(b"\r\n" * (self.framer.pings - pings))  # RFC 5626 pong
        assert self.target is not None
        for message in messages:
            self.pool.stats.messages += 1
            self.pool.on_message(message, self.target)

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        error = None
        if not self.closed:
            self.closed = True
            reason = f"{exc}" if exc else "closed by the peer"
            error = TransportError(f"connection to {self.target} lost: {reason}")
        self.pool._on_lost(self, error)

    # -- use -------------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self.closed:
            raise TransportError(f"connection to {self.target} is closed")
        self.last_activity = time.monotonic()
        if self._transport is None:
            if self._queued_bytes + len(data) > MAX_QUEUED_BYTES:
                raise TransportError(f"too much queued for {self.target} while connecting")
            self._queued.append(data)
            self._queued_bytes += len(data)
            return
        self._transport.write(data)

    def close(self) -> None:
        """Orderly close; nobody is told (nobody was waiting)."""
        self.closed = True
        if self._transport is not None:
            self._transport.close()

    def abort(self, error: TransportError) -> None:
        """Drop the connection now and tell whoever waits on it."""
        if self.closed:
            return
        self.closed = True
        self.pool._forget(self)
        if self.target is not None:
            self.pool._notify(self.key, error)
        if self._transport is not None:
            self._transport.abort()


class StreamPool:
    def __init__(
        self,
        on_message: MessageHandler,
        *,
        tls_context: ssl.SSLContext | None = None,
        tls_ca_file: str | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        max_message: int = DEFAULT_MAX_MESSAGE,
    ) -> None:
        self.on_message = on_message
        self._tls_context = tls_context
        self.tls_ca_file = tls_ca_file
        self.connect_timeout = connect_timeout
        self.idle_timeout = idle_timeout
        self.max_message = max_message
        self.listen_transport = TCP
        self.stats = StreamStats()
        self._connections: dict[ConnectionKey, StreamConnection] = {}
        self._watchers: dict[ConnectionKey, set[ErrorCallback]] = {}
        self._pins: dict[ConnectionKey, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._servers: list[asyncio.Server] = []
        self._sweeper: asyncio.TimerHandle | None = None
        self._closed = False

    @property
    def tls_context(self) -> ssl.SSLContext:
        if self._tls_context is None:
            self._tls_context = client_context(self.tls_ca_file)
        return self._tls_context

    def __len__(self) -> int:
        return len(self._connections)

    def connection(self, target: Target) -> StreamConnection | None:
        return self._connections.get(connection_key(target))

    # -- sending ---------------------------------------------------------------------------

    def send(self, target: Target, data: bytes) -> None:
        if self._closed:
            raise TransportError("transport is closed")
        key = connection_key(target)
        conn = self._connections.get(key)
        if conn is None or conn.closed:
            conn = self._open(target)
        conn.write(data)

    def _open(self, target: Target) -> StreamConnection:
        conn = StreamConnection(self, target, outbound=True)
        self._connections[connection_key(target)] = conn
        task = asyncio.get_running_loop().create_task(self._connect(conn, target))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._start_sweeper()
        return conn

    async def _connect(self, conn: StreamConnection, target: Target) -> None:
        loop = asyncio.get_running_loop()
        tls = target.transport == TLS
        try:
            async with asyncio.timeout(self.connect_timeout):
                await loop.create_connection(
                    lambda: conn,
                    target.host,
                    target.port,
                    ssl=self.tls_context if tls else None,
                    server_hostname=target.tls_name if tls else None,
                )
        except TimeoutError:
            reason = f"no connection within {self.connect_timeout:g}s"
        except (ssl.SSLError, ssl.CertificateError) as exc:
            reason = describe_tls_error(exc)
        except OSError as exc:
            # asyncio's "Connect call failed (...)" hides the cause; errno names it
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
        else:
            return
        self.stats.failed += 1
        SIP_CONNECTIONS.labels(target.transport, "outbound", "failed").inc()
        what = "TLS" if tls else "TCP"
        error = TransportError(f"{what} connection to {target.host}:{target.port} failed: {reason}")
        log.info("%s", error)
        conn.closed = True
        self._forget(conn)
        self._notify(connection_key(target), error)

    # -- connection events -----------------------------------------------------------------

    def _on_established(self, conn: StreamConnection) -> None:
        assert conn.target is not None
        if conn.outbound:
            self.stats.opened += 1
        else:
            self.stats.accepted += 1
            old = self._connections.get(conn.key)
            if old is not None and old is not conn:
                old.close()
            self._connections[conn.key] = conn
        direction = "outbound" if conn.outbound else "inbound"
        SIP_CONNECTIONS.labels(conn.target.transport, direction, "opened").inc()
        SIP_CONNECTIONS_OPEN.labels(conn.target.transport).inc()

    def _on_lost(self, conn: StreamConnection, error: TransportError | None) -> None:
        """Every connection ends here once; `error` is None when we closed it ourselves."""
        if conn.established:
            assert conn.target is not None
            SIP_CONNECTIONS_OPEN.labels(conn.target.transport).dec()
            conn.established = False
        self._forget(conn)
        if error is not None and conn.target is not None:
            self.stats.lost += 1
            self._notify(conn.key, error)

    def _forget(self, conn: StreamConnection) -> None:
        if conn.target is not None and self._connections.get(conn.key) is conn:
            del self._connections[conn.key]

    def _notify(self, key: ConnectionKey, error: TransportError) -> None:
        for callback in list(self._watchers.get(key, ())):
            try:
                callback(error)
            except Exception:
                log.exception("transport error callback failed")

    # -- who waits on what -----------------------------------------------------------------

    def watch(self, target: Target, callback: ErrorCallback) -> None:
        self._watchers.setdefault(connection_key(target), set()).add(callback)

    def unwatch(self, target: Target, callback: ErrorCallback) -> None:
        key = connection_key(target)
        watchers = self._watchers.get(key)
        if watchers is not None:
            watchers.discard(callback)
            if not watchers:
                del self._watchers[key]

    def pin(self, target: Target) -> None:
        key = connection_key(target)
        self._pins[key] = self._pins.get(key, 0) + 1

    def unpin(self, target: Target) -> None:
        key = connection_key(target)
        count = self._pins.get(key, 0) - 1
        if count > 0:
            self._pins[key] = count
        else:
            self._pins.pop(key, None)

    # -- idle close ------------------------------------------------------------------------

    def _start_sweeper(self) -> None:
        if self._sweeper is None and not self._closed:
            interval = max(1.0, self.idle_timeout / 4)
            self._sweeper = asyncio.get_running_loop().call_later(interval, self._sweep)

    def _sweep(self) -> None:
        self._sweeper = None
        cutoff = time.monotonic() - self.idle_timeout
        for key, conn in list(self._connections.items()):
            if (
                conn.established
                and conn.last_activity < cutoff
                and not self._watchers.get(key)
                and not self._pins.get(key)
            ):
                self.stats.closed_idle += 1
                self._forget(conn)
                conn.close()
        if self._connections:
            self._start_sweeper()

    # -- listening -------------------------------------------------------------------------

    async def listen(self, sock: socket.socket) -> None:
        """Accept carrier-opened TCP connections on an already bound socket."""
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: StreamConnection(self, None, outbound=False), sock=sock
        )
        self._servers.append(server)
        self._start_sweeper()

    # -- shutdown --------------------------------------------------------------------------

    def close(self) -> None:
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for server in self._servers:
            server.close()
        for conn in list(self._connections.values()):
            conn.close()
        self._connections.clear()
        for task in self._tasks:
            task.cancel()

    async def wait_closed(self) -> None:
        for server in self._servers:
            await server.wait_closed()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def raise_open_files_limit() -> int:
    """Lift the soft limit of open files to the hard one: one TCP/TLS connection per carrier
    (thousands for a health-checker) must not hit a 1024 default. Returns the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
